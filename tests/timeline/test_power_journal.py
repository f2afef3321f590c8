"""`harness power` run from another terminal while a run records: its actions on the run's handset's power channel
reach the run's timeline, on the same clock, also when the run is killed before its end (then `harness timeline
FOLDER` pulls them); another handset's channel does not, nor what came after the run.

One emulated lumia-520 with its emulated LCUS relay (a pty) serves the module; each test has a lease folder of its
own, where the host's power journal lives.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.deadline import within
from harness.emulator.process import EmulatorProcess
from harness.handsets import open_handset
from powered_handset import emulated_handset


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with emulated_handset(tmp_path_factory.mktemp("powered")) as proc:
        yield proc


def _power(action: str, relay: str, leases: Path) -> tuple[str, float, float]:
    """``harness power ACTION`` on the relay's channel 1, as a person at another terminal runs it."""
    before = time.time()
    done = subprocess.run([sys.executable, "-m", "harness", "power", action, "--switch", f"lcus:{relay}#1"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HARNESS_LEASE_DIR": str(leases)})
    assert done.returncode == 0, done.stderr
    return action, before, time.time()


def _data(page: Path) -> dict[str, Any]:
    found = re.search(r'<script id="timeline-data" type="application/json">(.*?)</script>', page.read_text(), re.S)
    assert found, f"{page}: no timeline data"
    return json.loads(found.group(1))


def test_harness_power_on_the_runs_handset_is_on_its_timeline(emulator: EmulatorProcess, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.artifacts import Artifacts
    from harness.lab import power_journal
    from harness.timeline.run import RunRecording

    leases = tmp_path / "leases"
    leases.mkdir()
    monkeypatch.setenv("HARNESS_LEASE_DIR", str(leases))
    relay = emulator.endpoints["power"]
    recording = RunRecording(Artifacts(tmp_path / "art", "powered"), "failures", title="powered run")
    recording.power_channels = power_journal.channels_of(emulator.endpoints)
    opened = open_handset(f"adb-tcp://{emulator.endpoints['adb']}")
    handset = recording.handset(opened.handset)   # what a flow drives, as the pytest plugin wraps it
    handset.screenshot()
    switched = [_power(action, relay, leases) for action in ("off", "on")]   # with the relay's own spec
    power_journal.note("lcus:/dev/ttyUSB9#1", "off", "another handset's run")   # not this handset's channel
    with within(60):
        handset.screenshot()   # the handset restarted: its connection is made again, and that is noted
    back = time.time()
    opened.close()
    page = recording.close(failed=True)
    power = [e for e in _data(page)["events"] if e["lane"] == "power" and e["source"] == "power-events.jsonl"]
    assert len(power) == 2, power
    for event, (action, before, after) in zip(power, switched):
        assert event["text"].startswith(f"power {action} on lcus:{relay}#1 by harness power {action} "), event
        assert re.search(r"\(pid [1-9][0-9]*\)$", event["text"]), f"the pid of who switched is unreadable: {event}"
        assert before <= event["t"] <= after, (event["t"], before, after)
    assert not any("ttyUSB9" in e["text"] for e in _data(page)["events"])
    again = [e for e in _data(page)["events"] if e["lane"] == "power" and "answers again" in e["text"]]
    assert len(again) == 1 and switched[1][1] <= again[0]["t"] <= back, (again, switched)


KILLED_MID_FLOW = textwrap.dedent("""
    import json, sys, time
    from harness.artifacts import Artifacts
    from harness.deadline import within
    from harness.handsets import open_handset
    from harness.lab import power_journal
    from harness.timeline.run import RunRecording

    endpoints = json.loads(sys.argv[2])
    art = Artifacts(sys.argv[1], "killed-mid-flow")
    recording = RunRecording(art, "failures", title="killed mid-flow")
    recording.power_channels = power_journal.channels_of(endpoints)
    handset = recording.handset(open_handset(f"adb-tcp://{endpoints['adb']}").handset)
    handset.watch_reconnects(lambda: print("back", flush=True))
    print(art.dir, flush=True)
    k = 0
    while True:   # a flow that keeps looking at the screen until it is killed
        with within(120):
            image = handset.screenshot()
        k += 1
        shot = art.save_screenshot(image, f"look{k}")
        art.record("step", index=k, screen="start", score=0.9, action=f"look {k}", seconds=0.1, screenshot=str(shot))
        time.sleep(0.3)   # a flow's pace between two looks
""")


def test_a_run_killed_mid_flow_gets_its_power_events_and_reconnects_from_harness_timeline(
        emulator: EmulatorProcess, tmp_path: Path, browser: Any, artifacts: Any) -> None:
    from selenium.webdriver.common.by import By

    from harness.lab import power_journal

    leases = tmp_path / "leases"
    leases.mkdir()
    env = {**os.environ, "HARNESS_LEASE_DIR": str(leases)}
    relay = emulator.endpoints["power"]
    ours = sorted(power_journal.channels_of(emulator.endpoints))[0]
    script = tmp_path / "killed_mid_flow.py"
    script.write_text(KILLED_MID_FLOW)
    run = subprocess.Popen([sys.executable, str(script), str(tmp_path / "art"), json.dumps(emulator.endpoints)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in run.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        folder = Path(lines.get(timeout=90))
        _until("two steps of the run", lambda: len(_steps(folder)) >= 2)
        power_journal.note(ours, "off", "a person", leases)   # stamped now: inside the run's window
        switched = [_power(action, relay, leases) for action in ("off", "on")]
        # killed the moment it has connected again, in the middle of a look at the screen
        assert lines.get(timeout=90) == "back", "the run did not connect to the handset again"
    finally:
        run.send_signal(signal.SIGKILL)   # no clean-up, no finally: as a CI job's hard timeout ends a run
        run.wait(timeout=60)
    assert run.returncode == -9, run.stderr.read()[-2000:]  # type: ignore[union-attr]
    killed = time.time()
    assert not (folder / "timeline.html").read_text() and not (folder / "power-events.jsonl").exists()
    power_journal.note(ours, "off", "after the run", leases)            # after its last write: not its event
    power_journal.note("lcus:/dev/ttyUSB9#1", "off", "another handset's run", leases)

    done = subprocess.run([sys.executable, "-m", "harness", "timeline", str(folder)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0 and "timeline.2.html" in done.stdout, done.stdout + done.stderr
    data = _data(folder / "timeline.2.html")
    assert data["outcome"] == "ended early", data["outcome"]   # killed: it did not pass
    events = data["events"]
    journal = [e for e in events if e["lane"] == "power" and e["source"] == "power-events.jsonl"]
    assert [e["text"].split(" by ")[0] for e in journal] == [f"power off on {ours}"] + \
        [f"power {a} on lcus:{relay}#1" for a, _, _ in switched], journal
    for event, (action, before, after) in zip(journal[1:], switched):
        assert before <= event["t"] <= after, (event, before, after)
    assert not any("after the run" in e["text"] or "ttyUSB9" in e["text"] for e in events)
    again = [e for e in events if e["lane"] == "power" and "answers again" in e["text"]]
    assert len(again) == 1 and switched[1][1] <= again[0]["t"] <= killed, (again, switched)

    # as a person sees it: the power lane holds the switching and the reconnect; a click on a step shows its picture
    browser.get((folder / "timeline.2.html").as_uri())
    _until("the timeline's rows", lambda: browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-lane=step]"))
    assert browser.find_element(By.ID, "outcome").text == "ended early"
    power = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-lane=power]")]
    for text in (f"power off on lcus:{relay}#1", f"power on on lcus:{relay}#1", "answers again"):
        assert any(text in p for p in power), (text, power)
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-lane=step]")
    assert len(rows) == len(_steps(folder)), (len(rows), len(_steps(folder)))
    rows[-1].click()
    shot = Path(_steps(folder)[-1]["screenshot"]).name
    _until(f"the screenshot {shot}", lambda: browser.execute_script(
        "const i = document.getElementById('shot'); return i.complete && i.naturalWidth > 0 && "
        "decodeURI(i.getAttribute('src')) === arguments[0];", shot))
    browser.save_screenshot(str(artifacts.claim("killed-run-timeline.png")))   # a picture of the page, for people

    # a second `harness timeline` adds no event twice
    again_done = subprocess.run([sys.executable, "-m", "harness", "timeline", str(folder)], capture_output=True,
                                text=True, timeout=120, env=env)
    assert again_done.returncode == 0 and "timeline.3.html" in again_done.stdout, again_done.stderr
    assert len((folder / "power-events.jsonl").read_text().splitlines()) == len(journal)


def _steps(folder: Path) -> list[dict[str, Any]]:
    try:
        text = (folder / "steps.jsonl").read_text()
    except FileNotFoundError:
        return []
    return [e for e in (json.loads(line) for line in text.splitlines() if line.endswith("}")) if e.get("kind") == "step"]


def _until(what: str, check: Any, timeout: float = 90.0) -> Any:
    """Poll ``check`` until it returns something truthy, within ``timeout``; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"expected {what} within {timeout:g}s"
        time.sleep(0.1)   # polling a condition, with the deadline above
    return value

