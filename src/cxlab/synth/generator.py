"""``generate``: the synthetic worldwide marketplace, streamed to disk chunk by chunk."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlab._fs import staged_dir
from cxlab.exceptions import InputDataError
from cxlab.schema import MARKETPLACES, MIN_TIMESTAMP
from cxlab.synth import params as P
from cxlab.synth.campaign import ACTIONS, ARMS, draw_campaign
from cxlab.synth.contacts import REASONS, draw_contacts
from cxlab.synth.customers import Customers, draw_customers
from cxlab.synth.events import draw_events
from cxlab.synth.incidents import Incident, check_incidents, drop_orders
from cxlab.synth.incidents import write_truth as write_incidents
from cxlab.synth.orders import draw_orders
from cxlab.synth.purchases import draw_purchases
from cxlab.synth.surveys import SCALE_NAMES, draw_surveys
from cxlab.synth.truth import CUSTOMER_TRUTH_SCHEMA, SURVEY_TRUTH_SCHEMA, TruthAccumulator
from cxlab.synth.window import Window
from cxlab.synth.writer import (
    StreamingFile,
    build_table,
    format_ids,
    labels,
    timestamps,
    write_file,
    write_part,
)

logger = logging.getLogger(__name__)

#: Tables written as folders of parts, in the order they are written.
PART_TABLES: tuple[str, ...] = ("customers", "orders", "events", "surveys", "contacts", "treatments")
_ID_WIDTH = {"customer": 9, "order": 11, "survey": 11, "contact": 11}
_MIN_WINDOW_DAYS = P.CAMPAIGN_DAYS_BEFORE_END + 30
#: Promised delivery dates may lie up to this many days after ``end``.
_PROMISE_MARGIN_DAYS = 7


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate` wrote.

    Attributes
    ----------
    out : Path
        The dataset folder.
    customers, random_state : int
    start, end : date
    marketplaces : tuple of str
    rows : dict of str to int
        Rows written per canonical table.
    truth : dict
        The content of ``truth/summary.json``.
    """

    out: Path
    customers: int
    random_state: int
    start: date
    end: date
    marketplaces: tuple[str, ...]
    rows: dict[str, int] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)


