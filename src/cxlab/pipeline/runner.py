"""Run the registered stages of a project into a run folder, with a manifest.

The run folder is written through :func:`cxlab._fs.staged_dir`: nothing appears
at ``out`` until the run ends. Each stage writes into its own hidden folder,
moved into the run folder only when the stage succeeds. When a stage fails the
run stops, the manifest records the stages done and the error, the completed
stages' outputs are put in place (never a half-written file), and
:class:`StageFailed` is raised. Ctrl-C leaves ``out`` as it was.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from cxlab import __version__
from cxlab._fs import atomic_write_json, staged_dir
from cxlab.exceptions import CxlabError, InputDataError
from cxlab.pipeline.registry import STAGES, Context, SkipStage, Stage, skip_reason
from cxlab.project import ProjectConfig

#: Packages whose versions the manifest records.
DEPENDENCIES = ("narwhals", "duckdb", "polars", "pyarrow", "pandas", "numpy", "scipy", "scikit-learn",
                "lightgbm", "highspy", "pyspark", "plotly", "matplotlib", "python-pptx", "jinja2")


class StageFailed(CxlabError):
    """A stage raised: the message names it and what was done before it."""


@dataclass
class Progress:
    """Callbacks a front end (the CLI's Rich progress) gets; all optional."""

    start: Callable[[str, str], None] = lambda name, title: None
    done: Callable[[str, dict[str, Any]], None] = lambda name, record: None
    say: Callable[[str], None] = lambda message: None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"cxlab": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _hash_file(path: Path, digest: Any) -> None:
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)


def fingerprint(path: Path) -> dict[str, Any]:
    """sha256 and size of a file, or of every file of a folder (names sorted)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    size = 0
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode("utf-8") + b"\0")
        _hash_file(file, digest)
        size += file.stat().st_size
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": size, "files": len(files)}


def _reset_peak() -> bool:
    """Reset the process's peak resident memory (Linux clear_refs); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _move_into(src: Path, dst: Path) -> None:
    """Move the content of ``src`` into ``dst``, merging folders."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()):
        target = dst / item.name
        if item.is_dir() and target.is_dir():
            _move_into(item, target)
            item.rmdir()
        else:
            if target.exists():
                raise CxlabError(f"run folder: two stages wrote {target.name}; this is a bug in cxlab.")
            os.replace(item, target)


def _run_stage(s: Stage, ctx: Context, progress: Progress) -> dict[str, Any]:
    progress.start(s.name, s.title)
    ctx.out = ctx.root / f".stage-{s.name}"
    ctx.out.mkdir()
    exact_peak = _reset_peak()
    started = time.perf_counter()
    try:
        summary = s.run(ctx) or {}
    except BaseException:
        shutil.rmtree(ctx.out, ignore_errors=True)
        raise
    seconds = time.perf_counter() - started
    _move_into(ctx.out, ctx.root)
    ctx.out.rmdir()
    return {"name": s.name, "status": "done", "seconds": round(seconds, 3),
            "peak_memory_mb": round(_peak_mb(), 1), "peak_memory_exact": exact_peak, "summary": summary}


def run_project(
    project: ProjectConfig,
    out: Path,
    *,
    engine: str | None = None,
    project_file: Path | None = None,
    progress: Progress | None = None,
    stages: list[Stage] | None = None,
) -> dict[str, Any]:
    """Run every stage the project asks for and its data allows; return the manifest.

    Raises
    ------
    InputDataError
        The data cannot be read at all (a missing table or column): nothing is
        written at ``out``.
    StageFailed
        A later stage raised: ``out`` holds the stages done and a manifest with
        ``status: failed``.
    """
    from cxlab.pipeline import stages as _registered, stages_act as _act  # noqa: F401  (fills STAGES)

    progress = progress or Progress()
    if engine is not None:
        project = project.model_copy(update={"engine": engine})
    chosen = stages if stages is not None else list(STAGES)
    manifest: dict[str, Any] = {
        "format": "cxlab.run/1",
        "status": "running",
        "project_file": str(project_file) if project_file else None,
        "config": project.resolved(),
        "versions": versions(),
        "seeds": {"project": project.seed, "folds_and_splits": project.seed, "models": project.seed},
        "inputs": {},
        "tables": {},
        "stages": [],
    }
    out = Path(out)
    failure: tuple[Stage, BaseException] | None = None
    with staged_dir(out) as root:
        ctx = Context(project=project, root=root, out=root, say=progress.say)
        ctx.shared["manifest"] = manifest
        done: set[str] = set()
        started = time.perf_counter()
        for s in chosen:
            tables = set(ctx.ds.tables) if ctx.ds is not None else None
            skipped = skip_reason(s, project, tables, done)
            if skipped is not None:
                record = {"name": s.name, "title": s.title, "status": "skipped", **skipped}
                manifest["stages"].append(record)
                progress.done(s.name, record)
                continue
            try:
                record = {"title": s.title, **_run_stage(s, ctx, progress)}
            except SkipStage as skip:
                record = {"name": s.name, "title": s.title, "status": "skipped", **skip.record}
                manifest["stages"].append(record)
                progress.done(s.name, record)
                continue
            except InputDataError:
                if s.name == "validate":
                    raise  # bad input: nothing is written
                failure = (s, sys.exc_info()[1])  # type: ignore[assignment]
            except Exception as err:  # noqa: BLE001  (reported in the manifest, then raised)
                failure = (s, err)
            if failure is not None:
                record = {"name": s.name, "title": s.title, "status": "failed",
                          "error": f"{type(failure[1]).__name__}: {failure[1]}"}
                manifest["stages"].append(record)
                progress.done(s.name, record)
                break
            done.add(s.name)
            if s.name == "validate":
                manifest["inputs"] = ctx.shared.get("inputs", {})
                manifest["tables"] = ctx.shared.get("tables", {})
            manifest["stages"].append(record)
            progress.done(s.name, record)
        manifest["seconds_total"] = round(time.perf_counter() - started, 3)
        manifest["status"] = "failed" if failure else "done"
        atomic_write_json(root / "manifest.json", manifest)
    if failure is not None:
        s, err = failure
        finished = [r["name"] for r in manifest["stages"] if r["status"] == "done"]
        raise StageFailed(
            f"stage '{s.name}' failed: {err}. Stages done: {', '.join(finished) or 'none'}; "
            f"their outputs and a manifest with the error are in {out}."
        ) from err
    return manifest
