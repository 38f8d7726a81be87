"""The market ranked, for `capexwatch screen` and the report's who-is-building page: one query
(sql/reports/screen.sql) gives every filer its rank or the reason it is not ranked; this splits it."""

from __future__ import annotations

import pandas as pd

COLUMNS = ["rank", "ticker", "company", "sic", "hyperscaler", "period", "revenue", "capex", "capex_intensity",
           "capex_growth", "fcf_margin"]


def split(rows: pd.DataFrame, top: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first top ranked filers (in the query's order), and the filers not ranked counted by reason,
    most first."""
    ranked = rows[rows["left_out"].isna()].head(top)[COLUMNS].reset_index(drop=True)
    left_out = (rows["left_out"].dropna().value_counts().rename_axis("left_out").reset_index(name="filers")
                .sort_values(["filers", "left_out"], ascending=[False, True], ignore_index=True))
    return ranked, left_out
