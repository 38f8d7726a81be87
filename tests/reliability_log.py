"""What the reliability tests tried and what happened, for the README's Reliability table
(scripts/reliability_report.py runs those tests and writes the table from this log).

Each record is one case: how many times it was tried, how many of those the product survived
(the promised outcome held), and how many lost data that was already stored."""

from __future__ import annotations

import json
from pathlib import Path

LOG = Path(__file__).parent / "artifacts" / "reliability.jsonl"


def start() -> None:
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text("")


def record(kind: str, case: str, outcome: str, tried: int = 1, survived: int | None = None, lost: int = 0,
           **figures: object) -> None:
    """Called only after the test's assertions held, so by default every try survived."""
    LOG.parent.mkdir(exist_ok=True)
    entry = {"kind": kind, "case": case, "outcome": outcome, "tried": tried,
             "survived": tried if survived is None else survived, "lost": lost, **figures}
    with LOG.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
