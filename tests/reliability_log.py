"""What the reliability tests tried and what happened, for the README's Reliability table
(scripts/reliability_report.py runs those tests and writes the table from this log)."""

from __future__ import annotations

import json
from pathlib import Path

LOG = Path(__file__).parent / "artifacts" / "reliability.jsonl"


def start() -> None:
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text("")


def record(kind: str, case: str, outcome: str, **figures: object) -> None:
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("a") as handle:
        handle.write(json.dumps({"kind": kind, "case": case, "outcome": outcome, **figures}) + "\n")
