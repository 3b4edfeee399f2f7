"""Writing and reading bundles (see :mod:`cxlab.bundle`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cxlab._fs import inside, safe_name, staged_dir
from cxlab.exceptions import InputDataError

#: The format tag in every ``model.json``; a reader refuses any other.
FORMAT = "cxlab.bundle/1"

#: Every kind of model cxlab writes. A bundle of another kind is refused.
KINDS = frozenset({
    "clv.betageo",
    "clv.paretonbd",
    "clv.gammagamma",
    "clv.grouped",
    "satisfaction",
    "uplift",
    "churn",
})

MODEL_JSON = "model.json"
SUMS = "SHA256SUMS"
_RESERVED_KEYS = ("format", "kind", "cxlab_version", "created_at", "files")
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")
#: A bundle larger than this is refused before it is read (a model is a few MB).
MAX_BUNDLE_BYTES = 512 * 1024 * 1024


class BundleError(InputDataError):
    """A model bundle is missing, tampered with, of an unknown format or kind, or unreadable."""


def _check_name(name: str, who: str) -> str:
    """A bundle file name: relative, POSIX separators, safe parts only."""
    parts = PurePosixPath(name).parts if isinstance(name, str) else ()
    if (
        not isinstance(name, str)
        or not parts
        or name != "/".join(parts)
        or any(p in (".", "..") or not _PART.match(p) for p in parts)
    ):
        raise BundleError(
            f"{who}: bundle file names must be relative paths of letters, digits, '_', '-' and '.' "
            f"(not starting with '.'), e.g. 'params.json' or 'groups/g-UK-0123456789/params.json'; "
            f"got {name!r}."
        )
    if name in (MODEL_JSON, SUMS):
        raise BundleError(f"{who}: '{name}' is written by the bundle itself; give the model's files another name.")
    return name


def _json_safe(value: Any, where: str) -> None:
    """Refuse what JSON cannot carry faithfully (NaN, objects) with the key that holds it."""
    if isinstance(value, float) and not math.isfinite(value):
        raise BundleError(f"write_bundle: metadata '{where}' is {value}; JSON has no NaN or infinity. Use null.")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise BundleError(f"write_bundle: metadata '{where}' has a key {k!r} that is not text.")
            _json_safe(v, f"{where}.{k}" if where else k)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _json_safe(v, f"{where}[{i}]")
    elif not isinstance(value, (str, int, float, bool, type(None))):
        raise BundleError(
            f"write_bundle: metadata '{where}' is a {type(value).__name__}; only JSON values "
            "(text, numbers, true/false, null, lists, objects) go into model.json."
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bundle(
    out_dir: Path,
    *,
    kind: str,
    files: Mapping[str, str | bytes],
    metadata: Mapping[str, Any],
) -> Path:
    """Write a bundle to ``out_dir`` (replaced whole, never mixed); return it.

    Parameters
    ----------
    out_dir
        The bundle folder. It is written to a staging sibling and renamed into
        place at the end; on an error or Ctrl-C the old folder stays as it was.
    kind
        One of :data:`KINDS`, e.g. ``"clv.betageo"`` or ``"satisfaction"``.
    files
        Relative safe names (``params.json``, ``groups/<safe_name>/params.json``)
        to their content: text (written as UTF-8) or bytes.
    metadata
        JSON values stored in ``model.json`` next to the format tag: features
        (names and types), training-data fingerprint, evaluation figures, params.
    """
    from cxlab import __version__

    if kind not in KINDS:
        raise BundleError(f"write_bundle: kind must be one of {', '.join(sorted(KINDS))}; got {kind!r}.")
    clash = [k for k in _RESERVED_KEYS if k in metadata]
    if clash:
        raise BundleError(f"write_bundle: metadata keys {clash} are set by the bundle itself; rename them.")
    _json_safe(dict(metadata), "")
    contents: dict[str, bytes] = {}
    for name, content in files.items():
        _check_name(name, "write_bundle")
        if not isinstance(content, (str, bytes)):
            raise BundleError(f"write_bundle: file '{name}' must be text or bytes; got {type(content).__name__}.")
        contents[name] = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    lowered = [n.lower() for n in contents]
    if len(set(lowered)) != len(lowered):
        raise BundleError("write_bundle: two file names differ only in case; they would collide on some file systems.")
    model = {
        "format": FORMAT,
        "kind": kind,
        "cxlab_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **metadata,
        "files": sorted(contents),
    }
    contents[MODEL_JSON] = (json.dumps(model, indent=2, allow_nan=False) + "\n").encode("utf-8")
    sums = "".join(f"{_sha256(data)}  {name}\n" for name, data in sorted(contents.items()))
    with staged_dir(Path(out_dir)) as staging:
        for name, data in contents.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (staging / SUMS).write_text(sums, encoding="utf-8")
    return Path(out_dir)


@dataclass(frozen=True)
class Bundle:
    """A verified bundle: its kind, ``model.json`` content and checked file bytes."""

    path: Path
    kind: str
    metadata: dict[str, Any]
    _files: dict[str, bytes] = field(repr=False)

    @property
    def files(self) -> tuple[str, ...]:
        """The model's file names (without ``model.json`` and ``SHA256SUMS``)."""
        return tuple(sorted(self._files))

    def bytes(self, name: str) -> bytes:
        """The verified content of file ``name``."""
        try:
            return self._files[name]
        except KeyError:
            raise BundleError(
                f"{self.path}: the {self.kind} bundle has no file '{name}' (it has: {', '.join(self.files) or 'none'}); "
                "it was written by another cxlab version or for another model. Fit the model again."
            ) from None

    def text(self, name: str) -> str:
        """File ``name`` as UTF-8 text."""
        try:
            return self.bytes(name).decode("utf-8")
        except UnicodeDecodeError as err:
            raise BundleError(f"{self.path / name}: not UTF-8 text ({err}).") from err

    def json(self, name: str) -> Any:
        """File ``name`` parsed as JSON."""
        try:
            return json.loads(self.text(name))
        except json.JSONDecodeError as err:
            raise BundleError(f"{self.path / name}: not valid JSON ({err}).") from err


