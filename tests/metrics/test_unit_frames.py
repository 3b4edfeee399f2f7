"""Units of several sources: matched by full joins or stacked and summed, same totals."""

from __future__ import annotations

import dataclasses

import pytest

from cxlab.metrics.catalog import U
from cxlab.metrics.frames import make_context, source_units, unit_frame
from cxlab.schema import MARKETPLACES
from tests.metrics.helpers import on_engine


@pytest.mark.parametrize(("grain", "by"), [("month", ("marketplace",)), ("all", ("segment",))])
def test_joined_units_equal_stacked_units(engine, pandas_tables, grain, by) -> None:
    tables = on_engine(engine, pandas_tables)
    columns = {t: tuple(lf.collect_schema().names()) for t, lf in tables.items()}
    ctx = make_context(
        tables, columns, by=by, grain=grain, since=None, until=None,
        currency="EUR", fx_currency="EUR", marketplaces=MARKETPLACES,
    )
    assert not ctx.null_marketplace
    sources = {"orders": ["o_n", "o_amount"], "events": ["e_days"], "contacts": ["k_n"]}
    parts = [(source_units(ctx, [U[n] for n in names]), names) for names in sources.values()]
    names = ["o_n", "o_amount", "e_days", "k_n", "s_invited"]  # s_invited: held by no part
    keys = list(ctx.unit_keys)

    def frame(c):
        df = engine.to_pandas(unit_frame(c, parts, names))
        return df.sort_values(keys, na_position="first").reset_index(drop=True)

    joined = frame(ctx)
    stacked = frame(dataclasses.replace(ctx, null_marketplace=True))  # the fallback
    assert len(joined) == len(stacked) > 0
    assert joined[keys].astype(str).equals(stacked[keys].astype(str))
    for n in names:
        assert joined[n].to_numpy() == pytest.approx(stacked[n].to_numpy(), rel=1e-12)
    assert (joined["s_invited"] == 0).all()
