#!/usr/bin/env python3
"""Set-up and run in one step, on a machine with nothing but Python 3.11:

    python3.11 scripts/dev.py run [capexwatch refresh options]   # build the warehouse end to end
    python3.11 scripts/dev.py test [pytest options]              # run the test suite

Creates .venv/ on first use (and again when pyproject.toml or constraints.txt change),
installs the project with pinned versions, then runs the command inside it. `test` also
installs Debian's chromium (as root, when missing) for the browser test of the HTML report.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".capexwatch-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if STAMP.is_file() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing capexwatch and its pinned dependencies", flush=True)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test]"],
        check=True,
    )
    STAMP.write_text(_fingerprint())


def ensure_browser() -> None:
    """The report is tested in Debian's chromium; on a fresh Debian machine, as root, install it."""
    if shutil.which("chromium") or os.name != "posix" or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print("installing chromium for the browser test of the HTML report", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        if subprocess.run(command, env=environment, stdout=subprocess.DEVNULL).returncode != 0:
            print(f"warning: {' '.join(command)} failed; the browser test will say so", file=sys.stderr)
            return


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.version_info < (3, 11):
        print(f"capexwatch needs Python 3.11 or newer, this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    ensure_environment()
    if argv[0] == "run":
        command = [str(BIN / "capexwatch"), "refresh", *argv[1:]]
    else:
        ensure_browser()
        command = [str(BIN / "python"), "-m", "pytest", *argv[1:]]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
