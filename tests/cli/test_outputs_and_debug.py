"""Outputs that cannot leave their folder or mix two runs; --debug on every subcommand.

Group folders of ``clv fit --by`` get safe names whatever the values are; a
tampered model folder cannot send ``clv score`` outside it; a second run into
the same ``--out`` leaves no file of the first; a real Ctrl-C leaves the old
output or the new one, never a mix; ``--debug`` and ``CXLAB_DEBUG=1`` show the
traceback, nothing else does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.exports import retail_orders
from cxlab.bundle import read_bundle
from cxlab.cli import app
from cxlab.exceptions import InputDataError

RETAIL = Path(__file__).resolve().parents[1] / "data" / "uk_retail"
runner = CliRunner()


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The UK retailer under canonical names, with a segment whose values look like paths."""
    root = tmp_path_factory.mktemp("retail") / "data"
    root.mkdir()
    customers = pd.read_csv(RETAIL / "customers.csv", dtype=str)
    n = len(customers)
    pd.DataFrame(
        {
            "customer_id": customers["CustomerID"],
            "marketplace": "UK",
            "signup_ts": pd.to_datetime(customers["FirstPurchase"], format="%d/%m/%Y %H:%M"),
            "segment": ["../../escaped" if i % 2 else "/tmp/absolute [x]" for i in range(n)],
        }
    ).to_parquet(root / "customers.parquet", index=False)
    retail_orders().to_parquet(root / "orders.parquet", index=False)
    return root


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_by_values_that_look_like_paths_stay_inside_out(retail: Path, tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    out = work / "model"
    before = _files(tmp_path)
    result = runner.invoke(
        app, ["clv", "fit", str(retail), "--observation-end", "2011-03-31", "--by", "segment", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "../../escaped" in result.stderr  # the value is printed as it is, never as a path
    created = _files(tmp_path) - before
    assert all(path.startswith("a/b/model") for path in created), created
    assert not Path("/tmp/absolute [x]").exists()
    top = read_bundle(out, kind="clv.grouped").metadata
    folders = {g["value"]: g["dir"] for g in top["groups"]}
    assert set(folders) == {"../../escaped", "/tmp/absolute [x]"}
    for folder in folders.values():
        assert folder.startswith("groups/") and ".." not in folder and (out / folder / "params.json").is_file()
        assert "/" not in folder.removeprefix("groups/")

    scores = tmp_path / "scores.csv"
    result = runner.invoke(app, ["clv", "score", str(retail), "--model", str(out), "--horizon", "13", "--out", str(scores)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(scores)["segment"]) == set(folders)

    # a tampered mapping (checksums rewritten too) cannot send the reader outside the model folder
    model_json = json.loads((out / "model.json").read_text())
    model_json["groups"][0]["dir"] = "../../../etc"
    (out / "model.json").write_text(json.dumps(model_json))
    _rewrite_sums(out)
    result = runner.invoke(app, ["clv", "score", str(retail), "--model", str(out), "--horizon", "13"])
    assert result.exit_code == 2
    assert "not its own folder" in result.stderr and "Traceback" not in result.output


def _rewrite_sums(bundle: Path) -> None:
    import hashlib

    lines = []
    for line in (bundle / "SHA256SUMS").read_text().splitlines():
        name = line.split("  ", 1)[1]
        lines.append(f"{hashlib.sha256((bundle / name).read_bytes()).hexdigest()}  {name}")
    (bundle / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def test_two_fits_into_one_out_leave_only_the_second(retail: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    first = runner.invoke(app, ["clv", "fit", str(retail), "--observation-end", "2011-03-31", "--by", "segment", "--out", str(out)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["clv", "fit", str(retail), "--observation-end", "2011-03-31", "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert not [p for p in out.iterdir() if p.is_dir()]  # no group folder of the first run
    assert "params.json" in {p.name for p in out.iterdir()}
    assert read_bundle(out).kind == "clv.betageo"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".model.")]


def test_revalidating_into_one_out_leaves_no_stale_rejects(retail: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("customers", "orders"):
        (bad / f"{name}.parquet").write_bytes((retail / f"{name}.parquet").read_bytes())
    out = tmp_path / "report"
    assert runner.invoke(app, ["validate", str(bad), "--out", str(out)]).exit_code == 0
    assert (out / "rejects" / "orders.parquet").exists()  # cancellations and customer-less invoices
    orders = pd.read_parquet(bad / "orders.parquet")
    orders = orders[(orders["amount"] >= 0) & orders["customer_id"].notna()]
    orders.to_parquet(bad / "orders.parquet", index=False)
    assert runner.invoke(app, ["validate", str(bad), "--out", str(out)]).exit_code == 0
    assert not (out / "rejects").exists()
    assert json.loads((out / "validation.json").read_text())["rows_rejected"] == 0


def test_no_temporary_rejects_folder_is_left(retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    result = runner.invoke(app, ["metrics", str(retail), "-m", "orders", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert not list(temp.glob("cxlab-rejects-*"))
    assert "run 'cxlab validate DATA --out DIR' to get them" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_anywhere_on_the_line(where: str, tmp_path: Path) -> None:
    args = ["validate", str(tmp_path / "nope")]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InputDataError)
    plain = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert plain.exit_code == 2 and plain.exception is None or isinstance(plain.exception, SystemExit)


def _cxlab(*args: str) -> list[str]:
    """The command line in a fresh process; it prints 'ready' once cxlab is imported."""
    code = "from cxlab.cli import main; print('ready', flush=True); main()"
    return [sys.executable, "-c", code, *args]


def test_cxlab_debug_env_shows_traceback_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "CXLAB_DEBUG": "1"}
    done = subprocess.run(_cxlab("metrics", str(tmp_path / "[x]")), capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "Traceback" in done.stderr and "[x]" in done.stderr


def test_brackets_in_a_path_print_verbatim(tmp_path: Path) -> None:
    result = runner.invoke(app, ["metrics", str(tmp_path / "[bold]x[/bold]")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.count("error:") == 1 and f"{tmp_path / '[bold]x[/bold]'}" in result.stderr


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_real_interrupt_leaves_old_or_new_output(retail: Path, tmp_path: Path, delay: float) -> None:
    out = tmp_path / "report"
    assert runner.invoke(app, ["validate", str(retail), "--out", str(out)]).exit_code == 0
    old = (out / "validation.json").read_bytes()
    proc = subprocess.Popen(
        _cxlab("validate", str(retail), "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(delay)  # in the middle of the run, or after it: either way the folder is whole
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr and "unexpected" not in stderr
    # 0: done before the signal; 130: interrupted; -SIGINT: the signal came while
    # Python was exiting (its default handler is back), which a shell reports as 130.
    assert proc.returncode in (0, 130, -signal.SIGINT)
    if proc.returncode == 130:
        assert stderr.count("error:") == 1 and "error: interrupted" in stderr
    assert (out / "validation.json").read_bytes() == old  # same data: old and new reports are equal
    assert {p.name for p in out.iterdir()} == {"validation.json", "rejects"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.")]


@pytest.mark.parametrize("error", [RuntimeError("Query interrupted"), RuntimeError("Query interrupted\n")])
def test_duckdb_interrupt_error_is_an_interruption(
    retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """DuckDB turns a Ctrl-C during a query into RuntimeError('Query interrupted'):
    exit 130 with one line, as for a KeyboardInterrupt, not 'unexpected error'."""
    import cxlab.cli.data as data_cli

    def interrupted(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(data_cli, "load", interrupted)
    result = runner.invoke(app, ["validate", str(retail), "--out", str(tmp_path / "v")])
    assert result.exit_code == 130, result.output
    assert result.stderr.count("error:") == 1 and "error: interrupted" in result.stderr
    other = RuntimeError("something else")
    monkeypatch.setattr(data_cli, "load", lambda *a, **k: (_ for _ in ()).throw(other))
    assert runner.invoke(app, ["validate", str(retail), "--out", str(tmp_path / "w")]).exit_code == 1


def test_cxlab_warnings_are_one_plain_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A doubtful fit reaches a CLI user as 'warning: ...', not as a source path and a code line;
    other libraries' warnings, and ours under --debug, stay as Python shows them."""
    import warnings

    from cxlab.cli import _common
    from cxlab.exceptions import FitWarning

    monkeypatch.delenv("CXLAB_DEBUG", raising=False)
    passed_on: list[str] = []
    with warnings.catch_warnings():  # restores warnings.showwarning afterwards
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *rest: passed_on.append(category.__name__)
        _common.setup_logging(False)
        warnings.warn("BetaGeo: the fit is doubtful:\n  the Hessian is singular", FitWarning, stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
        monkeypatch.setenv("CXLAB_DEBUG", "1")
        warnings.warn("under --debug", FitWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err == "warning: BetaGeo: the fit is doubtful: the Hessian is singular\n"
    assert passed_on == ["UserWarning", "FitWarning"]
