"""``cxlab uplift fit`` + ``score`` on an e-mail campaign export vs a plain LightGBM T-learner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxlab.cli import app
from cxlab.uplift import qini_coefficient
from tests.uplift.email_fixture import ARMS, MAIL_DAY, WINDOW_DAYS, write_export

runner = CliRunner()
ATTRIBUTES = ["recency_months", "history_usd", "mens", "womens", "zip_code", "newbie", "channel"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("email")
    train = write_export(root / "train", 12_000, 1)
    held = write_export(root / "held", 8_000, 2)
    return root, train, held


def _plain_t_learner(train_dir: Path, held_dir: Path, truth: dict) -> np.ndarray:
    """LightGBM classifier per arm on the customers' attributes; effect = p_arm - p_control."""
    import lightgbm as lgb

    def frame(folder: Path) -> pd.DataFrame:
        df = pd.read_csv(folder / "customers.csv", dtype={"cust_no": str})
        df["cust_no"] = df["cust_no"].str.strip()
        for c in ("zip_code", "channel"):
            df[c] = df[c].astype("category")
        return df.set_index("cust_no")

    tr = frame(train_dir)
    mail = pd.read_csv(train_dir / "mailing.csv", dtype={"cust_no": str}).set_index("cust_no")
    visits = pd.read_csv(train_dir / "visits.csv", dtype={"cust_no": str})
    ts = pd.to_datetime(visits["visited_at"], errors="coerce")
    after = visits[(ts >= MAIL_DAY) & (ts < MAIL_DAY + pd.Timedelta(days=WINDOW_DAYS))]
    y = tr.index.isin(after["cust_no"]).astype(int)
    arm = mail.loc[tr.index, "segment"].to_numpy()
    ho = frame(held_dir).loc[truth["ids"]]
    probs = []
    for a in ARMS:
        m = lgb.LGBMClassifier(n_estimators=200, verbose=-1, random_state=0, n_jobs=1)
        m.fit(tr.loc[arm == a, ATTRIBUTES], y[arm == a])
        probs.append(m.predict_proba(ho[ATTRIBUTES])[:, 1])
    return np.column_stack(probs[1:]) - probs[0][:, None]


@pytest.mark.slow
def test_fit_and_score_rank_held_out_customers_at_least_as_well_as_a_plain_t_learner(exports, tmp_path: Path) -> None:
    root, _, held = exports
    model = tmp_path / "model"
    fit = runner.invoke(app, [
        "uplift", "fit", "--config", str(root / "train" / "project.yaml"), "--outcome", "visit",
        "--window-days", str(WINDOW_DAYS), "--control", "No E-Mail", "--out", str(model),
    ])
    assert fit.exit_code == 0, fit.output
    evaluation = json.loads((model / "evaluation.json").read_text())
    assert set(evaluation["actions"]) == {"Mens E-Mail", "Womens E-Mail"}
    assert "set aside" in fit.output  # the unknown customer's visit and the bad timestamp
    scores_file = tmp_path / "scores.csv"
    score = runner.invoke(app, [
        "uplift", "score", str(model), "--config", str(root / "held" / "project.yaml"),
        "--asof", str(MAIL_DAY.date()), "--out", str(scores_file),
    ])
    assert score.exit_code == 0, score.output
    scores = pd.read_csv(scores_file, dtype={"customer_id": str})
    assert len(scores) == 8_000 * 2
    assert set(scores.columns) >= {"customer_id", "action", "effect"}
    ours = scores.pivot(index="customer_id", columns="action", values="effect").loc[held["ids"]]
    plain = _plain_t_learner(root / "train", root / "held", held)
    for j, action in enumerate(ARMS[1:], start=1):
        keep = (held["arm"] == 0) | (held["arm"] == j)
        t, y = held["arm"][keep] == j, held["visit"][keep]
        q_ours = qini_coefficient(ours[action].to_numpy()[keep], t, y)
        q_plain = qini_coefficient(plain[keep, j - 1], t, y)
        q_true = qini_coefficient(held["lifts"][keep, j], t, y)
        assert q_ours >= q_plain, (action, q_ours, q_plain, q_true)
        assert q_ours > 0.3 * q_true


def test_bad_control_exits_2(exports, tmp_path: Path) -> None:
    root, _, _ = exports
    result = runner.invoke(app, ["uplift", "fit", "--config", str(root / "train" / "project.yaml"), "--outcome",
                                 "visit", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "control action 'control'" in result.output and "--control" in result.output
    assert not (tmp_path / "m").exists()
