"""The HTML report in a real headless browser (Debian's chromium): it renders, its charts
are drawn, the browser logs nothing to the console, and a screenshot is kept."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000", "--hide-scrollbars",
]


def chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: scripts/dev.py test installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return browser


def browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )


def test_report_renders_its_charts_and_table_without_console_errors(built, tmp_path):
    page = built[0] / "report" / "index.html"
    assert page.is_file() and (page.parent / "plotly.min.js").is_file()
    result = browse(page, tmp_path, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [line for line in result.stderr.splitlines() if ":CONSOLE" in line] == []
    dom = result.stdout
    # plotly draws each chart as an SVG: three charts, each with its data traces, and one "capex today,
    # depreciation tomorrow" per projected company (Apple and Alphabet offline)
    assert len(re.findall(r'<div class="chart">', dom)) == 5
    assert "Capex today, depreciation tomorrow: GOOGL" in dom and "disclosed lives, no new capex" in dom
    assert len(re.findall(r'class="main-svg"', dom)) >= 3 and len(re.findall(r'class="trace scatter', dom)) >= 6
    row = re.search(r"<td>GOOGL \*</td>.*?</tr>", dom, re.S).group(0)
    assert "FY2025" in row and "22.7%" in row and "26.0%" in row
    assert 'href="https://www.sec.gov/Archives/edgar/data/1652044/000165204426000018/0001652044-26-000018-index.htm"' in row
    # Oracle is known offline from one quarter: not enough for a year or twelve months, and said so
    assert "No fiscal year or twelve months of capex and revenue offline for: ORCL." in dom
    msft = re.search(r"<td>MSFT \*</td>.*?</tr>", dom, re.S).group(0)
    assert "FY2015" in msft and "6.4%" in msft


def test_report_screenshot_is_kept(built, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = browse(built[0] / "report" / "index.html", tmp_path, "--window-size=1200,2300", f"--screenshot={shot}")
    assert result.returncode == 0 and shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
