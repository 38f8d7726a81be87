"""Files replaced whole or not at all: the raw zone, the build record, the exports, the HTML report.

A writer fills a hidden temporary file beside the target (same directory, so same file system)
and it is renamed over the target only once complete: a reader, a failure or a kill at any moment
leaves the previous file or the new one, never a partial one. The temporary name starts with a dot
and ends in .tmp so nobody takes it for an export, and carries the writer's process id so the next
write of the same target removes what a killed writer left without touching one still running.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import Iterator

from pipelines.lib.processes import process_alive

SUFFIX = ".tmp"


def temporary_for(target: Path) -> Path:
    """Hidden, unique per write, and naming its process (e.g. .capexwatch.xlsx.4242.9f3a01bc.tmp)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{SUFFIX}")


def leftovers(target: Path) -> list[Path]:
    """Temporary files of earlier writes of target whose process is gone (killed, or crashed)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]+{re.escape(SUFFIX)}")
    found = []
    for candidate in target.parent.glob(f".{target.name}.*{SUFFIX}"):
        match = pattern.fullmatch(candidate.name)
        if match and not _running(int(match.group(1))):
            found.append(candidate)
    return found


def _running(pid: int) -> bool:
    """Whether another live process has this id; our own id on a leftover means an earlier process had it
    (a container restarts with the same ids), since one process writes a target one write at a time."""
    return pid != os.getpid() and process_alive(pid)


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces target, on any failure it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in leftovers(target):
        leftover.unlink(missing_ok=True)
    temporary = temporary_for(target)
    try:
        yield temporary
        if not temporary.is_file():
            raise FileNotFoundError(f"{target}: the writer produced no file")
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent)  # the rename itself survives a power cut
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(target: Path, content: bytes) -> None:
    with replacing(target) as temporary:
        temporary.write_bytes(content)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
