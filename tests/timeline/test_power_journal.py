"""`harness power` run from another terminal while a run records: its actions on the run's handset's power channel
reach the run's timeline, on the same clock; another handset's channel does not.

One emulated lumia-520 with its emulated LCUS relay (a pty) and a lease folder of the test's own, where the
host's power journal lives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.deadline import within
from harness.emulator.process import EmulatorProcess
from harness.handsets import open_handset


def _data(page: Path) -> dict[str, Any]:
    found = re.search(r'<script id="timeline-data" type="application/json">(.*?)</script>', page.read_text(), re.S)
    assert found, f"{page}: no timeline data"
    return json.loads(found.group(1))


def test_harness_power_on_the_runs_handset_is_on_its_timeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.artifacts import Artifacts
    from harness.lab import power_journal
    from harness.timeline.run import RunRecording

    leases = tmp_path / "leases"
    leases.mkdir()
    monkeypatch.setenv("HARNESS_LEASE_DIR", str(leases))
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--boot-time", "0.3"], log_path=tmp_path / "emulator.log")
    proc.start()
    try:
        relay = proc.endpoints["power"]
        recording = RunRecording(Artifacts(tmp_path / "art", "powered"), "failures", title="powered run")
        recording.power_channels = power_journal.channels_of(proc.endpoints)
        opened = open_handset(f"adb-tcp://{proc.endpoints['adb']}")
        handset = recording.handset(opened.handset)   # what a flow drives, as the pytest plugin wraps it
        handset.screenshot()
        switched = []
        for action in ("off", "on"):   # as a person at another terminal does, with the relay's own spec
            before = time.time()
            done = subprocess.run([sys.executable, "-m", "harness", "power", action, "--switch", f"lcus:{relay}#1"],
                                  capture_output=True, text=True, timeout=120,
                                  env={**os.environ, "HARNESS_LEASE_DIR": str(leases)})
            assert done.returncode == 0, done.stderr
            switched.append((action, before, time.time()))
        power_journal.note("lcus:/dev/ttyUSB9#1", "off", "another handset's run")   # not this handset's channel
        with within(60):
            handset.screenshot()   # the handset restarted: its connection is made again, and that is noted
        back = time.time()
        opened.close()
        page = recording.close(failed=True)
    finally:
        proc.stop()
    power = [e for e in _data(page)["events"] if e["lane"] == "power" and e["source"] == "power-events.jsonl"]
    assert len(power) == 2, power
    for event, (action, before, after) in zip(power, switched):
        assert event["text"].startswith(f"power {action} on lcus:{relay}#1 by harness power {action} "), event
        assert before <= event["t"] <= after, (event["t"], before, after)
    assert not any("ttyUSB9" in e["text"] for e in _data(page)["events"])
    again = [e for e in _data(page)["events"] if e["lane"] == "power" and "answers again" in e["text"]]
    assert len(again) == 1 and switched[1][1] <= again[0]["t"] <= back, (again, switched)
