"""Debian's ``adb``, a host nobody here wrote, with a server of its own for each test.

Its own server port and its own HOME (so its own key pair in ``~/.android``)
keep it apart from any adb server the user or another test runs; the server
is killed when the test ends, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

#: How long Debian's adb may take to start its server and write its key pair.
KEY_SECONDS = 10.0


@dataclass
class DebianAdb:
    """Runs ``adb`` against its private server; ``key`` is the public key it will offer devices."""

    env: dict[str, str]
    key: Path

    def __call__(self, *args: str, binary: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["adb", *args], env=self.env, capture_output=True, timeout=timeout, text=not binary)


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def debian_adb(tmp_path: Path) -> Iterator[DebianAdb]:
    """Debian's adb with a started server of its own and its key pair written (skipped where adb is missing)."""
    if shutil.which("adb") is None:
        pytest.skip("Debian's adb is not installed: scripts/setup or apt-get install adb")
    home = tmp_path / "adb-home"
    (home / ".android").mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "ANDROID_ADB_SERVER_PORT": str(_free_port())}
    env.pop("ADB_VENDOR_KEYS", None)
    adb = DebianAdb(env, home / ".android" / "adbkey.pub")
    try:
        adb("start-server")
        deadline = time.monotonic() + KEY_SECONDS
        while not (adb.key.exists() and adb.key.stat().st_size > 0):
            seen = sorted(p.name for p in adb.key.parent.iterdir())
            assert time.monotonic() < deadline, f"expected adb to write {adb.key} within {KEY_SECONDS:g} s; saw {seen}"
            time.sleep(0.05)
        yield adb
    finally:
        adb("kill-server")
