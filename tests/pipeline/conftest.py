"""Runs shared by the pipeline and report tests: each fixture runs ``cxlab run`` once."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlab.cli import app

DATA = Path(__file__).parent / "data"




def _run(project: Path, out: Path) -> Path:
    result = CliRunner().invoke(app, ["run", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the UK shop's exports and its hand-written project file."""
    target = tmp_path_factory.mktemp("shop") / "shop"
    shutil.copytree(DATA / "shop", target)
    return target


@pytest.fixture(scope="session")
def shop_run(shop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(shop_dir / "project.yaml", tmp_path_factory.mktemp("runs") / "shop-run")


@pytest.fixture(scope="session")
def orders_only_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cxlab init`` then ``cxlab run`` on a US shop's customers and orders (USD, no fx)."""
    data = tmp_path_factory.mktemp("oo") / "exports"
    shutil.copytree(DATA / "orders_only", data)
    init = CliRunner().invoke(app, ["init", str(data)])
    assert init.exit_code == 0, init.output
    return _run(data / "project.yaml", tmp_path_factory.mktemp("runs") / "orders-only-run")


#: Words an executive should not meet (method names and statistics jargon).
JARGON = ("AIPW", "IPW", "SHAP", "BG/NBD", "Pareto/NBD", "Gamma-Gamma", "Lagrangian", "LightGBM", "CUPED",
          "SRM", "AUC", "ECE", "Kish", "Qini", "EWMA", "CUSUM", "Shewhart", "doubly robust", "propensity",
          "p-value", "cross-fitting", "log-odds", "Hessian", "covariate", "standardized mean difference",
          "delta method", "heteroskedastic", "MIP", "dual bound", "snake_case", "csat5", "nps11", "p_alive")


def _visible_text(html: str) -> str:
    """The report without the plotly.js bundle (chart data, titles and text kept)."""
    return re.sub(r"<script>.*?</script>", " ", html, flags=re.S)


@pytest.fixture(scope="session")
def jargon_in() -> Callable[[str], list[str]]:
    """The jargon words found in a report's text (HTML or plain)."""

    def found(text: str) -> list[str]:
        text = _visible_text(text)
        return [w for w in JARGON if re.search(rf"(?<![\w/-]){re.escape(w)}(?![\w/-])", text, flags=re.I)]

    return found
