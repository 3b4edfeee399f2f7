"""Ground truth: per-customer and per-invitation truth tables and ``summary.json``.

Aggregates are accumulated chunk by chunk (:class:`TruthAccumulator`) so that the
summary never needs the whole dataset in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from cxlab.schema import DETRACTOR_AT, SATISFIED_AT
from cxlab.synth import params as P
from cxlab.synth.campaign import ACTIONS, ARMS

CUSTOMER_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        ("marketplace", pa.string()),
        ("purchase_rate", pa.float64()),
        ("dropout_probability", pa.float64()),
        ("alive_at_end", pa.bool_()),
        ("first_order_ts", pa.timestamp("us")),
        ("frequency", pa.int64()),
        ("recency_weeks", pa.float64()),
        ("T_weeks", pa.float64()),
        ("expected_spend_eur", pa.float64()),
        ("expected_spend_local", pa.float64()),
        ("satisfaction_effect", pa.float64()),
        ("campaign_arm", pa.string()),
        ("alive_at_assignment", pa.bool_()),
        *[(f"effect_{a}", pa.float64()) for a in ACTIONS],
        ("revenue_30d_eur", pa.float64()),
        ("incremental_orders", pa.int64()),
    ]
)

SURVEY_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("survey_id", pa.string(), nullable=False),
        ("order_id", pa.string()),
        ("customer_id", pa.string()),
        ("marketplace", pa.string()),
        ("scale", pa.string()),
        ("score", pa.float64()),
        ("p_satisfied", pa.float64()),
        ("response_probability", pa.float64()),
        ("responded", pa.bool_()),
        ("eta", pa.float64()),
    ]
)


def _zeros(k: int) -> np.ndarray:
    return np.zeros(k, dtype=np.float64)


@dataclass
class TruthAccumulator:
    """Running sums over chunks for ``truth/summary.json``."""

    n_markets: int
    rows: dict[str, int] = field(default_factory=dict)
    customers: np.ndarray = field(init=False)
    born: np.ndarray = field(init=False)
    orders: np.ndarray = field(init=False)
    delivered: np.ndarray = field(init=False)
    late: np.ndarray = field(init=False)
    delay_sum: np.ndarray = field(init=False)
    # per scale (0 csat5, 1 nps11) x market
    invited: np.ndarray = field(init=False)
    satisfied: np.ndarray = field(init=False)
    p_satisfied: np.ndarray = field(init=False)
    detractors: np.ndarray = field(init=False)
    responded: np.ndarray = field(init=False)
    resp_satisfied: np.ndarray = field(init=False)
    resp_detractors: np.ndarray = field(init=False)
    driver_sum: dict[str, float] = field(default_factory=dict)
    driver_sumsq: dict[str, float] = field(default_factory=dict)
    driver_absdev: dict[str, float] = field(default_factory=dict)
    driver_n: int = 0
    effect_sum: np.ndarray = field(init=False)
    campaign_n: int = 0
    arm_n: np.ndarray = field(init=False)
    arm_revenue: np.ndarray = field(init=False)
    arm_revenue_sq: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        k = self.n_markets
        for name in ("customers", "born", "orders", "delivered", "late", "delay_sum"):
            setattr(self, name, _zeros(k))
        for name in (
            "invited", "satisfied", "p_satisfied", "detractors",
            "responded", "resp_satisfied", "resp_detractors",
        ):
            setattr(self, name, np.zeros((2, k)))
        self.effect_sum = _zeros(len(ACTIONS))
        self.arm_n = _zeros(len(ARMS))
        self.arm_revenue = _zeros(len(ARMS))
        self.arm_revenue_sq = _zeros(len(ARMS))

    def add_rows(self, table: str, n: int) -> None:
        """Count ``n`` rows written to ``table``."""
        self.rows[table] = self.rows.get(table, 0) + int(n)

    def add_customers(self, market: np.ndarray, born: np.ndarray) -> None:
        """Count customers and those with a first order, per marketplace."""
        k = self.n_markets
        self.customers += np.bincount(market, minlength=k)
        self.born += np.bincount(market[born], minlength=k)

    def add_orders(
        self, market: np.ndarray, delay_days: np.ndarray, late: np.ndarray
    ) -> None:
        """Count orders, deliveries, late deliveries and delays, per marketplace."""
        k = self.n_markets
        delivered = ~np.isnan(delay_days)
        self.orders += np.bincount(market, minlength=k)
        self.delivered += np.bincount(market[delivered], minlength=k)
        self.late += np.bincount(market[late], minlength=k)
        self.delay_sum += np.bincount(
            market[delivered], weights=delay_days[delivered], minlength=k
        )

    def add_surveys(
        self,
        market: np.ndarray,
        scale: np.ndarray,
        score: np.ndarray,
        p_sat: np.ndarray,
        responded: np.ndarray,
        terms: dict[str, np.ndarray],
    ) -> None:
        """Accumulate the satisfaction of all invited and of respondents."""
        k = self.n_markets
        sat = np.where(scale == 0, score >= SATISFIED_AT["csat5"], score >= SATISFIED_AT["nps11"])
        det = (scale == 1) & (score <= DETRACTOR_AT)
        for s in (0, 1):
            m = scale == s
            self.invited[s] += np.bincount(market[m], minlength=k)
            self.satisfied[s] += np.bincount(market[m & sat], minlength=k)
            self.p_satisfied[s] += np.bincount(market[m], weights=p_sat[m], minlength=k)
            self.detractors[s] += np.bincount(market[m & det], minlength=k)
            mr = m & responded
            self.responded[s] += np.bincount(market[mr], minlength=k)
            self.resp_satisfied[s] += np.bincount(market[mr & sat], minlength=k)
            self.resp_detractors[s] += np.bincount(market[mr & det], minlength=k)
        for name, values in terms.items():
            self.driver_sum[name] = self.driver_sum.get(name, 0.0) + float(values.sum())
            self.driver_sumsq[name] = self.driver_sumsq.get(name, 0.0) + float(
                np.square(values).sum()
            )
            centred = np.abs(values - values.mean()).sum() if values.size else 0.0
            self.driver_absdev[name] = self.driver_absdev.get(name, 0.0) + float(centred)
        self.driver_n += int(score.size)

    def add_campaign(
        self, arm: np.ndarray, effect: np.ndarray, revenue_30d: np.ndarray
    ) -> None:
        """Accumulate true effects and observed 30-day revenue per arm."""
        inside = arm >= 0
        self.campaign_n += int(inside.sum())
        self.effect_sum += effect[inside].sum(axis=0)
        self.arm_n += np.bincount(arm[inside], minlength=len(ARMS))
        self.arm_revenue += np.bincount(
            arm[inside], weights=revenue_30d[inside], minlength=len(ARMS)
        )
        self.arm_revenue_sq += np.bincount(
            arm[inside], weights=np.square(revenue_30d[inside]), minlength=len(ARMS)
        )

    # -- summary ------------------------------------------------------------------

    def driver_importance(self) -> dict[str, float]:
        """Mean absolute deviation of each cause's contribution to latent satisfaction.

        This is what a SHAP ranking on the logit scale measures (mean absolute
        contribution around the average). Deviations are centred on each chunk's
        mean, which for chunks of thousands of invitations equals the overall
        mean to within sampling noise. Sorted, largest first.
        """
        n = max(self.driver_n, 1)
        out = {name: total / n for name, total in self.driver_absdev.items()}
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def driver_sd(self) -> dict[str, float]:
        """Standard deviation of each cause's contribution to latent satisfaction."""
        n = max(self.driver_n, 1)
        out = {}
        for name, total in self.driver_sum.items():
            mean = total / n
            out[name] = float(np.sqrt(max(self.driver_sumsq[name] / n - mean * mean, 0.0)))
        return out

    def satisfaction(self, codes: tuple[str, ...]) -> dict[str, Any]:
        """True CSAT / NPS of all invited and the respondents' (naive) figures."""
        out: dict[str, Any] = {}
        for s, scale in enumerate(("csat5", "nps11")):
            inv, sat, det = self.invited[s], self.satisfied[s], self.detractors[s]
            rsp, rsat, rdet = self.responded[s], self.resp_satisfied[s], self.resp_detractors[s]

            def figure(i: np.ndarray, t: np.ndarray, d: np.ndarray) -> float | None:
                total = float(i.sum())
                if total == 0:
                    return None
                share = float(t.sum()) / total
                return share if s == 0 else 100.0 * (share - float(d.sum()) / total)

            by_market = {}
            for j, code in enumerate(codes):
                if inv[j] == 0:
                    continue
                by_market[code] = {
                    "invited": int(inv[j]),
                    "responded": int(rsp[j]),
                    "true": figure(inv[j : j + 1], sat[j : j + 1], det[j : j + 1]),
                    "expected": float(self.p_satisfied[s][j] / inv[j]),
                    "respondents": figure(rsp[j : j + 1], rsat[j : j + 1], rdet[j : j + 1]),
                }
            out[scale] = {
                "measure": "share of score >= 4" if s == 0 else "NPS = % promoters (>= 9) - % detractors (<= 6)",
                "overall": {
                    "invited": int(inv.sum()),
                    "responded": int(rsp.sum()),
                    "true": figure(inv, sat, det),
                    "expected": float(self.p_satisfied[s].sum() / inv.sum()) if inv.sum() else None,
                    "respondents": figure(rsp, rsat, rdet),
                },
                "by_marketplace": by_market,
            }
        return out

    def campaign(self) -> dict[str, Any]:
        """True average effects and observed mean 30-day revenue per arm."""
        n = max(self.campaign_n, 1)
        arms = {}
        for j, arm in enumerate(ARMS):
            k = self.arm_n[j]
            mean = self.arm_revenue[j] / k if k else None
            arms[arm] = {
                "cost_eur": P.ACTION_COSTS[arm],
                "n": int(k),
                "observed_mean_revenue_30d_eur": mean,
                "true_ate_revenue_30d_eur": (
                    0.0 if arm == "control" else float(self.effect_sum[j - 1] / n)
                ),
            }
        return {"n_customers": int(self.campaign_n), "arms": arms}

    def deliveries(self, codes: tuple[str, ...]) -> dict[str, Any]:
        """Late share and mean delay (days, delivered minus promised) per marketplace."""
        out = {}
        for j, code in enumerate(codes):
            d = self.delivered[j]
            out[code] = {
                "orders": int(self.orders[j]),
                "delivered": int(d),
                "late_share": float(self.late[j] / d) if d else None,
                "mean_delay_days": float(self.delay_sum[j] / d) if d else None,
            }
        return out
