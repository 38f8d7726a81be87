#!/usr/bin/env python3
"""Set-up and run in one step, on a machine with nothing but Python 3.11:

    python3.11 scripts/dev.py run [capexwatch refresh options]   # build the warehouse end to end
    python3.11 scripts/dev.py test [pytest options]              # run the test suite

Creates .venv/ on first use (and again when pyproject.toml or constraints.txt change),
installs the project with pinned versions (`run`: what running needs; `test`: the test stack
too), then runs the command inside it. `test` also
installs Debian's chromium and postgresql (as root, when missing) for the browser test of the HTML
report and the test of the Dask deployment.
"""

from __future__ import annotations

import glob
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


def ensure_environment(extras: tuple[str, ...] = ()) -> None:
    """The project and its pinned dependencies, plus the named extras: `run` needs none (what running
    needs, nothing more), `test` adds the test stack. A later `run` keeps what `test` installed."""
    wanted = set(extras)
    if STAMP.is_file():
        fingerprint, _, installed = STAMP.read_text().partition("\n")
        if fingerprint == _fingerprint() and wanted <= set(installed.split()):
            return
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing capexwatch and its pinned dependencies" + (f" (with {', '.join(extras)})" if extras else ""),
          flush=True)
    target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), "-e", target],
        check=True,
    )
    STAMP.write_text(f"{_fingerprint()}\n{' '.join(sorted(wanted))}")


def _has_postgres() -> bool:
    return bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))


# what the tests need from Debian beside Python: the report is tested in chromium, the Dask deployment
# with its Dagster instance on a PostgreSQL server the test starts
DEBIAN_TOOLS = {"chromium": lambda: bool(shutil.which("chromium")), "postgresql": _has_postgres}


def ensure_debian_tools() -> None:
    """On a fresh Debian machine, as root, install what is missing of DEBIAN_TOOLS."""
    missing = [package for package, present in DEBIAN_TOOLS.items() if not present()]
    if not missing or os.name != "posix" or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print(f"installing {', '.join(missing)} for the tests", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        if subprocess.run(command, env=environment, stdout=subprocess.DEVNULL).returncode != 0:
            print(f"warning: {' '.join(command)} failed; the tests that need it will say so", file=sys.stderr)
            return


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.version_info < (3, 11):
        print(f"capexwatch needs Python 3.11 or newer, this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    ensure_environment(() if argv[0] == "run" else ("test",))
    if argv[0] == "run":
        command = [str(BIN / "capexwatch"), "refresh", *argv[1:]]
    else:
        ensure_debian_tools()
        command = [str(BIN / "python"), "-m", "pytest", *argv[1:]]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
