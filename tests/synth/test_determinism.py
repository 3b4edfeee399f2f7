"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cxlab.exceptions import InputDataError
from cxlab.synth import generate


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    kwargs = dict(customers=3_000, random_state=5, chunk_size=1_000)
    generate(out=tmp_path / "a", **kwargs)
    generate(out=tmp_path / "b", **kwargs)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 3 * 6 + 1 + 3
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(customers=500, random_state=1, out=tmp_path / "a")
    generate(customers=500, random_state=2, out=tmp_path / "b")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a["orders/part-00000.parquet"] != b["orders/part-00000.parquet"]


def test_progress_is_reported_per_chunk(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(customers=2_500, random_state=1, out=tmp_path / "d", chunk_size=1_000,
             progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]


def test_rerun_replaces_an_earlier_output_but_not_other_folders(tmp_path: Path) -> None:
    out = tmp_path / "d"
    generate(customers=200, random_state=1, out=out)
    generate(customers=300, random_state=1, out=out)  # an earlier output is replaced
    assert json.loads((out / "truth" / "summary.json").read_text())["customers"] == 300
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(InputDataError, match="not empty"):
        generate(customers=200, random_state=1, out=other)
    generate(customers=200, random_state=1, out=other, overwrite=True)
    assert not (other / "keep.txt").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"customers": 0}, "customers"),
        ({"customers": 10, "chunk_size": 0}, "chunk_size"),
        ({"customers": 10, "random_state": -1}, "random_state"),
        ({"customers": 10, "marketplaces": ("DE", "XX")}, "unknown: XX"),
        ({"customers": 10, "marketplaces": ()}, "marketplaces"),
        ({"customers": 10, "end": date(2999, 1, 1)}, "days before today"),
        ({"customers": 10, "start": date(2025, 12, 1)}, "at least 90 days"),
        ({"customers": 10, "start": date(1980, 1, 1)}, "1990"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict, match: str) -> None:
    kwargs.setdefault("random_state", 1)
    with pytest.raises(InputDataError, match=match):
        generate(out=tmp_path / "d", **kwargs)
    assert not (tmp_path / "d").exists()
