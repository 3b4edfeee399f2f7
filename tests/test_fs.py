"""Atomic writes, staged folders and safe names (cxlab._fs)."""

from __future__ import annotations

import pytest

from cxlab._fs import atomic_write_text, inside, safe_name, staged_dir
from cxlab.exceptions import InputDataError


def test_staged_dir_replaces_whole_folder(tmp_path):
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        (stage / "a.txt").write_text("1")
        (stage / "stale.txt").write_text("old")
    with staged_dir(out) as stage:
        (stage / "a.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    assert (out / "a.txt").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_staged_dir_interrupted_leaves_old_result(tmp_path):
    out = tmp_path / "out"
    with staged_dir(out) as stage:
        (stage / "a.txt").write_text("1")
    with pytest.raises(KeyboardInterrupt), staged_dir(out) as stage:
        (stage / "a.txt").write_text("half")
        raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_staged_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputDataError, match="must be a folder"), staged_dir(tmp_path / "f"):
        pass


@pytest.mark.parametrize("value", ["../../x", "/tmp/x", "a/b", "", None, "[red]x[/]", "..", "ü"])
def test_safe_name_stays_in_folder(tmp_path, value):
    name = safe_name(value)
    assert "/" not in name and ".." not in name and name.startswith("g-")
    assert inside(tmp_path, name).parent == tmp_path.resolve()


def test_safe_name_is_injective_and_stable():
    assert safe_name("a/b") != safe_name("a-b")
    assert safe_name(1) != safe_name("1")
    assert safe_name("DE") == safe_name("DE")


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../x"])
def test_inside_refuses_escape(tmp_path, rel):
    with pytest.raises(InputDataError, match="outside"):
        inside(tmp_path, rel)


def test_atomic_write_text(tmp_path):
    path = atomic_write_text(tmp_path / "d" / "f.txt", "hello")
    assert path.read_text() == "hello"
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["f.txt"]
