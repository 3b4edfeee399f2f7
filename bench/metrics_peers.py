"""The metric catalog written by hand twice, as a user would instead of calling cxlab.

- :func:`duckdb_sql`: DuckDB SQL written to be fast: local time from a
  (marketplace, UTC hour) -> offset table built once from DuckDB's own time
  zone data (one hash join instead of ICU's ``timezone()`` per row), active
  days as a bitmask of days of the month (``bit_or``, one group-by, no
  ``SELECT DISTINCT``), one unit table per source (materialized once, read by
  every metric that needs it), per-metric sums with ``GROUP BY`` and no
  ``UNION ALL`` stacking;
- :func:`polars_native`: the same plan in idiomatic Polars lazy code, collected
  in one ``collect_all`` (common subplans computed once).

Both end with :func:`finish`, which turns the per-group sums ``Σy, Σx, Σy²,
Σx², Σxy`` and unit counts into values and 95% intervals (the customer is the
independent unit: cluster-robust delta-method ratio intervals, Wilson for
customer shares), written here from the formulas, not imported from cxlab.

Scope: the built-in catalog at month grain by marketplace, reporting currency
EUR, on the canonical tables as ``cxlab.synth`` writes them (every customer has
a marketplace). Neither depends on cxlab.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtrit  # the quantiles of scipy.stats, without its import time

ZONES = {  # marketplace -> (time zone, currency), as in cxlab.schema.MARKETPLACES
    "DE": ("Europe/Berlin", "EUR"), "FR": ("Europe/Paris", "EUR"), "UK": ("Europe/London", "GBP"),
    "US": ("America/New_York", "USD"), "JP": ("Asia/Tokyo", "JPY"), "BR": ("America/Sao_Paulo", "BRL"),
    "IN": ("Asia/Kolkata", "INR"), "IT": ("Europe/Rome", "EUR"), "ES": ("Europe/Madrid", "EUR"),
    "NL": ("Europe/Amsterdam", "EUR"), "PL": ("Europe/Warsaw", "PLN"), "SE": ("Europe/Stockholm", "SEK"),
    "GB": ("Europe/London", "GBP"), "CA": ("America/Toronto", "CAD"), "MX": ("America/Mexico_City", "MXN"),
    "AU": ("Australia/Sydney", "AUD"),
}
REPORTING = "EUR"

#: metric -> (group of unit sources, y, x or None, kind, scale). Unit columns:
#: o_* orders, s_* surveys by sent_ts, r_* surveys by responded_ts, k_n contacts,
#: e_* event days, c_new signups; ``active`` = an order or an event day.
CATALOG: dict[str, tuple[str, str, str | None, str, float]] = {
    "csat": ("R", "r_csat_good", "r_csat", "proportion", 1.0),
    "mean_score": ("R", "r_csat_score", "r_csat", "ratio", 1.0),
    "nps": ("R", "r_nps_net", "r_nps", "nps", 100.0),
    "response_rate": ("S", "s_responded", "s_invited", "proportion", 1.0),
    "late_delivery_rate": ("O", "o_late", "o_delivered", "proportion", 1.0),
    "return_rate": ("O", "o_returned", "o_n", "proportion", 1.0),
    "contact_rate": ("OK", "k_n", "o_n", "ratio", 1.0),
    "orders": ("O", "o_n", None, "total", 1.0),
    "revenue": ("O", "o_amount", None, "total", 1.0),
    "aov": ("O", "o_amount", "o_n", "ratio", 1.0),
    "active_customers": ("OE", "active", None, "total", 1.0),
    "new_customers": ("C", "c_new", None, "total", 1.0),
    "orders_per_active_customer": ("OE", "o_n", "active", "ratio", 1.0),
    "repeat_purchase_rate": ("O", "repeat2", "repeat1", "customer_share", 1.0),
    "stickiness": ("E", "e_day_share", "e_months", "proportion", 1.0),
}
#: derived unit columns, as SQL over the unit columns
DERIVED_SQL = {
    "active": "CASE WHEN o_n > 0 OR e_days > 0 THEN 1.0 ELSE 0.0 END",
    "repeat2": "CASE WHEN o_n >= 2 THEN 1.0 ELSE 0.0 END",
    "repeat1": "CASE WHEN o_n >= 1 THEN 1.0 ELSE 0.0 END",
}
LEVEL = 0.95


def table_files(data: Path) -> dict[str, list[str]]:
    """Parquet files of each table in a ``cxlab.synth`` folder."""
    out = {}
    for name in ("customers", "orders", "surveys", "events", "contacts", "fx"):
        folder, single = data / name, data / f"{name}.parquet"
        if folder.is_dir():
            out[name] = [str(p) for p in sorted(folder.rglob("*.parquet"))]
        elif single.exists():
            out[name] = [str(single)]
    return out


# -- intervals from sums ----------------------------------------------------------------


def finish(sums: pd.DataFrame) -> pd.DataFrame:
    """Per-(metric, marketplace, period) sums -> the tidy result cxlab returns.

    ``sums`` has ``metric, marketplace, period_start, sy, sx, syy, sxx, sxy, n``.
    Ratio kinds: ``R = Σy/Σx``, ``Var R = n/(n-1) (Σy² - 2RΣxy + R²Σx²) / (Σx)²``,
    ``R ± t(n-1) sqrt(Var R)``, clipped for proportions and NPS; customer shares:
    Wilson; totals: no interval.
    """
    out = []
    for metric, part in sums.groupby("metric", sort=False):
        _, _, x_name, kind, scale = CATALOG[str(metric)]
        sy, n = part["sy"].to_numpy(float), part["n"].to_numpy(float)
        nan = np.full(sy.shape, np.nan)
        if kind == "total":
            value, low, high, den = sy, nan, nan, nan
        elif kind == "customer_share":
            sx = part["sx"].to_numpy(float)
            z = ndtri(0.5 + LEVEL / 2)
            with np.errstate(divide="ignore", invalid="ignore"):
                p = sy / sx
                centre = (p + z * z / (2 * sx)) / (1 + z * z / sx)
                half = z * np.sqrt(p * (1 - p) / sx + z * z / (4 * sx * sx)) / (1 + z * z / sx)
            value, low, high, den = p, np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1), sx
        else:
            sx, syy, sxx, sxy = (part[c].to_numpy(float) for c in ("sx", "syy", "sxx", "sxy"))
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(sx != 0, sy / sx, np.nan)
                resid = syy - 2 * r * sxy + r * r * sxx
                noise = 64 * np.finfo(float).eps * (np.abs(syy) + np.abs(2 * r * sxy) + r * r * sxx)
                resid = np.where(resid > noise, resid, 0.0)
                var = np.where(n > 1, n / (n - 1) * resid / (sx * sx), np.nan)
                half = stdtrit(np.maximum(n - 1, 1), 0.5 + LEVEL / 2) * np.sqrt(var)
            value, low, high, den = r, r - half, r + half, sx
            if kind == "proportion":
                low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
            elif kind == "nps":
                low, high = np.clip(low, -1, 1), np.clip(high, -1, 1)
        frame = pd.DataFrame({
            "metric": metric, "period_start": part["period_start"].to_numpy(),
            "marketplace": part["marketplace"].to_numpy(),
            "value": value * scale, "ci_low": low * scale, "ci_high": high * scale,
            "n": n.astype(np.int64), "numerator": sy, "denominator": den if x_name else nan,
        })
        out.append(frame[n > 0])
    return pd.concat(out, ignore_index=True)


def _sum_columns(metrics: list[str]) -> list[tuple[str, str, str | None]]:
    return [(m, CATALOG[m][1], CATALOG[m][2]) for m in metrics]


def _metrics_of(group: str) -> list[str]:
    return [m for m, spec in CATALOG.items() if spec[0] == group]


# -- DuckDB SQL -------------------------------------------------------------------------


def duckdb_sql(files: Mapping[str, list[str]], con: object) -> pd.DataFrame:
    """The catalog in DuckDB SQL (see the module docstring for the choices)."""
    q = con.execute  # type: ignore[attr-defined]
    q("SET TimeZone = 'UTC'")
    for name, paths in files.items():
        q(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({paths!r})")
    mk = ", ".join(f"('{m}', '{tz}', '{cur}')" for m, (tz, cur) in ZONES.items())
    q(f"CREATE OR REPLACE TEMP TABLE mk AS SELECT * FROM (VALUES {mk}) t(marketplace, tz, mcur)")
    # UTC hour range of every timestamp that is placed in a period
    lo, hi = q("""
        SELECT min(lo), max(hi) FROM (
          SELECT min(order_ts) lo, max(order_ts) hi FROM orders
          UNION ALL SELECT min(sent_ts), max(sent_ts) FROM surveys
          UNION ALL SELECT min(responded_ts), max(responded_ts) FROM surveys
          UNION ALL SELECT min(contact_ts), max(contact_ts) FROM contacts
          UNION ALL SELECT min(event_ts), max(event_ts) FROM events
          UNION ALL SELECT min(signup_ts), max(signup_ts) FROM customers)""").fetchone()
    # offset (µs) of each marketplace's zone at each UTC hour: offsets change on the hour
    q(f"""
        CREATE OR REPLACE TEMP TABLE off AS
        SELECT marketplace, epoch_us(h) // 3600000000 AS hour,
               epoch_us(timezone(tz, h AT TIME ZONE 'UTC')) - epoch_us(h) AS off_us
        FROM mk, range(date_trunc('hour', TIMESTAMP '{lo}'), TIMESTAMP '{hi}' + INTERVAL 1 HOUR,
                       INTERVAL 1 HOUR) t(h)
        WHERE marketplace IN (SELECT DISTINCT marketplace FROM customers)""")
    q("""
        CREATE OR REPLACE TEMP TABLE c AS
        SELECT customer_id, marketplace, mcur, signup_ts FROM customers JOIN mk USING (marketplace)""")
    has_eur = q("SELECT count(*) FROM fx WHERE currency = 'EUR'").fetchone()[0] > 0
    q(f"""
        CREATE OR REPLACE TEMP TABLE rate AS
        SELECT currency, rate / (SELECT {'rate FROM fx WHERE currency = ' + repr(REPORTING) if has_eur else '1.0'})
               AS rate FROM fx""")

    def local(ts: str) -> str:
        # wall clock = UTC + offset of the customer's zone at that UTC hour
        return f"make_timestamp(epoch_us({ts}) + off.off_us)"

    def join_off(ts: str) -> str:
        return f"JOIN off ON off.marketplace = c.marketplace AND off.hour = epoch_us({ts}) // 3600000000"

    month = "date_trunc('month', {})"
    q(f"""
        CREATE OR REPLACE TEMP TABLE o_u AS
        SELECT o.customer_id, c.marketplace, {month.format(local('o.order_ts'))} AS p,
               count(*)::DOUBLE AS o_n,
               sum(o.amount * r.rate) AS o_amount,
               sum(CASE WHEN o.returned THEN 1.0 ELSE 0.0 END) AS o_returned,
               sum(CASE WHEN o.delivered_ts IS NOT NULL AND o.promised_ts IS NOT NULL THEN 1.0 ELSE 0.0 END)
                 AS o_delivered,
               sum(CASE WHEN o.delivered_ts > o.promised_ts THEN 1.0 ELSE 0.0 END) AS o_late
        FROM orders o JOIN c USING (customer_id) {join_off('o.order_ts')}
        LEFT JOIN rate r ON r.currency = coalesce(o.currency, c.mcur)
        WHERE o.order_ts IS NOT NULL GROUP BY ALL""")
    q(f"""
        CREATE OR REPLACE TEMP TABLE s_u AS
        SELECT s.customer_id, c.marketplace, {month.format(local('s.sent_ts'))} AS p,
               count(*)::DOUBLE AS s_invited, count(s.responded_ts)::DOUBLE AS s_responded
        FROM surveys s JOIN c USING (customer_id) {join_off('s.sent_ts')}
        WHERE s.sent_ts IS NOT NULL GROUP BY ALL""")
    q(f"""
        CREATE OR REPLACE TEMP TABLE r_u AS
        SELECT s.customer_id, c.marketplace, {month.format(local('s.responded_ts'))} AS p,
               count(*) FILTER (scale = 'csat5' AND score IS NOT NULL)::DOUBLE AS r_csat,
               count(*) FILTER (scale = 'csat5' AND score >= 4)::DOUBLE AS r_csat_good,
               coalesce(sum(score) FILTER (scale = 'csat5'), 0)::DOUBLE AS r_csat_score,
               count(*) FILTER (scale = 'nps11' AND score IS NOT NULL)::DOUBLE AS r_nps,
               (count(*) FILTER (scale = 'nps11' AND score >= 9)
                - count(*) FILTER (scale = 'nps11' AND score <= 6))::DOUBLE AS r_nps_net
        FROM surveys s JOIN c USING (customer_id) {join_off('s.responded_ts')}
        WHERE s.responded_ts IS NOT NULL GROUP BY ALL""")
    q(f"""
        CREATE OR REPLACE TEMP TABLE k_u AS
        SELECT k.customer_id, c.marketplace, {month.format(local('k.contact_ts'))} AS p, count(*)::DOUBLE AS k_n
        FROM contacts k JOIN c USING (customer_id) {join_off('k.contact_ts')}
        WHERE k.contact_ts IS NOT NULL GROUP BY ALL""")
    q(f"""
        CREATE OR REPLACE TEMP TABLE e_u AS
        SELECT customer_id, marketplace, p, bit_count(bit_or(1::BIGINT << day(lt)))::DOUBLE AS e_days,
               bit_count(bit_or(1::BIGINT << day(lt)))::DOUBLE / day(last_day(p)) AS e_day_share,
               1.0 AS e_months
        FROM (SELECT e.customer_id, c.marketplace, {local('e.event_ts')} AS lt,
                     date_trunc('month', lt) AS p
              FROM events e JOIN c USING (customer_id) {join_off('e.event_ts')}
              WHERE e.event_ts IS NOT NULL)
        GROUP BY customer_id, marketplace, p""")
    q(f"""
        CREATE OR REPLACE TEMP TABLE c_u AS
        SELECT customer_id, c.marketplace, {month.format(local('signup_ts'))} AS p, 1.0 AS c_new
        FROM c {join_off('signup_ts')} WHERE signup_ts IS NOT NULL""")

    units = {
        "O": "o_u", "S": "s_u", "R": "r_u", "E": "e_u", "C": "c_u",
        "OK": """(SELECT customer_id, coalesce(o.marketplace, k.marketplace) AS marketplace, p,
                         coalesce(o_n, 0) AS o_n, coalesce(k_n, 0) AS k_n
                  FROM o_u o FULL JOIN k_u k USING (customer_id, p))""",
        "OE": """(SELECT customer_id, coalesce(o.marketplace, e.marketplace) AS marketplace, p,
                         coalesce(o_n, 0) AS o_n, coalesce(e_days, 0) AS e_days
                  FROM o_u o FULL JOIN e_u e USING (customer_id, p))""",
    }
    parts = []
    for group, source in units.items():
        metrics = _metrics_of(group)
        used = {c for m in metrics for c in CATALOG[m][1:3] if c in DERIVED_SQL}
        derived = "".join(f", {DERIVED_SQL[c]} AS {c}" for c in sorted(used))
        aggs = []
        for m, y, x in _sum_columns(metrics):
            aggs += [f"sum({y}) AS \"{m}|sy\"", f"sum({y} * {y}) AS \"{m}|syy\""]
            present = f"{y} <> 0"
            if x:
                aggs += [f"sum({x}) AS \"{m}|sx\"", f"sum({x} * {x}) AS \"{m}|sxx\"",
                         f"sum({x} * {y}) AS \"{m}|sxy\""]
                present += f" OR {x} <> 0"
            aggs.append(f"count(*) FILTER ({present}) AS \"{m}|n\"")
        wide = q(f"""
            SELECT marketplace, strftime(p, '%Y-%m-%d') AS period_start, {', '.join(aggs)}
            FROM (SELECT *{derived} FROM {source}) GROUP BY ALL""").df()
        parts += _long(wide, metrics)
    return finish(pd.concat(parts, ignore_index=True))


def _long(wide: pd.DataFrame, metrics: list[str]) -> list[pd.DataFrame]:
    """One row per (metric, marketplace, period) from a wide frame of ``m|stat`` columns."""
    out = []
    for m in metrics:
        part = pd.DataFrame({"metric": m, "marketplace": wide["marketplace"], "period_start": wide["period_start"]})
        for stat in ("sy", "syy", "sx", "sxx", "sxy", "n"):
            col = f"{m}|{stat}"
            part[stat] = wide[col].to_numpy(float) if col in wide else np.nan
        out.append(part)
    return out


# -- Polars -----------------------------------------------------------------------------


def polars_native(files: Mapping[str, list[str]]) -> pd.DataFrame:
    """The catalog in Polars lazy code, one ``collect_all``."""
    import polars as pl  # noqa: PLC0415

    scan = {name: pl.scan_parquet(paths) for name, paths in files.items()}
    mk = pl.DataFrame(
        {"marketplace": list(ZONES), "tz": [z for z, _ in ZONES.values()], "mcur": [c for _, c in ZONES.values()]}
    ).lazy()
    stamps = [("orders", "order_ts"), ("surveys", "sent_ts"), ("surveys", "responded_ts"),
              ("contacts", "contact_ts"), ("events", "event_ts"), ("customers", "signup_ts")]
    bounds = pl.collect_all(
        [scan[t].select(pl.col(c).min().alias("lo"), pl.col(c).max().alias("hi")) for t, c in stamps]
    )
    lo = min(b["lo"][0] for b in bounds).replace(minute=0, second=0, microsecond=0)
    hi = max(b["hi"][0] for b in bounds)
    present = scan["customers"].select("marketplace").unique().collect()["marketplace"].to_list()
    hours = pl.datetime_range(lo, hi, "1h", eager=True, time_unit="us")
    # offset (µs) of each marketplace's zone at each UTC hour: offsets change on the hour
    off = pl.concat([
        pl.DataFrame({"hour": hours.dt.epoch("us") // 3_600_000_000, "marketplace": m}).with_columns(
            (hours.dt.replace_time_zone("UTC").dt.convert_time_zone(ZONES[m][0]).dt.replace_time_zone(None)
             .dt.epoch("us") - hours.dt.epoch("us")).alias("off_us")
        )
        for m in present if m in ZONES
    ]).lazy()
    cust = scan["customers"].select("customer_id", "marketplace", "signup_ts").join(mk, on="marketplace")
    fx = scan["fx"].collect()
    base = float(fx.filter(pl.col("currency") == REPORTING)["rate"].first() or 1.0)
    rate = fx.lazy().select("currency", (pl.col("rate") / base).alias("rate"))

    def localized(frame: pl.LazyFrame, ts: str) -> pl.LazyFrame:
        return (
            frame.filter(pl.col(ts).is_not_null())
            .join(cust.select("customer_id", "marketplace", "mcur"), on="customer_id")
            .with_columns((pl.col(ts).dt.epoch("us") // 3_600_000_000).alias("hour"))
            .join(off, on=["marketplace", "hour"])
            .with_columns(pl.from_epoch(pl.col(ts).dt.epoch("us") + pl.col("off_us"), time_unit="us").alias("_lt"))
            .with_columns(pl.col("_lt").dt.truncate("1mo").alias("p"))
        )

    keys = ["customer_id", "marketplace", "p"]
    one = pl.lit(1.0)
    ind = lambda e: e.cast(pl.Float64)  # noqa: E731
    o_u = (
        localized(scan["orders"], "order_ts")
        .join(rate, left_on=pl.coalesce("currency", "mcur"), right_on="currency", how="left")
        .group_by(keys)
        .agg(
            pl.len().cast(pl.Float64).alias("o_n"),
            (pl.col("amount") * pl.col("rate")).sum().alias("o_amount"),
            ind(pl.col("returned")).sum().alias("o_returned"),
            ind(pl.col("delivered_ts").is_not_null() & pl.col("promised_ts").is_not_null()).sum().alias("o_delivered"),
            ind((pl.col("delivered_ts") > pl.col("promised_ts")).fill_null(False)).sum().alias("o_late"),
        )
    )
    surveys = scan["surveys"]
    s_u = localized(surveys, "sent_ts").group_by(keys).agg(
        pl.len().cast(pl.Float64).alias("s_invited"),
        pl.col("responded_ts").count().cast(pl.Float64).alias("s_responded"),
    )
    csat = (pl.col("scale") == "csat5") & pl.col("score").is_not_null()
    nps = (pl.col("scale") == "nps11") & pl.col("score").is_not_null()
    r_u = localized(surveys, "responded_ts").group_by(keys).agg(
        ind(csat).sum().alias("r_csat"),
        ind(csat & (pl.col("score") >= 4)).sum().alias("r_csat_good"),
        pl.when(csat).then(pl.col("score")).otherwise(0.0).sum().alias("r_csat_score"),
        ind(nps).sum().alias("r_nps"),
        (ind(nps & (pl.col("score") >= 9)) - ind(nps & (pl.col("score") <= 6))).sum().alias("r_nps_net"),
    )
    k_u = localized(scan["contacts"], "contact_ts").group_by(keys).agg(pl.len().cast(pl.Float64).alias("k_n"))
    days = pl.lit(2, dtype=pl.Int64).pow(pl.col("_lt").dt.day().cast(pl.Int64)).bitwise_or()  # bitmask of days
    e_u = (
        localized(scan["events"], "event_ts").group_by(keys)
        .agg(days.bitwise_count_ones().cast(pl.Float64).alias("e_days"))
        .with_columns(
            (pl.col("e_days") / pl.col("p").dt.month_end().dt.day()).alias("e_day_share"),
            one.alias("e_months"),
        )
    )
    c_u = localized(cust.drop("mcur", "marketplace", "tz"), "signup_ts").select(*keys, one.alias("c_new"))

    def both(left: pl.LazyFrame, right: pl.LazyFrame, a: str, b: str) -> pl.LazyFrame:
        return left.select(*keys, a).join(right.select(*keys, b), on=["customer_id", "p"], how="full", coalesce=True) \
            .select(
                "customer_id", "p",
                pl.coalesce("marketplace", "marketplace_right").alias("marketplace"),
                pl.col(a).fill_null(0.0), pl.col(b).fill_null(0.0),
            )

    units = {"O": o_u, "S": s_u, "R": r_u, "E": e_u, "C": c_u,
             "OK": both(o_u, k_u, "o_n", "k_n"), "OE": both(o_u, e_u, "o_n", "e_days")}
    derived = {
        "active": ind((pl.col("o_n") > 0) | (pl.col("e_days") > 0)) if True else None,
        "repeat2": ind(pl.col("o_n") >= 2),
        "repeat1": ind(pl.col("o_n") >= 1),
    }
    queries, groups = [], []
    for group, frame in units.items():
        metrics = _metrics_of(group)
        used = sorted({c for m in metrics for c in CATALOG[m][1:3] if c in derived})
        frame = frame.with_columns(*(derived[c].alias(c) for c in used))
        aggs = []
        for m, y, x in _sum_columns(metrics):
            yy = pl.col(y)
            aggs += [yy.sum().alias(f"{m}|sy"), (yy * yy).sum().alias(f"{m}|syy")]
            present = yy != 0
            if x:
                xx = pl.col(x)
                aggs += [xx.sum().alias(f"{m}|sx"), (xx * xx).sum().alias(f"{m}|sxx"),
                         (xx * yy).sum().alias(f"{m}|sxy")]
                present = present | (xx != 0)
            aggs.append(present.sum().alias(f"{m}|n"))
        queries.append(
            frame.group_by("marketplace", "p").agg(aggs)
            .with_columns(pl.col("p").dt.strftime("%Y-%m-%d").alias("period_start"))
        )
        groups.append(metrics)
    parts = []
    for metrics, wide in zip(groups, pl.collect_all(queries), strict=True):
        parts += _long(wide.to_pandas(), metrics)
    return finish(pd.concat(parts, ignore_index=True))
