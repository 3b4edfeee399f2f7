"""Held-out evaluation of uplift scores and targeting policies.

Curves are computed for one action against the control on the rows that got
either (a randomized comparison). Customers are ranked by score, highest
first; after the top fraction phi of them:

- Qini curve (Radcliffe 2007): Q(phi) = [Y_t(phi) - Y_c(phi) N_t(phi) / N_c(phi)] / N_t,
  the incremental outcome gained per treated customer of the whole sample;
- Qini coefficient: the area between Q and the random-targeting line phi Q(1);
  0 for a random ranking, higher is better, in outcome units per customer;
- uplift curve U(phi) = (mean_t(phi) - mean_c(phi)) phi and AUUC its area;
- uplift at k%: mean_t - mean_c among the top k%.

Policy values (Dudik, Langford and Li 2011): a policy pi maps each customer
to an arm; with assignment probabilities e_T and outcome models mu,

- IPW: V = mean(1[T = pi(x)] y / e_T);
- doubly robust: V = mean(mu_pi(x) + 1[T = pi(x)] (y - mu_T(x)) / e_T),

each with a 95% normal interval from the per-row terms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_Z95 = 1.959963984540054


def qini_curve(score: np.ndarray, treated: np.ndarray, y: np.ndarray, *, points: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Fractions phi in [0, 1] and Q(phi) (see the module docstring)."""
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    t = np.asarray(treated, dtype=bool)[order]
    y = np.asarray(y, dtype=np.float64)[order]
    n = t.size
    nt = np.cumsum(t)
    nc = np.cumsum(~t)
    yt = np.cumsum(np.where(t, y, 0.0))
    yc = np.cumsum(np.where(t, 0.0, y))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(nc > 0, yt - yc * nt / np.maximum(nc, 1), yt)
    q = np.r_[0.0, q] / max(int(nt[-1]) if n else 1, 1)
    frac = np.arange(n + 1) / max(n, 1)
    grid = np.linspace(0, 1, points)
    return grid, np.interp(grid, frac, q)


def _area(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def qini_coefficient(score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> float:
    """Area between the Qini curve and random targeting (outcome units per customer)."""
    x, q = qini_curve(score, treated, y, points=201)
    return _area(x, q - x * q[-1])


def uplift_at(score: np.ndarray, treated: np.ndarray, y: np.ndarray, k: float) -> float:
    """mean outcome treated - control among the top ``k`` share (0 < k <= 1) by score."""
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    top = order[: max(int(round(k * order.size)), 1)]
    t = np.asarray(treated, dtype=bool)[top]
    y = np.asarray(y, dtype=np.float64)[top]
    if t.all() or not t.any():
        return float("nan")
    return float(y[t].mean() - y[~t].mean())


def auuc(score: np.ndarray, treated: np.ndarray, y: np.ndarray, *, points: int = 201) -> float:
    """Area under the uplift curve U(phi) = (mean_t - mean_c)(phi) * phi."""
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    t = np.asarray(treated, dtype=bool)[order]
    y = np.asarray(y, dtype=np.float64)[order]
    nt, nc = np.cumsum(t), np.cumsum(~t)
    yt, yc = np.cumsum(np.where(t, y, 0.0)), np.cumsum(np.where(t, 0.0, y))
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where((nt > 0) & (nc > 0), yt / np.maximum(nt, 1) - yc / np.maximum(nc, 1), 0.0)
    frac = np.arange(1, t.size + 1) / t.size
    grid = np.linspace(0, 1, points)
    return _area(grid, np.interp(grid, np.r_[0.0, frac], np.r_[0.0, u * frac]))


def _interval(terms: np.ndarray) -> dict[str, float]:
    mean = float(terms.mean())
    se = float(terms.std(ddof=1) / np.sqrt(terms.size)) if terms.size > 1 else float("nan")
    return {"value": mean, "se": se, "ci_low": mean - _Z95 * se, "ci_high": mean + _Z95 * se}


def policy_value(
    policy: np.ndarray, arm: np.ndarray, y: np.ndarray, propensity: np.ndarray, mu: np.ndarray | None = None,
) -> dict[str, Any]:
    """IPW and doubly robust value of ``policy`` (arm index per row) with 95% intervals.

    ``arm`` is the arm each row got, ``propensity`` (n, n_arms) the probability
    of each arm, ``mu`` (n, n_arms) outcome predictions (needed for DR).
    Also gives the gain of the policy over giving everyone arm 0 (paired terms).
    """
    rows = np.arange(arm.size)
    e = propensity[rows, arm]
    match = policy == arm
    ipw = np.where(match, y / e, 0.0)
    ipw0 = np.where(arm == 0, y / e, 0.0)
    out: dict[str, Any] = {"ipw": _interval(ipw), "ipw_gain": _interval(ipw - ipw0)}
    if mu is not None:
        resid = (y - mu[rows, arm]) / e
        dr = mu[rows, policy] + np.where(match, resid, 0.0)
        dr0 = mu[:, 0] + np.where(arm == 0, resid, 0.0)
        out["dr"] = _interval(dr)
        out["dr_gain"] = _interval(dr - dr0)
    out["share_treated"] = float(np.mean(policy != 0))
    return out


def evaluate_effects(
    effects: np.ndarray, actions: list[str], arm: np.ndarray, y: np.ndarray, propensity: np.ndarray,
    mu: np.ndarray | None, *, costs: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per action: Qini, AUUC, uplift at 10/20/30%; and the value of the greedy policy.

    The policy gives each customer the action with the largest predicted effect
    net of ``costs`` (per action, same units as y; default 0), or nothing when
    none is positive.
    """
    per_action = {}
    for k, action in enumerate(actions, start=1):
        keep = (arm == 0) | (arm == k)
        s, t, yy = effects[keep, k - 1], arm[keep] == k, y[keep]
        per_action[action] = {
            "n_treated": int(t.sum()), "n_control": int((~t).sum()),
            "ate": float(yy[t].mean() - yy[~t].mean()) if t.any() and (~t).any() else float("nan"),
            "qini": qini_coefficient(s, t, yy), "auuc": auuc(s, t, yy),
            "uplift_at": {f"{p}%": uplift_at(s, t, yy, p / 100) for p in (10, 20, 30)},
        }
    net = effects - (np.zeros(len(actions)) if costs is None else np.asarray(costs))[None, :]
    best = np.argmax(net, axis=1)
    policy = np.where(net[np.arange(net.shape[0]), best] > 0, best + 1, 0)
    return {"actions": per_action, "policy": policy_value(policy, arm, y, propensity, mu)}
