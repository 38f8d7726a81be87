"""The depreciation wave: what past and future capex add to depreciation, projected and backtested.

A vintage model, simple enough to state in a sentence: each quarter's capex enters service after a lag
(construction in progress is not depreciated) and is then depreciated straight-line, a share of it over
the short life of servers and network equipment and the rest over the long life of buildings. The lives
are the company's own (core.useful_lives) where it discloses them, else the defaults below. The lag and
the short-lived share are fitted per company so that the modelled depreciation matches the D&A it
reported over its last three years, and a constant takes what capex does not explain (amortization of
acquired intangibles, for one). The backtest says whether the model beats two naive forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_SHORT_LIFE = 5.0  # years: servers and network equipment (the hyperscalers disclose 5 to 6)
DEFAULT_LONG_LIFE = 30.0  # years: buildings (disclosed ranges run from 25 to 40)
SHORTER_SHORT_LIFE = 4.0  # the shorter-life scenario: servers back to the four years common before 2020
LAGS = range(0, 9)  # quarters from spend to service
SHARES = np.round(np.linspace(0.0, 1.0, 21), 2)  # short-lived share of capex
FIT_QUARTERS = 12  # the reported D&A the model is fitted to
HORIZON = 12  # quarters projected
MIN_QUARTERS = FIT_QUARTERS + 4 * int(DEFAULT_SHORT_LIFE)  # consecutive quarters of capex a fit needs


@dataclass(frozen=True)
class Lives:
    short: float
    long: float
    source: str  # which disclosures (or defaults) they come from


@dataclass(frozen=True)
class Fit:
    lag: int
    short_share: float
    other: float  # D&A per quarter that capex does not explain
    mape: float  # mean absolute percentage error over the fit window


def weights(quarters: int, lag: int, short_share: float, lives: Lives) -> np.ndarray:
    """w[k]: the part of one quarter's capex depreciated k quarters after it was spent."""
    age = np.arange(quarters) - lag
    short, long = _quarters(lives.short), _quarters(lives.long)
    return np.where(age >= 0, short_share * (age < short) / short + (1 - short_share) * (age < long) / long, 0.0)


def modelled(capex: np.ndarray, lag: int, short_share: float, lives: Lives) -> np.ndarray:
    """Depreciation of each quarter from the capex up to it (none before the first quarter given)."""
    return np.convolve(capex, weights(len(capex), lag, short_share, lives))[: len(capex)]


def fit(capex: np.ndarray, da: np.ndarray, lives: Lives) -> Fit:
    """The lag and short-lived share whose modelled depreciation, plus a constant (zero or more: what
    capex does not explain is amortization, not a credit), is closest to the
    last FIT_QUARTERS quarters of reported D&A (least absolute percentage error; ties: the shorter lag,
    then the smaller share, so that the fit is reproducible)."""
    window = slice(len(da) - FIT_QUARTERS, len(da))
    best: Fit | None = None
    for lag in LAGS:
        for share in SHARES:
            model = modelled(capex, lag, float(share), lives)[window]
            other = max(float(np.median(da[window] - model)), 0.0)  # amortization: never negative
            mape = float(np.mean(np.abs((model + other) / da[window] - 1)))
            if best is None or mape < best.mape - 1e-12:
                best = Fit(lag, float(share), other, mape)
    assert best is not None
    return best


def project(capex: np.ndarray, future_capex: np.ndarray, fit_: Fit, lives: Lives,
            short_life_from_now: float | None = None) -> np.ndarray:
    """Depreciation of the quarters after the last one of capex, vintage by vintage. With
    short_life_from_now, the short-lived part's life changes at the first projected quarter as a change
    of accounting estimate does: each vintage's remaining book value over the life it has left."""
    spend = np.concatenate([capex, future_capex])
    start, horizon = len(capex), len(future_capex)
    old, new = _quarters(lives.short), _quarters(lives.short if short_life_from_now is None else short_life_from_now)
    long = _quarters(lives.long)
    result = np.full(horizon, fit_.other)
    for vintage, amount in enumerate(spend):
        in_service = vintage + fit_.lag
        short_cost, long_cost = amount * fit_.short_share, amount * (1 - fit_.short_share)
        done = min(max(start - in_service, 0), old)  # short-lived quarters already depreciated at the change
        remaining_cost = short_cost * (1 - done / old)
        remaining_quarters = max(new - max(start - in_service, 0), 1) if done < old else 0
        for step in range(horizon):
            age = start + step - in_service
            if age < 0:
                continue
            if age < long:
                result[step] += long_cost / long
            if remaining_quarters and age - max(start - in_service, 0) < remaining_quarters:
                result[step] += remaining_cost / remaining_quarters
    return result


def _quarters(years: float) -> int:
    """A life in whole quarters, one at least (a life shorter than a quarter is spent in its first)."""
    return max(round(4 * years), 1)


def naive_flat(da: np.ndarray, steps: int) -> float:
    """D&A stays at its last quarter."""
    return float(da[-1])


def naive_trend(da: np.ndarray, steps: int) -> float:
    """D&A keeps growing at its rate of the last four quarters (last quarter against a year before)."""
    return float(da[-1] * (da[-1] / da[-5]) ** (steps / 4))
