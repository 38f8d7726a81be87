"""The depreciation outlook and its backtest, per followed company, from the warehouse's quarters and
the useful lives the company discloses (the model itself is pipelines/lib/depreciation.py). Computed
here in Python; sql/marts/depreciation_outlook.sql and depreciation_backtest.sql store them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipelines.lib import depreciation as model
from pipelines.lib import query
from pipelines.lib.depreciation import Lives

SHORT_LIVED = r"server|network|computer equipment|technology equipment|compute hardware"  # short-lived classes
LONG_LIVED = r"building"
SCENARIOS = [  # (name, short life: disclosed or the shorter one, capex continuing at its TTM level)
    ("disclosed lives, capex at TTM level", False, True),
    ("disclosed lives, no new capex", False, False),
    (f"servers {model.SHORTER_SHORT_LIFE:g} years, capex at TTM level", True, True),
    (f"servers {model.SHORTER_SHORT_LIFE:g} years, no new capex", True, False),
]
HORIZONS = (4, 8)
VARIANTS = {  # the other inputs the vintages are built from (variants()), with what they are
    "with_finance_leases": "capex plus finance-lease additions",
    "net_capex": "net capex",
}


def quarters(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each followed company's discrete quarters, in order, with the TTM figures of each quarter."""
    return conn.execute("""
        select q.cik, q.ticker, q.fiscal_year, q.fiscal_quarter, q.period_end, q.calendar_quarter, q.capex,
               q.finance_lease_additions, q.capex_net, q.d_and_a, t.revenue as ttm_revenue, t.operating_income as ttm_operating_income,
               t.d_and_a as ttm_d_and_a
        from marts.quarterly as q
        left join marts.ttm as t using (cik, fiscal_year, fiscal_quarter)
        where q.cik in (select cik from main.followed_companies)
        order by q.cik, q.fiscal_year, q.fiscal_quarter""").df()


def disclosed_lives(conn: duckdb.DuckDBPyConnection, cik: str) -> Lives:
    """The company's latest stated lives of servers and network equipment and of buildings (the middle
    of a range), else the defaults; source names the classes and filings."""
    rows = conn.execute("""
        select asset_class, avg(years) as years, max(as_of) as as_of, min(accn) as accn
        from core.useful_lives
        where cik = ? and as_of = (select max(as_of) from core.useful_lives as l
                                   where l.cik = useful_lives.cik and l.asset_class = useful_lives.asset_class)
        group by asset_class""", [cik]).fetchall()

    def pick(pattern: str, default: float, kind: str) -> tuple[float, str]:
        chosen = [row for row in rows if re.search(pattern, row[0])]
        if not chosen:
            return default, f"{kind} {default:g} years (default)"
        latest = max(as_of for _, _, as_of, _ in chosen)
        chosen = [row for row in chosen if row[2] == latest]
        years = float(np.mean([row[1] for row in chosen]))
        return years, f"{kind} {years:g} years ({', '.join(f'{c} as of {a}, {n}' for c, _, a, n in chosen)})"

    short, short_source = pick(SHORT_LIVED, model.DEFAULT_SHORT_LIFE, "short-lived")
    long, long_source = pick(LONG_LIVED, model.DEFAULT_LONG_LIFE, "long-lived")
    return Lives(short, long, f"{short_source}; {long_source}")