def _not_a_bundle(path: Path, what: str) -> BundleError:
    return BundleError(
        f"{path}: not a cxlab model bundle ({what}); expected a folder written by a 'cxlab ... fit' command "
        "(model.json, SHA256SUMS and the model files). Give the folder given to --out when fitting."
    )


def _read_sums(path: Path) -> dict[str, str]:
    try:
        text = (path / SUMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _not_a_bundle(path, f"no {SUMS}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BundleError(f"{path / SUMS}: cannot read it ({err}).") from err
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SUM_LINE.match(line)
        if match is None:
            raise BundleError(f"{path / SUMS}: line {number} is not '<sha256>  <file>'; the bundle was changed.")
        digest, name = match.groups()
        if name != MODEL_JSON:
            try:
                _check_name(name, str(path / SUMS))
            except BundleError:
                raise BundleError(
                    f"{path / SUMS}: line {number} names '{name}', a path that leaves the bundle or is not a "
                    "bundle file name; the bundle was tampered with. Refusing to read it."
                ) from None
        inside(path, name)  # a link out of the folder is refused as well
        if name in sums:
            raise BundleError(f"{path / SUMS}: '{name}' is listed twice; the bundle was changed.")
        sums[name] = digest
    if MODEL_JSON not in sums:
        raise BundleError(f"{path / SUMS}: does not list {MODEL_JSON}; the bundle was changed.")
    return sums


def read_bundle(path: Path, kind: str | tuple[str, ...] | None = None) -> Bundle:
    """Read and verify the bundle in ``path``.

    Every file listed in ``SHA256SUMS`` is read and its checksum compared; a
    changed file is refused naming it. ``model.json`` must carry the format tag
    :data:`FORMAT`, a kind in :data:`KINDS` (and in ``kind`` when given) and
    list exactly the files of ``SHA256SUMS``. Nothing is unpickled.
    """
    path = Path(path)
    if not path.is_dir():
        raise _not_a_bundle(path, "no such folder" if not path.exists() else "a file, not a folder")
    sums = _read_sums(path)
    total = 0
    verified: dict[str, bytes] = {}
    for name, digest in sums.items():
        file = inside(path, name)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise BundleError(f"{path / name}: listed in {SUMS} but missing; the bundle is incomplete. Fit again.") from None
        except OSError as err:
            raise BundleError(f"{path / name}: cannot read it ({err}).") from err
        total += len(data)
        if total > MAX_BUNDLE_BYTES:
            raise BundleError(f"{path}: larger than {MAX_BUNDLE_BYTES:,} bytes; not a cxlab model bundle.")
        if _sha256(data) != digest:
            raise BundleError(
                f"{path / name}: checksum does not match {SUMS}; the file was changed or damaged after the "
                "model was written. Refusing the bundle; fit the model again or restore the folder."
            )
        verified[name] = data
    try:
        model = json.loads(verified.pop(MODEL_JSON).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"{path / MODEL_JSON}: not valid JSON ({err}).") from err
    if not isinstance(model, dict) or model.get("format") != FORMAT:
        got = model.get("format") if isinstance(model, dict) else type(model).__name__
        raise BundleError(
            f"{path / MODEL_JSON}: format must be {FORMAT!r}; got {got!r}. The folder was written by another "
            "program or an incompatible cxlab version; fit the model again."
        )
    got_kind = model.get("kind")
    if got_kind not in KINDS:
        raise BundleError(
            f"{path / MODEL_JSON}: unknown model kind {got_kind!r}; this cxlab reads {', '.join(sorted(KINDS))}."
        )
    wanted = (kind,) if isinstance(kind, str) else kind
    if wanted is not None and got_kind not in wanted:
        raise BundleError(
            f"{path}: a {got_kind} bundle, but a {' or '.join(wanted)} model is needed here; give a folder "
            f"written by the matching fit command."
        )
    listed = model.get("files")
    if not isinstance(listed, list) or sorted(listed) != sorted(verified):
        raise BundleError(
            f"{path / MODEL_JSON}: its file list does not match {SUMS}; the bundle was changed. Fit again."
        )
    return Bundle(path=path, kind=got_kind, metadata=model, _files=verified)


def group_dir(value: object) -> str:
    """The folder of a group's sub-model inside a bundle: ``groups/<safe name>``.

    The name comes from :func:`cxlab._fs.safe_name` (readable part + hash of the
    exact value), so values such as ``"../x"`` or ``"UK/IE"`` never become paths;
    store the value -> folder mapping in the bundle's metadata.
    """
    return f"groups/{safe_name(value)}"
