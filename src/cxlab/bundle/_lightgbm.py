"""Guarded parsing of LightGBM text models.

LightGBM's C++ parser aborts the process (``std::abort``, a segmentation fault)
on some malformed model strings instead of raising. A bundle's checksum says a
file is the one that was written, not that LightGBM can read it (a bug, an
edited bundle re-summed by hand). So a model text is first parsed by LightGBM in
a child Python process (and asked for one prediction, since a tree that points
to a missing node crashes only then); only when that child exits cleanly is the text handed to
LightGBM here. Texts that passed are remembered by checksum, so loading the same
model again (a server starting several workers, a test) costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

from cxlab.bundle._core import Bundle, BundleError

if TYPE_CHECKING:
    import lightgbm

#: Seconds the child process may take to parse one model.
PARSE_TIMEOUT_S = 120

_CHILD = (  # parses each text of a JSON list in turn; prints the index of each one that passed
    "import json, sys, lightgbm, numpy\n"
    "for i, text in enumerate(json.loads(sys.stdin.buffer.read().decode('utf-8'))):\n"
    "    booster = lightgbm.Booster(model_str=text)\n"
    "    booster.predict(numpy.zeros((1, booster.num_feature())))\n"
    "    sys.stdout.write(f'{i}\\n'); sys.stdout.flush()\n"
)
_PARSED: set[str] = set()
_LOCK = threading.Lock()


def _check_in_child(texts: list[str], wheres: list[str]) -> None:
    """Parse every text in one child process; refuse the first one that fails."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD],
            input=json.dumps(texts).encode("utf-8"),
            capture_output=True,
            timeout=PARSE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BundleError(
            f"{wheres[0]}: LightGBM did not finish parsing the bundle's models in {PARSE_TIMEOUT_S} s; refused."
        ) from None
    if done.returncode != 0:
        passed = len(done.stdout.decode("utf-8", "replace").split())
        where = wheres[min(passed, len(wheres) - 1)]
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"the parser stopped with status {done.returncode}"
        if done.returncode < 0:
            reason = f"LightGBM crashed (signal {-done.returncode})"
        raise BundleError(
            f"{where}: not a readable LightGBM model ({reason[:300]}); the file passed its checksum, so it was "
            "written damaged or edited and re-summed. Fit the model again."
        )


def load_lightgbm(bundle: Bundle, name: str) -> lightgbm.Booster:
    """The LightGBM booster in ``bundle``'s file ``name``, parsed in a guarded way."""
    return load_lightgbm_many(bundle, [name])[name]


def load_lightgbm_many(bundle: Bundle, names: list[str]) -> dict[str, lightgbm.Booster]:
    """Every named LightGBM booster of ``bundle``, checked together in one child process."""
    import lightgbm as lgb

    texts: dict[str, str] = {}
    for name in names:
        text = bundle.text(name)
        if not text.startswith("tree\n") or "end of trees" not in text:
            raise BundleError(
                f"{bundle.path / name}: not a LightGBM text model (it must start with 'tree' and list its trees)."
            )
        texts[name] = text
    digests = {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in texts.items()}
    with _LOCK:
        unknown = [name for name in names if digests[name] not in _PARSED]
    if unknown:
        _check_in_child([texts[n] for n in unknown], [str(bundle.path / n) for n in unknown])
        with _LOCK:
            _PARSED.update(digests[n] for n in unknown)
    boosters = {}
    for name, text in texts.items():
        try:
            boosters[name] = lgb.Booster(model_str=text)
        except Exception as err:  # LightGBMError, ValueError: any parse failure is a bad bundle
            raise BundleError(
                f"{bundle.path / name}: not a readable LightGBM model ({err}). Fit the model again."
            ) from err
    return boosters
