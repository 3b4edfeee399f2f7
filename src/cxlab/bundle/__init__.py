"""Model bundles: one safe, checked folder format for every fitted cxlab model.

A bundle is a folder holding ``model.json`` (format tag, kind, cxlab version,
created-at, the model's metadata and the list of its files), the model's files
in safe formats only (JSON parameters, LightGBM text models; never pickle) and
``SHA256SUMS`` (the SHA-256 of every file, ``model.json`` included).

- :func:`write_bundle` writes into a staging folder that is renamed into place
  whole (:func:`cxlab._fs.staged_dir`): an interrupted fit, or two fits into one
  folder, leave one complete bundle, never a mix.
- :func:`read_bundle` verifies every checksum, the format tag and the kind, and
  refuses any file name that would leave the folder; the verified bytes are kept
  in memory so what is used is exactly what was checked.
- :func:`load_lightgbm` parses a LightGBM text model in a guarded way: LightGBM
  aborts the whole process on some malformed models, so a model is first parsed
  in a child process and only handed to LightGBM here when that worked.

Group sub-models (one model per marketplace, say) go under
``groups/<cxlab._fs.safe_name(value)>/...`` with the value -> name mapping in the
metadata (:func:`group_dir`); raw data values never become paths.
"""

from cxlab.bundle._core import FORMAT, KINDS, Bundle, BundleError, group_dir, read_bundle, write_bundle
from cxlab.bundle._fingerprint import fingerprint
from cxlab.bundle._lightgbm import load_lightgbm, load_lightgbm_many

__all__ = [
    "FORMAT",
    "KINDS",
    "Bundle",
    "BundleError",
    "fingerprint",
    "group_dir",
    "load_lightgbm",
    "load_lightgbm_many",
    "read_bundle",
    "write_bundle",
]
