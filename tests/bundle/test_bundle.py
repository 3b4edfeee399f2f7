"""Bundles: round trip, tampering, unknown formats, path escapes, staged writes."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from cxlab.bundle import FORMAT, Bundle, BundleError, group_dir, read_bundle, write_bundle
from cxlab.exceptions import InputDataError

PARAMS = {"model": "bgnbd", "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}}


def _write(path: Path, **extra: object) -> Path:
    files = {"params.json": json.dumps(PARAMS), "groups/g-UK-0123456789/params.json": "{}"}
    return write_bundle(path, kind="clv.betageo", files=files, metadata={"features": ["frequency"], **extra})


def _resum(folder: Path) -> None:
    """Rewrite SHA256SUMS as an attacker who knows the format would."""
    names = [line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text().splitlines()]
    (folder / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    )


def test_round_trip(tmp_path: Path) -> None:
    out = _write(tmp_path / "m", evaluation={"auc": 0.71})
    bundle = read_bundle(out, kind="clv.betageo")
    assert isinstance(bundle, Bundle)
    assert bundle.kind == "clv.betageo" and bundle.path == out
    assert bundle.metadata["format"] == FORMAT
    assert bundle.metadata["evaluation"] == {"auc": 0.71}
    assert bundle.metadata["features"] == ["frequency"]
    assert bundle.json("params.json") == PARAMS
    assert bundle.files == ("groups/g-UK-0123456789/params.json", "params.json")
    assert bundle.bytes("groups/g-UK-0123456789/params.json") == b"{}"
    assert sorted(p.name for p in out.iterdir()) == ["SHA256SUMS", "groups", "model.json", "params.json"]
    with pytest.raises(BundleError, match="no file 'spend.json'"):
        bundle.json("spend.json")
    assert issubclass(BundleError, InputDataError)


def test_kind_tuple_and_wrong_kind(tmp_path: Path) -> None:
    out = _write(tmp_path / "m")
    assert read_bundle(out, kind=("clv.paretonbd", "clv.betageo")).kind == "clv.betageo"
    with pytest.raises(BundleError, match="a clv.betageo bundle, but a satisfaction model is needed"):
        read_bundle(out, kind="satisfaction")


@pytest.mark.parametrize("name", ["model.json", "SHA256SUMS", "params.json", "groups/g-UK-0123456789/params.json"])
def test_one_changed_byte_is_refused_naming_the_file(tmp_path: Path, name: str) -> None:
    out = _write(tmp_path / "m")
    data = bytearray((out / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (out / name).write_bytes(bytes(data))
    with pytest.raises(BundleError) as err:
        read_bundle(out)
    assert name in str(err.value)


def test_missing_and_extra_listed_files(tmp_path: Path) -> None:
    out = _write(tmp_path / "m")
    (out / "params.json").unlink()
    with pytest.raises(BundleError, match="params.json: listed in SHA256SUMS but missing"):
        read_bundle(out)
    out = _write(tmp_path / "n")
    (out / "extra.json").write_text("{}")
    with (out / "SHA256SUMS").open("a") as sums:
        sums.write(f"{hashlib.sha256(b'{}').hexdigest()}  extra.json\n")
    with pytest.raises(BundleError, match="file list does not match"):
        read_bundle(out)


def test_unknown_format_and_kind_are_refused(tmp_path: Path) -> None:
    out = _write(tmp_path / "m")
    model = json.loads((out / "model.json").read_text())
    (out / "model.json").write_text(json.dumps({**model, "format": "cxlab.bundle/99"}))
    _resum(out)
    with pytest.raises(BundleError, match="format must be 'cxlab.bundle/1'; got 'cxlab.bundle/99'"):
        read_bundle(out)
    (out / "model.json").write_text(json.dumps({**model, "kind": "pickle.sklearn"}))
    _resum(out)
    with pytest.raises(BundleError, match="unknown model kind 'pickle.sklearn'"):
        read_bundle(out)
    with pytest.raises(BundleError, match="kind must be one of"):
        write_bundle(tmp_path / "x", kind="pickle", files={}, metadata={})
    assert not (tmp_path / "x").exists()


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not a cxlab model bundle .no such folder"):
        read_bundle(tmp_path / "absent")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "params.json").write_text("{}")
    with pytest.raises(BundleError, match="not a cxlab model bundle .no SHA256SUMS"):
        read_bundle(tmp_path / "old")
    (tmp_path / "old" / "SHA256SUMS").write_text("garbage\n")
    with pytest.raises(BundleError, match="line 1 is not"):
        read_bundle(tmp_path / "old")


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "groups/../../x.json", "a/./b", ".hidden"])
def test_path_escape_is_refused_on_read(tmp_path: Path, name: str) -> None:
    (tmp_path / "outside.json").write_text("{}")
    out = _write(tmp_path / "m")
    with (out / "SHA256SUMS").open("a") as sums:
        sums.write(f"{hashlib.sha256(b'{}').hexdigest()}  {name}\n")
    with pytest.raises(BundleError, match="leaves the bundle"):
        read_bundle(out)


def test_symlink_out_of_the_bundle_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    out = _write(tmp_path / "m")
    (out / "params.json").unlink()
    os.symlink(secret, out / "params.json")
    with pytest.raises(InputDataError, match="outside the folder"):
        read_bundle(out)


@pytest.mark.parametrize("name", ["../x.json", "/abs.json", "a\\b.json", "model.json", "SHA256SUMS", "", "a//b"])
def test_unsafe_names_are_refused_on_write(tmp_path: Path, name: str) -> None:
    with pytest.raises(BundleError):
        write_bundle(tmp_path / "m", kind="churn", files={name: "{}"}, metadata={})
    assert not (tmp_path / "m").exists()
    assert list(tmp_path.iterdir()) == []


def test_metadata_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="'evaluation.auc' is nan"):
        write_bundle(tmp_path / "m", kind="churn", files={}, metadata={"evaluation": {"auc": float("nan")}})
    with pytest.raises(BundleError, match="'when' is a date"):
        import datetime as dt

        write_bundle(tmp_path / "m", kind="churn", files={}, metadata={"when": dt.date(2024, 1, 1)})
    with pytest.raises(BundleError, match="set by the bundle itself"):
        write_bundle(tmp_path / "m", kind="churn", files={}, metadata={"kind": "x"})


def test_group_dir_is_safe() -> None:
    assert group_dir("UK") == group_dir("UK")
    assert group_dir("UK") != group_dir("uk")
    for value in ("../../etc", "/abs", "a/b", "", None, "[red]x[/red]"):
        name = group_dir(value)
        assert name.startswith("groups/g-") and ".." not in name and name.count("/") == 1


def test_interrupted_write_leaves_the_old_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _write(tmp_path / "m", version=1)
    calls = {"n": 0}
    real = Path.write_bytes

    def interrupted(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _write(out, version=2)
    monkeypatch.undo()
    assert read_bundle(out).metadata["version"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folder left


def test_two_writers_leave_one_complete_bundle(tmp_path: Path) -> None:
    out = tmp_path / "m"
    errors: list[BaseException] = []

    def writer(version: int) -> None:
        try:
            for i in range(15):
                files = {f"part{k}.json": json.dumps({"writer": version, "i": i}) for k in range(5)}
                write_bundle(out, kind="churn", files=files, metadata={"writer": version, "i": i})
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    bundle = read_bundle(out)
    writer_id, i = bundle.metadata["writer"], bundle.metadata["i"]
    for k in range(5):  # every file from the same write as model.json
        assert bundle.json(f"part{k}.json") == {"writer": writer_id, "i": i}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
