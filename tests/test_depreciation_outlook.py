"""The depreciation outlook (issue 15): the vintage model's arithmetic against its own definition, the
fit on real history, the scenarios, and a backtest whose errors are recomputed from the quarters."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.lib import depreciation as model
from pipelines.lib import outlook
from pipelines.lib.depreciation import Fit, Lives

AAPL, GOOGL = "0000320193", "0001652044"


def quarterly(db: duckdb.DuckDBPyConnection, cik: str, column: str) -> np.ndarray:
    return np.array([v for (v,) in db.execute(
        f"select {column} from marts.quarterly where cik = ? order by fiscal_year, fiscal_quarter", [cik]).fetchall()],
        dtype=float)


def test_the_projection_continues_the_fitted_model_quarter_for_quarter(db):
    """Projected vintage by vintage, the depreciation of the next quarters is what the convolution of
    the same capex gives (Apple's real capex, its last 12 quarters treated as the future)."""
    capex = quarterly(db, AAPL, "capex")[-48:]
    lives, fitted = Lives(5, 30, "test"), Fit(lag=2, short_share=0.6, other=1e8, mape=0)
    whole = model.modelled(capex, fitted.lag, fitted.short_share, lives) + fitted.other
    projected = model.project(capex[:-12], capex[-12:], fitted, lives)
    assert projected == pytest.approx(whole[-12:], rel=1e-12)


def test_a_shorter_life_depreciates_the_same_cost_sooner():
    """A change of estimate moves depreciation earlier, never adds or loses any: with no new capex,
    every vintage's cost is depreciated once in full, whichever life applies from the change."""
    capex = np.array([10.0, 30, 20, 50, 40, 60, 80, 70])
    lives, fitted = Lives(5, 8, "test"), Fit(lag=1, short_share=0.7, other=0.0, mape=0)
    past = model.modelled(capex, fitted.lag, fitted.short_share, lives).sum()
    for life in (None, 4.0, 2.0, 0.25, 0.0):  # a life under a quarter is spent in the first quarter
        future = model.project(capex, np.zeros(60), fitted, lives, short_life_from_now=life)
        assert past + future.sum() == pytest.approx(capex.sum())
    shorter = model.project(capex, np.zeros(60), fitted, lives, short_life_from_now=2.0)
    same = model.project(capex, np.zeros(60), fitted, lives)
    assert shorter[:4].sum() > same[:4].sum()  # sooner: more in the first year


def test_alphabet_is_fitted_on_its_own_lives_and_history(db):
    """Alphabet's 10-K for 2024 gives six years for servers and network equipment and 7 to 40 for
    buildings; fitted on its last 12 quarters of reported depreciation, the model is within 4 %."""
    row = db.execute("select distinct short_life_years, long_life_years, lives_source, lag_quarters, short_share, "
                     "fit_mape from marts.depreciation_outlook where cik = ? and scenario like 'disclosed%'",
                     [GOOGL]).fetchall()
    [(short, long, source, lag, share, mape)] = row
    assert (short, long) == (6, 23.5) and "0001652044-25-000014" in source
    assert 0 <= lag <= 8 and 0 <= share <= 1 and mape < 0.04
    assert (lag, share) == (0, 0.3)  # reproducible: the same data, the same fit


def test_scenarios_by_quarter_and_the_companies_that_cannot_be_projected(db):
    frame = db.execute("select * from marts.depreciation_outlook where cik = ? order by scenario, step", [GOOGL]).df()
    assert frame.groupby("scenario").step.apply(list).map(len).to_dict() == {
        "disclosed lives, capex at TTM level": 12, "disclosed lives, no new capex": 12,
        "servers 4 years, capex at TTM level": 12, "servers 4 years, no new capex": 12}
    disclosed = frame[frame.scenario.str.startswith("disclosed")].pivot(index="step", columns="scenario",
                                                                        values="projected_da")
    spending, none = disclosed["disclosed lives, capex at TTM level"], disclosed["disclosed lives, no new capex"]
    assert (spending[2:] > none[2:]).all() and none.is_monotonic_decreasing  # what is locked in runs off
    # locked in: the capex already spent, without the constant for what capex does not explain (never
    # negative: amortization, not a credit), which the no-new-capex scenario adds back
    assert (frame.other_da_per_quarter >= 0).all() and (frame.locked_in_da <= frame.projected_da + 1).all()
    no_capex = frame[frame.scenario.str.endswith("no new capex")]
    assert (no_capex.locked_in_da + no_capex.other_da_per_quarter).to_numpy() == pytest.approx(no_capex.projected_da.to_numpy())
    # Alphabet's first projected quarter follows its fiscal Q1 2026
    assert frame.iloc[0][["fiscal_year", "fiscal_quarter"]].tolist() == [2026, 2]
    reasons = dict(db.execute("select ticker, reason from marts.depreciation_outlook where reason is not null").fetchall())
    assert reasons["AMZN"].startswith("no discrete quarters") and reasons["META"].startswith("no discrete quarters")
    assert reasons["NVDA"].startswith("history too short: 14 consecutive quarters with capex")


def test_the_backtest_errors_recomputed_from_the_reported_quarters(db):
    """The flat baseline's error, recomputed here from Apple's reported D&A: the mart's own must match;
    and the verdict is the real one (on Apple's steady depreciation, D&A held flat is hard to beat)."""
    [(origins, first, last, mape_model, mape_flat, mape_trend, verdict)] = db.execute(
        "select origins, first_origin, last_origin, mape_model, mape_flat, mape_trend, verdict "
        "from marts.depreciation_backtest where cik = ? and horizon = 4", [AAPL]).fetchall()
    rows = db.execute("select period_end, d_and_a from marts.quarterly where cik = ? order by period_end", [AAPL]).fetchall()
    ends = [end for end, _ in rows]
    da = np.array([value for _, value in rows], dtype=float)
    origins_at = [i for i, end in enumerate(ends) if first <= end <= last]
    recomputed = np.mean([abs(da[i] / da[i + 4] - 1) for i in origins_at])
    assert origins == len(origins_at) == 36 and mape_flat == pytest.approx(recomputed)
    assert mape_trend > mape_flat and verdict == "beats D&A on its trend, not D&A held flat"
    assert mape_model < mape_trend
    no_backtest = dict(db.execute("select ticker, verdict from marts.depreciation_backtest where horizon is null").fetchall())
    assert no_backtest["GOOGL"].startswith("too little history to backtest")  # D&A reported since 2023 only


def test_finance_lease_additions_and_net_capex_as_other_inputs(db):
    """Alphabet's outlook is projected again from capex plus the property and equipment it acquired under
    finance leases (reported quarterly from 2024): the same model, fitted and projected on that series,
    recomputed here from the mart's quarters. Net capex needs the proceeds in every quarter, which
    Alphabet does not report, so it says so instead of projecting."""
    tail, _ = outlook.usable(outlook.quarters(db).query("cik == @GOOGL"))  # the quarters the outlook uses
    series = tail.capex.to_numpy(float) + tail.finance_lease_additions.fillna(0).to_numpy(float)
    rows = db.execute("select step, projected_da_with_finance_leases, fit_mape_with_finance_leases, "
                      "source_with_finance_leases, projected_da_net_capex, source_net_capex, short_life_years, "
                      "long_life_years, projected_da from marts.depreciation_outlook "
                      "where cik = ? and scenario = 'disclosed lives, capex at TTM level' order by step", [GOOGL]).fetchall()
    lives = Lives(rows[0][6], rows[0][7], "test")
    fitted = model.fit(series, tail.d_and_a.to_numpy(float), lives)
    expected = model.project(series, np.full(model.HORIZON, series[-4:].mean()), fitted, lives)
    assert [row[1] for row in rows] == pytest.approx(expected, rel=1e-9)
    assert rows[0][2] == pytest.approx(fitted.mape)
    reported = int(tail.finance_lease_additions.notna().sum())
    assert reported == 9 and rows[0][3] == (f"capex plus finance-lease additions, reported for 9 of the {len(tail)} "
                                            "quarters (2024-03-31 to 2026-03-31); a quarter without them counts none, "
                                            "and annual totals are not spread over quarters")
    assert all(row[4] is None for row in rows) and rows[0][5].startswith("capex net of proceeds reported for ")
    assert rows[-1][1] > rows[-1][8]  # leased capacity adds depreciation


def test_an_other_input_counts_only_where_the_fit_window_reports_it():
    """Finance-lease additions reported for three early quarters only: a fit whose 12 quarters include
    one of them uses them, a later fit (and the outlook) does not, and the source says when they stopped."""
    quarters = 40
    tail = pd.DataFrame({
        "capex": np.full(quarters, 100.0),
        "finance_lease_additions": [50.0 if 4 <= q < 7 else np.nan for q in range(quarters)],
        "capex_net": np.nan,
        "period_end": pd.date_range("2010-03-31", periods=quarters, freq="QE"),
    })
    leases = outlook.variants(tail)["with_finance_leases"]
    assert leases.series[5] == 150 and leases.series[20] == 100  # none counted where not reported
    assert [leases.usable_at(origin) for origin in (3, 4, 17, 18, 39)] == [False, True, True, False, False]
    assert leases.stale.startswith("finance-lease additions last reported for 2011-09-30, before the 12 quarters")
    assert "(2011-03-31 to 2011-09-30)" in leases.source
    assert outlook.variants(tail)["net_capex"].series is None