def _check_args(
    customers: int, random_state: int, out: Path, start: date, end: date,
    marketplaces: Sequence[str], chunk_size: int, overwrite: bool,
) -> tuple[str, ...]:
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 1:
        raise InputDataError(f"generate: 'customers' must be a positive integer; got {customers!r}.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputDataError(f"generate: 'chunk_size' must be a positive integer; got {chunk_size!r}.")
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise InputDataError(f"generate: 'random_state' must be a non-negative integer; got {random_state!r}.")
    if start < date.fromisoformat(MIN_TIMESTAMP):
        raise InputDataError(f"generate: 'start' must be on or after {MIN_TIMESTAMP}; got {start}.")
    if (end - start).days + 1 < _MIN_WINDOW_DAYS:
        raise InputDataError(
            f"generate: the window from 'start' to 'end' must span at least {_MIN_WINDOW_DAYS} "
            f"days; got {start} to {end}. Move 'start' earlier."
        )
    latest = date.today() - timedelta(days=_PROMISE_MARGIN_DAYS + 1)
    if end > latest:
        raise InputDataError(
            f"generate: 'end' must be on or before {latest} ({_PROMISE_MARGIN_DAYS + 1} days "
            f"before today) so that no timestamp, promised deliveries included, lies in "
            f"the future; got {end}."
        )
    codes = tuple(marketplaces)
    known = [c for c in P.known_marketplaces() if c in MARKETPLACES]
    unknown = [c for c in codes if c not in known]
    if not codes or unknown or len(set(codes)) != len(codes):
        raise InputDataError(
            "generate: 'marketplaces' must be distinct codes among "
            f"{', '.join(known)}; got {', '.join(codes) or 'none'}"
            + (f" (unknown: {', '.join(unknown[:5])})." if unknown else ".")
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not (overwrite or _is_generated(out)):
            raise InputDataError(
                f"generate: output folder {out} exists, is not empty and is not a "
                "dataset made by cxlab.synth; choose another folder or pass "
                "overwrite=True."
            )
    return codes


def _is_generated(out: Path) -> bool:
    """Whether ``out`` holds a dataset written by this generator (safe to replace)."""
    marker = out / "truth" / "summary.json"
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("generator") == "cxlab.synth"
    except (OSError, ValueError, AttributeError):
        return False


def generate(
    *,
    customers: int,
    random_state: int,
    out: Path,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
    marketplaces: Sequence[str] = P.DEFAULT_MARKETPLACES,
    chunk_size: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
    incidents: Sequence[Incident] = (),
) -> GenerationSummary:
    """Generate a synthetic worldwide marketplace with its ground truth.

    Parameters
    ----------
    customers : int
        Number of customers (at least 1).
    random_state : int
        Seed of the random streams. The same random_state and arguments (``chunk_size``
        included) give byte-identical files.
    out : Path
        Dataset folder to create. It is written atomically: the data is built in a
        hidden sibling folder that is renamed to ``out`` at the end.
    start, end : date
        First and last day of the window (UTC, ``end`` included). Every timestamp
        lies within, except promised delivery dates of the last orders, which
        may fall up to 7 days after ``end``; so ``end`` must be at least 8 days
        before today. The window must span at least 90 days.
    marketplaces : sequence of str
        Marketplace codes (default: DE, FR, UK, US, JP, BR, IN).
    chunk_size : int
        Customers per chunk; memory grows with it (about 0.5 GB per 100,000).
    progress : callable, optional
        Called as ``progress(customers_done, customers_total)`` after each chunk.
    overwrite : bool
        Replace ``out`` if it exists and is not empty. A folder that holds an
        earlier output of this generator (``truth/summary.json`` says so) is
        replaced without it.
    incidents : sequence of Incident
        Late deliveries, order drops or return rises to inject
        (:mod:`cxlab.synth.incidents`); written to ``truth/incidents.json``.

    Returns
    -------
    GenerationSummary

    Raises
    ------
    InputDataError
        If an argument is out of range, or ``out`` is not empty and not an earlier
        output of the generator.

    Notes
    -----
    See ``docs/synth.md`` for the layout of the output, the processes and the
    truth files.
    """
    out = Path(out)
    codes = _check_args(customers, random_state, out, start, end, marketplaces, chunk_size, overwrite)
    incidents = check_incidents(incidents, codes, start, end)
    window = Window(start, end)
    markets = tuple(P.market_params(c) for c in codes)
    currencies = tuple(MARKETPLACES[c].currency for c in codes)
    n_chunks = -(-customers // chunk_size)
    streams = np.random.SeedSequence(random_state).spawn(n_chunks)

    acc = TruthAccumulator(n_markets=len(codes))
    if out.exists() and not out.is_dir():
        out.unlink()  # _check_args allowed overwriting it
    with staged_dir(out) as tmp:
        ctx = _Context(window, codes, markets, currencies, tmp, acc, incidents, random_state)
        truth_customers = StreamingFile(tmp / "truth" / "customers.parquet", CUSTOMER_TRUTH_SCHEMA)
        truth_surveys = StreamingFile(tmp / "truth" / "surveys.parquet", SURVEY_TRUTH_SCHEMA)
        try:
            for k in range(n_chunks):
                first = k * chunk_size
                n = min(chunk_size, customers - first)
                tc, ts = _chunk(np.random.default_rng(streams[k]), k, first, n, ctx)
                truth_customers.write(tc)
                truth_surveys.write(ts)
                logger.debug("generated chunk %d/%d (%d customers)", k + 1, n_chunks, n)
                if progress is not None:
                    progress(first + n, customers)
        finally:
            truth_customers.close()
            truth_surveys.close()
        _write_fx(tmp, currencies, acc)
        if incidents:
            write_incidents(tmp / "truth", incidents)
        summary = _summary(ctx, random_state=random_state, customers=customers, chunk_size=chunk_size)
        (tmp / "truth" / "summary.json").write_text(
            json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
    logger.info("wrote %d customers to %s", customers, out)
    return GenerationSummary(
        out=out, customers=customers, random_state=random_state, start=start, end=end,
        marketplaces=codes, rows=dict(acc.rows), truth=summary,
    )


@dataclass(frozen=True)
class _Context:
    window: Window
    codes: tuple[str, ...]
    markets: tuple[P.MarketParams, ...]
    currencies: tuple[str, ...]
    out: Path
    acc: TruthAccumulator
    incidents: tuple[Incident, ...] = ()
    seed: int = 0


def _chunk(
    rng: np.random.Generator, k: int, first: int, n: int, ctx: _Context
) -> tuple[pa.Table, pa.Table]:
    """Generate and write chunk ``k``; return its truth tables."""
    w, acc = ctx.window, ctx.acc
    cust = draw_customers(rng, first_index=first, n=n, markets=ctx.markets, window=w)
    purchases = draw_purchases(rng, cust, w)
    campaign = draw_campaign(rng, cust, purchases, w)
    orders = draw_orders(
        rng, cust, purchases, campaign, markets=ctx.markets, currencies=ctx.currencies, window=w,
        incidents=ctx.incidents, codes=ctx.codes,
    )
    if ctx.incidents:  # own stream: the main one is untouched
        orders = drop_orders(orders, cust.market[orders.owner], ctx.incidents, ctx.codes, w.start,
                             np.random.default_rng([ctx.seed, k, 0x1C1D]))
    contacts = draw_contacts(rng, cust, orders, w)
    nps_share = np.array([m.nps_share for m in ctx.markets])
    surveys = draw_surveys(rng, cust, orders, contacts.per_order, nps_share=nps_share, window=w)
    events = draw_events(rng, cust, purchases, w)

    cust_ids = format_ids("C", cust.index + 1, _ID_WIDTH["customer"])
    market_names = labels(cust.market, ctx.codes)
    order_ids = format_ids("O", acc.rows.get("orders", 0) + np.arange(orders.n) + 1, _ID_WIDTH["order"])
    survey_ids = format_ids(
        "S", acc.rows.get("surveys", 0) + np.arange(surveys.order.size) + 1, _ID_WIDTH["survey"]
    )
    contact_ids = format_ids(
        "K", acc.rows.get("contacts", 0) + np.arange(contacts.day.size) + 1, _ID_WIDTH["contact"]
    )

    def owner_ids(owner: np.ndarray) -> pa.Array:
        return cust_ids.take(pa.array(owner, type=pa.int64()))

    tables: dict[str, pa.Table] = {}
    tables["customers"] = build_table("customers", {
        "customer_id": cust_ids,
        "marketplace": market_names,
        "signup_ts": timestamps(w.to_us(cust.signup_day)),
        "segment": labels(cust.segment, P.SEGMENTS),
        "prime": pa.array(cust.prime, type=pa.bool_()),
        "device": labels(cust.device, P.DEVICES),
        "age_band": labels(cust.age_band, P.AGE_BANDS),
    })
    o_market = cust.market[orders.owner]
    carrier_names = tuple(name for m in ctx.markets for name in m.carriers)
    not_delivered = np.isnan(orders.delivered_day)
    tables["orders"] = build_table("orders", {
        "order_id": order_ids,
        "customer_id": owner_ids(orders.owner),
        "order_ts": timestamps(w.to_us(orders.day)),
        "amount": pa.array(orders.amount, type=pa.float64()),
        "currency": labels(o_market, ctx.currencies),
        "promised_ts": timestamps(w.to_us(orders.promised_day)),
        "delivered_ts": timestamps(
            w.to_us(np.nan_to_num(orders.delivered_day)), not_delivered
        ),
        "returned": pa.array(orders.returned, type=pa.bool_()),
        "category": labels(orders.category, P.CATEGORIES),
        "carrier": labels(o_market * len(P.CARRIER_PROBS) + orders.carrier, carrier_names),
    })
    tables["events"] = build_table("events", {
        "customer_id": owner_ids(events.owner),
        "event_ts": timestamps(w.to_us(events.day)),
        "event_type": labels(events.event_type, P.EVENT_TYPES),
    })
    s_owner = orders.owner[surveys.order]
    silent = ~surveys.responded
    tables["surveys"] = build_table("surveys", {
        "survey_id": survey_ids,
        "customer_id": owner_ids(s_owner),
        "sent_ts": timestamps(w.to_us(surveys.sent_day)),
        "responded_ts": timestamps(w.to_us(np.nan_to_num(surveys.responded_day)), silent),
        "score": pa.array(surveys.score, type=pa.float64(), mask=silent),
        "scale": labels(surveys.scale, SCALE_NAMES),
        "order_id": order_ids.take(pa.array(surveys.order, type=pa.int64())),
    })
    general = contacts.order < 0
    tables["contacts"] = build_table("contacts", {
        "contact_id": contact_ids,
        "customer_id": owner_ids(contacts.owner),
        "contact_ts": timestamps(w.to_us(contacts.day)),
        "reason": labels(contacts.reason, REASONS),
        "order_id": order_ids.take(
            pa.array(np.where(general, 0, contacts.order), type=pa.int64(), mask=general)
        ),
    })
    in_campaign = np.flatnonzero(campaign.arm >= 0)
    arm = campaign.arm[in_campaign]
    tables["treatments"] = build_table("treatments", {
        "customer_id": owner_ids(in_campaign),
        "action": labels(arm, ARMS),
        "assigned_ts": timestamps(np.full(arm.size, w.to_us(np.array([w.assign_day]))[0])),
        "cost": pa.array(np.asarray([P.ACTION_COSTS[a] for a in ARMS])[arm], type=pa.float64()),
        "randomized": pa.array(np.ones(arm.size, dtype=bool), type=pa.bool_()),
    })
    for name in ("customers", "orders", "events", "surveys", "contacts", "treatments"):
        write_part(ctx.out, name, k, tables[name])
        acc.add_rows(name, tables[name].num_rows)

    # --- truth ---------------------------------------------------------------
    acc.add_customers(cust.market, purchases.born)
    acc.add_orders(o_market, orders.delay_days, orders.late)
    s_market = cust.market[s_owner]
    acc.add_surveys(
        s_market, surveys.scale, surveys.score, surveys.p_satisfied, surveys.responded,
        surveys.terms,
    )
    in_window = (orders.day >= w.assign_day) & (orders.day < w.assign_day + P.CAMPAIGN_WINDOW_DAYS)
    revenue = np.bincount(
        orders.owner[in_window], weights=orders.amount_eur[in_window], minlength=n
    )
    acc.add_campaign(campaign.arm, campaign.effect_eur, revenue)
    return (
        _customer_truth(cust, purchases, campaign, revenue, orders, cust_ids, market_names, ctx),
        pa.Table.from_arrays(
            [
                survey_ids,
                tables["surveys"]["order_id"].combine_chunks(),
                tables["surveys"]["customer_id"].combine_chunks(),
                labels(s_market, ctx.codes),
                labels(surveys.scale, SCALE_NAMES),
                pa.array(surveys.score, type=pa.float64()),
                pa.array(surveys.p_satisfied, type=pa.float64()),
                pa.array(surveys.p_respond, type=pa.float64()),
                pa.array(surveys.responded, type=pa.bool_()),
                pa.array(surveys.eta, type=pa.float64()),
            ],
            schema=SURVEY_TRUTH_SCHEMA,
        ),
    )


def _customer_truth(
    cust: Customers, purchases: Any, campaign: Any, revenue: np.ndarray, orders: Any,
    cust_ids: pa.Array, market_names: pa.Array, ctx: _Context,
) -> pa.Table:
    w = ctx.window
    fx = np.array([P.FX_TO_EUR[c] for c in ctx.currencies])[cust.market]
    spend_eur = cust.spend_p / cust.nu_eur
    unborn = ~purchases.born
    arm = campaign.arm
    arm_labels = labels(np.maximum(arm, 0), ARMS)
    arm_labels = pc.if_else(pa.array(arm >= 0), arm_labels, pa.nulls(arm.size, pa.string()))
    columns: list[pa.Array] = [
        cust_ids,
        market_names,
        pa.array(cust.lam, type=pa.float64()),
        pa.array(cust.p_drop, type=pa.float64()),
        pa.array(purchases.alive_end, type=pa.bool_()),
        timestamps(w.to_us(np.where(unborn, 0.0, cust.birth_day)), unborn),
        pa.array(purchases.frequency, type=pa.int64()),
        pa.array(purchases.recency_weeks, type=pa.float64()),
        pa.array(purchases.T_weeks, type=pa.float64()),
        pa.array(spend_eur, type=pa.float64()),
        pa.array(spend_eur / fx, type=pa.float64()),
        pa.array(cust.customer_effect, type=pa.float64()),
        arm_labels,
        pa.array(campaign.alive_at_assignment, type=pa.bool_()),
        *[pa.array(campaign.effect_eur[:, j], type=pa.float64()) for j in range(len(ACTIONS))],
        pa.array(revenue, type=pa.float64()),
        pa.array(np.bincount(orders.owner[orders.incremental], minlength=cust.n), type=pa.int64()),
    ]
    return pa.Table.from_arrays(columns, schema=CUSTOMER_TRUTH_SCHEMA)


def _write_fx(out: Path, currencies: tuple[str, ...], acc: TruthAccumulator) -> None:
    used = sorted(set(currencies) | {"EUR"})
    table = build_table("fx", {
        "currency": pa.array(used, type=pa.string()),
        "rate": pa.array([P.FX_TO_EUR[c] for c in used], type=pa.float64()),
    })
    write_file(out / "fx.parquet", table)
    acc.add_rows("fx", table.num_rows)


def _summary(ctx: _Context, *, random_state: int, customers: int, chunk_size: int) -> dict[str, Any]:
    w, acc = ctx.window, ctx.acc
    importance = acc.driver_importance()
    causes = [c for c in importance if c != "customer"]
    top = causes[:3]
    satisfaction = acc.satisfaction(ctx.codes)
    campaign = acc.campaign()

    def flat(scale: str) -> dict[str, Any]:
        block = satisfaction[scale]
        return {
            "overall": block["overall"]["true"],
            "by_marketplace": {m: v["true"] for m, v in block["by_marketplace"].items()},
        }

    return {
        "generator": "cxlab.synth",
        "format_version": 1,
        "random_state": random_state,
        "customers": customers,
        "chunk_size": chunk_size,
        "start": w.start.isoformat(),
        "end": w.end.isoformat(),
        "observation_end": w.end_exclusive.isoformat(),
        "reporting_currency": "EUR",
        "marketplaces": {
            code: {
                "currency": MARKETPLACES[code].currency,
                "timezone": MARKETPLACES[code].timezone,
                "continent": MARKETPLACES[code].continent,
                "customers": int(acc.customers[j]),
                "customers_with_orders": int(acc.born[j]),
            }
            for j, code in enumerate(ctx.codes)
        },
        "rows": dict(acc.rows),
        "layout": {
            "parts": {name: f"{name}/part-NNNNN.parquet" for name in PART_TABLES},
            "single_files": ["fx.parquet", "truth/customers.parquet", "truth/surveys.parquet"],
        },
        "time_unit": "W",
        "bgnbd_observation": (
            "Each customer is observed from the first order (the BG/NBD birth, "
            "T = 0) to observation_end. Orders caused by the retention campaign "
            "(truth/customers.parquet: incremental_orders) are additional to the "
            "BG/NBD process; truth/customers.parquet gives the exact BG/NBD "
            "frequency, recency_weeks and T_weeks without them."
        ),
        "bgnbd": {
            code: {"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b}
            for code, m in zip(ctx.codes, ctx.markets)
        },
        "gamma_gamma": {
            code: {**P.gamma_gamma_local(m, cur), "currency": cur}
            for code, m, cur in zip(ctx.codes, ctx.markets, ctx.currencies)
        },
        "gamma_gamma_eur": {
            code: {"p": m.p, "q": m.q, "gamma": m.gamma_eur}
            for code, m in zip(ctx.codes, ctx.markets)
        },
        "fx_to_eur": {c: P.FX_TO_EUR[c] for c in sorted(set(ctx.currencies) | {"EUR"})},
        "deliveries": acc.deliveries(ctx.codes),
        "csat_invited": flat("csat5"),
        "nps_invited": flat("nps11"),
        "satisfaction": satisfaction,
        "drivers": [P.DRIVER_FEATURES[c][0] for c in top],
        "driver_causes": [
            {"cause": c, "features": list(P.DRIVER_FEATURES[c]), "importance": importance[c]}
            for c in top
        ],
        "driver_importance": importance,
        "driver_sd": acc.driver_sd(),
        "satisfaction_coefficients": _coefficients(P.SATISFACTION),
        "response_coefficients": _coefficients(P.RESPONSE),
        "response_mechanism": (
            "missing at random given observables: P(respond) depends only on late, "
            "days late, returned, contacts about the order, age_band, device, "
            "segment and prime"
        ),
        "campaign": {
            "assigned_ts": w.day_datetime(w.assign_day).isoformat(),
            "window_days": P.CAMPAIGN_WINDOW_DAYS,
            "randomized": True,
            "currency": "EUR",
            **campaign,
        },
        "true_ate_revenue_30d_eur": {
            a: campaign["arms"][a]["true_ate_revenue_30d_eur"] for a in ACTIONS
        },
    }


def _coefficients(obj: object) -> dict[str, Any]:
    return {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in vars(obj).items()
    }

