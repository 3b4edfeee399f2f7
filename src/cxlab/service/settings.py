"""Service settings, validated once at start-up (no work at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cxlab.exceptions import InputDataError

#: Most rows in one prediction request; more is refused with 413.
MAX_ROWS = 10_000
#: Largest request body in bytes (a 10,000-row request of 40 features is about 6 MB).
MAX_BODY_BYTES = 16 * 1024 * 1024
ENV_KEYS = "CXLAB_API_KEYS"


def read_api_keys(*, env: str | None = None, key_file: Path | None = None) -> tuple[str, ...]:
    """API keys from ``CXLAB_API_KEYS`` (comma-separated) and/or a file (one key a line, ``#`` comments)."""
    keys: list[str] = []
    if env:
        keys += [k.strip() for k in env.split(",") if k.strip()]
    if key_file is not None:
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputDataError(f"{key_file}: cannot read the API key file ({err.__class__.__name__}).") from err
        keys += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    short = [k for k in keys if len(k) < 16]
    if short:
        raise InputDataError(
            f"API keys must have at least 16 characters; {len(short)} of {len(keys)} are shorter. "
            "Make keys with e.g. 'python -c \"import secrets; print(secrets.token_urlsafe(32))\"'."
        )
    return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class Settings:
    """What ``cxlab serve`` runs with.

    Parameters
    ----------
    models_dir
        Folder searched for model bundles (itself a bundle, or holding several).
    api_keys
        Accepted bearer keys; at least one (the service never runs open).
    max_rows, max_body_bytes
        Limits of one request (413 beyond them).
    """

    models_dir: Path
    api_keys: tuple[str, ...] = field(repr=False)
    max_rows: int = MAX_ROWS
    max_body_bytes: int = MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise InputDataError(
                f"serve: no API key; set {ENV_KEYS}=KEY1,KEY2 or give --api-key-file FILE (one key a line). "
                "The service does not run without keys."
            )
        if not 1 <= self.max_rows <= 1_000_000:
            raise InputDataError(f"serve: max_rows must be 1 to 1,000,000; got {self.max_rows:,}.")
        if not 1_024 <= self.max_body_bytes <= 1_024**3:
            raise InputDataError(f"serve: max_body_bytes must be 1 KiB to 1 GiB; got {self.max_body_bytes:,}.")
        if not Path(self.models_dir).is_dir():
            raise InputDataError(f"serve: --models {self.models_dir} is not a folder; give the folder of model bundles.")

    @classmethod
    def from_env(cls, models_dir: Path, *, api_key_file: Path | None = None) -> Settings:
        """Settings with keys from ``CXLAB_API_KEYS`` and ``api_key_file``."""
        return cls(models_dir=Path(models_dir), api_keys=read_api_keys(env=os.environ.get(ENV_KEYS), key_file=api_key_file))
