"""How fast is the inline-XBRL parser on each real snapshot document?

Measured in one run, side by side, so the ratios hold on a noisy machine:
  capexwatch   pipelines.lib.ixbrl.parse (BeautifulSoup + lxml, only iXBRL elements kept)
  lxml tree    lxml.html building the whole document tree, nothing else (a floor for any
               parser that reads the document into a tree)
  naive bs4    BeautifulSoup + lxml on the whole document, then find_all of the facts (the
               obvious way, for comparison)
Each time is the best of --repeat runs. Prints a Markdown table for the README.

    .venv/bin/python benchmarks/parse_filings.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import lxml.html
from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from pipelines.lib import ixbrl
from pipelines.lib.settings import SNAPSHOT_DIR


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def naive(content: bytes) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return len(BeautifulSoup(content, "lxml").find_all("ix:nonfraction"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    documents = sorted((SNAPSHOT_DIR / "www.sec.gov").rglob("*.htm"))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, best of {args.repeat}\n")
    print("| document | size | facts | capexwatch | MB/s | lxml tree | naive bs4 | capexwatch / lxml tree | naive bs4 / capexwatch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in documents:
        content = path.read_bytes()
        facts = len(ixbrl.parse(content).facts)
        ours = best_of(args.repeat, lambda: ixbrl.parse(content))
        floor = best_of(args.repeat, lambda: lxml.html.fromstring(content))
        obvious = best_of(args.repeat, lambda: naive(content))
        megabytes = len(content) / 1e6
        print(f"| {path.name} | {megabytes:.1f} MB | {facts} | {ours:.2f} s | {megabytes / ours:.1f} | "
              f"{floor:.2f} s | {obvious:.2f} s | {ours / floor:.1f}x | {obvious / ours:.1f}x |")


if __name__ == "__main__":
    main()
