"""Fitted bundles shared by the scoring and service tests (fitted once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.synth import generate

runner = CliRunner()
KEY = "test-key-0123456789abcdef"


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="session")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated marketplace (orders, surveys, seven marketplaces)."""
    out = tmp_path_factory.mktemp("deploy") / "data"
    generate(customers=1500, random_state=3, out=out)  # every marketplace has well-identified BG/NBD parameters
    return out


@pytest.fixture(scope="session")
def models(market: Path) -> Path:
    """A folder of two bundles: CLV per marketplace and satisfaction (csat5, nps11)."""
    root = market.parent / "models"
    cli("clv", "fit", str(market), "--observation-end", "2025-12-31", "--by", "marketplace", "--out", str(root / "clv"))
    cli("satisfaction", "fit", str(market), "--out", str(root / "sat"))
    return root