def usable(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The company's last run of consecutive quarters with capex, and why it cannot be projected
    when it is too short (the fit needs FIT_QUARTERS of D&A after enough capex to depreciate)."""
    index = frame.fiscal_year * 4 + frame.fiscal_quarter
    breaks = (index.diff() != 1) | frame.capex.isna()
    tail = frame[breaks.cumsum() == breaks.cumsum().iloc[-1]]
    tail = tail[tail.capex.notna()]
    needed = model.MIN_QUARTERS
    if len(tail) < needed:
        return tail, (f"history too short: {query.counted(len(tail), 'consecutive quarter')} with capex, the model needs {needed} "
                      f"({model.FIT_QUARTERS} of D&A to fit, after {needed - model.FIT_QUARTERS} of capex)")
    if tail.d_and_a.iloc[-model.FIT_QUARTERS:].isna().any():
        return tail, (f"history too short: D&A reported for {int(tail.d_and_a.iloc[-model.FIT_QUARTERS:].notna().sum())}"
                      f" of the last {model.FIT_QUARTERS} quarters")
    return tail, None


@dataclass(frozen=True)
class OtherInput:
    series: np.ndarray | None  # per quarter of the tail; None: not reported enough to use
    source: str  # how much of it is reported, or why it is not used
    reported: np.ndarray | None = None  # per quarter: the input itself is reported (not counted as none)
    stale: str = ""  # the source when the latest fit window does not report it

    def usable_at(self, origin: int) -> bool:
        """Whether a fit ending at this quarter of the tail sees the input reported at least once in its
        window: before, or long after it stopped, the series is capex alone."""
        return self.series is not None and bool(self.reported[max(origin - model.FIT_QUARTERS + 1, 0): origin + 1].any())


def variants(tail: pd.DataFrame) -> dict[str, OtherInput]:
    """The other series the vintages can be built from: capex plus the property and equipment acquired
    under finance leases (leased capacity is depreciated too; a quarter that does not disclose them
    counts none), and capex net of the proceeds from selling property and equipment (Amazon's, with its
    incentives), which needs those proceeds in every quarter."""
    capex, leases, net = tail.capex.to_numpy(float), tail.finance_lease_additions, tail.capex_net
    quarters_ = query.counted(len(tail), "quarter")
    reported = leases.notna().to_numpy()
    if reported.any():
        ends = tail.period_end[leases.notna()]
        with_leases = OtherInput(
            capex + leases.fillna(0).to_numpy(float),
            f"capex plus finance-lease additions, reported for {int(reported.sum())} of the {quarters_} "
            f"({ends.min():%Y-%m-%d} to {ends.max():%Y-%m-%d}); a quarter without them counts none, and annual "
            "totals are not spread over quarters", reported,
            f"finance-lease additions last reported for {ends.max():%Y-%m-%d}, before the {model.FIT_QUARTERS} quarters "
            "the model is fitted to: not projected")
    else:
        with_leases = OtherInput(None, "no finance-lease additions reported in these quarters")
    if net.notna().all():
        net_capex = OtherInput(net.to_numpy(float), f"capex net of proceeds in all {quarters_}", np.ones(len(tail), bool))
    else:
        net_capex = OtherInput(None, f"capex net of proceeds reported for {int(net.notna().sum())} of the {quarters_}: "
                                     "not projected" if net.notna().any() else "no proceeds from property and equipment reported")
    return {"with_finance_leases": with_leases, "net_capex": net_capex}


def outlook(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per company, scenario and projected quarter; a company that cannot be projected gets
    one row with its reason."""
    records = []
    by_company = dict(tuple(quarters(conn).groupby("cik", sort=True)))
    for cik, ticker in conn.execute("select cik, ticker from main.followed_companies order by cik").fetchall():
        if cik not in by_company:
            records.append({"cik": cik, "ticker": ticker, "reason": "no discrete quarters in the warehouse "
                            "(offline: fiscal years only, or no data)"})
            continue
        frame = by_company[cik]
        tail, reason = usable(frame)
        last = frame.iloc[-1]
        base = {"cik": cik, "ticker": last.ticker, "origin_period_end": last.period_end}
        if reason:
            records.append({**base, "reason": reason})
            continue
        lives = disclosed_lives(conn, cik)
        capex, da = tail.capex.to_numpy(float), tail.d_and_a.to_numpy(float)
        fitted = model.fit(capex, da, lives)
        alternatives = {name: (other, model.fit(other.series, da, lives) if other.usable_at(len(tail) - 1) else None)
                        for name, other in variants(tail).items()}
        latest = tail.iloc[-1]
        for name, shorter, spending in SCENARIOS:
            future = _continuing(capex, model.HORIZON, spending)
            short_life = model.SHORTER_SHORT_LIFE if shorter else None
            # what the capex already spent adds, the constant for what capex does not explain left out
            locked_in = model.project(capex, np.zeros(model.HORIZON), fitted, lives, short_life) - fitted.other
            projected = model.project(capex, future, fitted, lives, short_life) if spending else locked_in + fitted.other
            ttm = pd.Series(np.concatenate([da[-3:], projected])).rolling(4).sum().to_numpy()[3:]
            other_inputs = {}
            for variant, (other, fit_) in alternatives.items():
                series = other.series
                projection = (model.project(series, _continuing(series, model.HORIZON, spending), fit_, lives, short_life)
                              if fit_ else [None] * model.HORIZON)
                source = other.source if fit_ or other.series is None else other.stale
                other_inputs[variant] = (projection, source, fit_.mape if fit_ else None)
            for step in range(model.HORIZON):
                quarter_index = int(latest.fiscal_year) * 4 + int(latest.fiscal_quarter) - 1 + step + 1
                records.append({
                    **base, "scenario": name, "step": step + 1,
                    "fiscal_year": quarter_index // 4, "fiscal_quarter": quarter_index % 4 + 1,
                    "projected_da": projected[step], "locked_in_da": locked_in[step], "projected_ttm_da": ttm[step],
                    "da_to_ttm_revenue": _ratio(ttm[step], latest.ttm_revenue),
                    "da_increase_to_operating_income": _ratio(ttm[step] - latest.ttm_d_and_a,
                                                              latest.ttm_operating_income),
                    "capex_per_quarter": future[step], "short_life_years": short_life or lives.short,
                    "long_life_years": lives.long, "lives_source": lives.source, "lag_quarters": fitted.lag,
                    "short_share": fitted.short_share, "other_da_per_quarter": fitted.other, "fit_mape": fitted.mape,
                    "latest_ttm_revenue": latest.ttm_revenue, "latest_ttm_operating_income": latest.ttm_operating_income,
                    "latest_ttm_da": latest.ttm_d_and_a,
                    **{column: value for variant, (projection, source, mape) in other_inputs.items()
                       for column, value in ((f"projected_da_{variant}", projection[step]),
                                             (f"fit_mape_{variant}", mape), (f"source_{variant}", source))},
                })
    return pd.DataFrame.from_records(records, columns=OUTLOOK_COLUMNS)


def _continuing(series: np.ndarray, steps: int, spending: bool = True) -> np.ndarray:
    """The series' future: its level of the last four quarters (its TTM pace), or none."""
    return np.full(steps, series[-4:].mean() if spending else 0.0)


def _ratio(numerator: float, denominator: float | None) -> float | None:
    """None, not NaN, where either side is missing (DuckDB stores NaN as a number)."""
    if pd.isna(numerator) or pd.isna(denominator) or not denominator:
        return None
    return float(numerator / denominator)


OUTLOOK_COLUMNS = [
    "cik", "ticker", "scenario", "step", "fiscal_year", "fiscal_quarter", "origin_period_end", "projected_da",
    "locked_in_da", "projected_ttm_da", "da_to_ttm_revenue", "da_increase_to_operating_income", "capex_per_quarter",
    "short_life_years", "long_life_years", "lives_source", "lag_quarters", "short_share", "other_da_per_quarter",
    "fit_mape", "latest_ttm_revenue", "latest_ttm_operating_income", "latest_ttm_da",
    *(f"{column}_{variant}" for variant in VARIANTS for column in ("projected_da", "fit_mape", "source")), "reason",
]


def backtest_points(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every origin quarter with enough history: fitted on what was reported up to it, projected with
    capex continuing at its TTM level (and, to tell model error from capex error, with the capex later
    spent), against the D&A later reported and the two naive forecasts."""
    records = []
    for cik, frame in quarters(conn).groupby("cik", sort=True):
        tail, _ = usable(frame)
        lives = disclosed_lives(conn, cik)
        capex, da = tail.capex.to_numpy(float), tail.d_and_a.to_numpy(float)
        alternatives = variants(tail)
        for origin in range(model.MIN_QUARTERS - 1, len(tail) - min(HORIZONS)):
            window = da[origin - model.FIT_QUARTERS + 1: origin + 1]
            if np.isnan(window).any() or np.isnan(da[origin - 4]):
                continue
            fitted = model.fit(capex[: origin + 1], da[: origin + 1], lives)
            steps = max(HORIZONS)
            later = capex[origin + 1: origin + 1 + steps]
            at_ttm = _at_ttm_level(capex[: origin + 1], fitted, lives, steps)
            spent = model.project(capex[: origin + 1], np.concatenate([later, np.full(steps - len(later), later[-1])]),
                                  fitted, lives)
            # an input counts where the fit window reports it (elsewhere, it is capex alone)
            other_inputs = {name: _at_ttm_level(other.series[: origin + 1],
                                                model.fit(other.series[: origin + 1], da[: origin + 1], lives), lives, steps)
                            if other.usable_at(origin) else [None] * steps
                            for name, other in alternatives.items()}
            for horizon in HORIZONS:
                target = origin + horizon
                if target >= len(tail) or np.isnan(da[target]):
                    continue
                actual = da[target]
                records.append({
                    "cik": cik, "ticker": tail.ticker.iloc[-1], "origin_period_end": tail.period_end.iloc[origin],
                    "target_period_end": tail.period_end.iloc[target], "horizon": horizon, "reported_da": actual,
                    "model": at_ttm[horizon - 1], "model_with_capex_spent": spent[horizon - 1],
                    "flat": model.naive_flat(da[: origin + 1], horizon), "trend": model.naive_trend(da[: origin + 1], horizon),
                    "lag_quarters": fitted.lag, "short_share": fitted.short_share,
                    **{f"model_{name}": projection[horizon - 1] for name, projection in other_inputs.items()},
                })
    return pd.DataFrame.from_records(records, columns=BACKTEST_COLUMNS)


def _at_ttm_level(series: np.ndarray, fit_: model.Fit, lives: Lives, steps: int) -> np.ndarray:
    """The fitted model's projection with series continuing at its level of the last four quarters."""
    return model.project(series, _continuing(series, steps), fit_, lives)


BACKTEST_COLUMNS = ["cik", "ticker", "origin_period_end", "target_period_end", "horizon", "reported_da", "model",
                    "model_with_capex_spent", "flat", "trend", "lag_quarters", "short_share",
                    *(f"model_{variant}" for variant in VARIANTS)]

