"""The one home of atomic writes, staged output folders and safe file names.

Every output cxlab writes goes through here:

- a file is written to a temporary sibling and renamed into place
  (:func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`);
- an output *folder* (a model bundle, a validation report, a run folder) is
  written to a sibling staging folder and swapped into place by
  :func:`staged_dir`, so an interrupted or concurrent run leaves the old
  complete folder or the new complete folder, never a mix and never stale files;
- no value from data, a project file or a model file becomes a path:
  :func:`safe_name` turns a value into a file name, and :func:`inside`
  refuses a relative path that leaves its root.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cxlab.exceptions import InputDataError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "inside",
    "safe_name",
    "staged_dir",
]


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; on success it is renamed
    onto ``path``, on any error (or Ctrl-C) removed. For writers that stream to
    a file name themselves (Parquet writers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON (keys in insertion order) atomically."""
    return atomic_write_text(path, json.dumps(payload, indent=2, default=str) + "\n")


@contextlib.contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``target`` whole.

    The staging folder is a hidden sibling of ``target`` (same file system, so
    the final step is a rename). On an exception, or a KeyboardInterrupt, the
    staging folder is removed and ``target`` is left as it was. When two
    writers race, each swap is whole: the folder ends up as one writer's
    complete output.
    """
    target = Path(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise InputDataError(f"{target}: the output must be a folder, but a file of that name exists; "
                             "give another --out or remove the file.")
    token = uuid.uuid4().hex[:12]
    staging = parent / f".{target.name}.staging-{token}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_into_place(staging, target, token)


def _swap_into_place(staging: Path, target: Path, token: str) -> None:
    old = target.parent / f".{target.name}.old-{token}"
    for _ in range(100):
        moved_old = False
        try:
            os.rename(target, old)
            moved_old = True
        except FileNotFoundError:
            pass
        try:
            os.rename(staging, target)
        except OSError:
            # Another writer put its folder in place between our two renames:
            # move that one aside too and try again.
            if moved_old:
                shutil.rmtree(old, ignore_errors=True)
            continue
        if moved_old:
            shutil.rmtree(old, ignore_errors=True)
        return
    shutil.rmtree(staging, ignore_errors=True)
    raise OSError(f"{target}: could not put the new output in place; another process keeps writing to it.")


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_name(value: object, *, prefix: str = "g") -> str:
    """A file name for ``value`` that cannot leave its folder or collide.

    Readable where possible (letters, digits, ``-`` and ``_`` of the value, at
    most 32 of them) and made unique by a short hash of the exact value, e.g.
    ``safe_name("../../x")`` is ``"g-x-"`` followed by ten hex digits.
    Deterministic across runs.
    """
    text = "" if value is None else str(value)
    slug = _UNSAFE.sub("-", text).strip("-")[:32] or "empty"
    digest = hashlib.sha256(repr((type(value).__name__, text)).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{slug}-{digest}"


def inside(root: Path, relative: str | os.PathLike[str]) -> Path:
    """``root / relative``, refused unless it stays inside ``root``.

    Used when a file read from disk (a model's ``model.json``) names another
    file: an absolute path, ``..`` or a link out of ``root`` is an input error.
    """
    root = Path(root).resolve()
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise InputDataError(f"{root}: refers to '{relative}', which is outside the folder; the folder "
                             "was tampered with or not written by cxlab.")
    path = (root / rel).resolve()
    if path != root and root not in path.parents:
        raise InputDataError(f"{root}: refers to '{relative}', which resolves outside the folder.")
    return path
