"""scripts/dev.py: `run` installs what running needs and nothing more; `test` adds the test stack."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

DEV = Path(__file__).resolve().parent.parent / "scripts" / "dev.py"


@pytest.fixture
def dev(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("dev", DEV)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    venv_dir = tmp_path / ".venv"
    (venv_dir / "bin").mkdir(parents=True)
    (venv_dir / "bin" / "python").touch()  # an existing environment: no venv.create
    monkeypatch.setattr(module, "VENV", venv_dir)
    monkeypatch.setattr(module, "BIN", venv_dir / "bin")
    monkeypatch.setattr(module, "STAMP", venv_dir / ".capexwatch-installed")
    installs: list[list[str]] = []
    monkeypatch.setattr(module.subprocess, "run", lambda command, **kw: installs.append(command)
                        or subprocess.CompletedProcess(command, 0))
    return module, installs


def test_run_installs_the_runtime_only_and_test_adds_the_test_stack(dev):
    module, installs = dev
    module.ensure_environment(())
    assert installs[-1][-1] == str(module.ROOT)  # `pip install -e <project>`: no [test] extra (moto, flask, k8s)
    module.ensure_environment(())
    assert len(installs) == 1  # nothing changed: nothing installed
    module.ensure_environment(("test",))
    assert installs[-1][-1] == f"{module.ROOT}[test]" and len(installs) == 2
    module.ensure_environment(())
    assert len(installs) == 2  # the test stack is a superset of what running needs
