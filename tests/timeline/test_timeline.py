"""A video and a timeline of every run, checked as a person sees them: in a real headless Chromium.

One pytest run in a subprocess (the plugin as a lab uses it, on emulated
handsets) holds a passing test and a failing flow that read an access code;
one ``harness signin`` fails on a wrong password. Their artifacts folders are
opened in the browser: the video plays, every step of the step log is on the
page, a click on a step shows its screenshot and moves the video to the frame
taken with it, and neither the password nor the access code is in the page.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from PIL import Image

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
#: Upper bound for anything the page has to do (load a video, seek it) on a loaded machine.
PAGE_DEADLINE = 60.0

INNER_TESTS = textwrap.dedent("""
    import os
    import re
    from pathlib import Path

    from harness.flows import sign_in_during_setup


    def test_passes(flow):
        flow.expect("setup_welcome", timeout=60)


    def test_fails_after_the_code(flow, account, sms_codes, emulator_control):
        try:
            sign_in_during_setup(flow, account, sms_codes)
        finally:  # the code as the emulator sent it, for the outer test to look for (never into the artifacts)
            bodies = [m["body"] for m in emulator_control.call("outbox")["messages"]]
            Path(os.environ["CODE_FILE"]).write_text(" ".join(re.findall(r"\\d{6,8}", " ".join(bodies))))
        flow.press("power")  # the display goes off: a power event on the timeline
        flow.expect("no_network", timeout=2, failures=False)  # never comes: the flow fails here
""")


def _demo_password(role: str = "primary") -> str:
    secrets = tomllib.loads((ROOT / "harness" / "emulator" / "demo_secrets.toml").read_text(encoding="utf-8"))
    return secrets["account"][role]["password"]


def _steps(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == "step"]


def _wait(browser: Any, script: str, what: str) -> Any:
    """Run ``script`` in the page until it returns something truthy; fail naming ``what`` and the last answer."""
    deadline = time.monotonic() + PAGE_DEADLINE
    seen = None
    while time.monotonic() < deadline:
        seen = browser.execute_script(script)
        if seen:
            return seen
        browser.execute_script("return new Promise(r => setTimeout(r, 100))")  # the page's own clock, not ours
    raise AssertionError(f"timed out after {PAGE_DEADLINE}s waiting for {what}; the page said {seen!r}")


def _video_frame(browser: Any) -> np.ndarray:
    """The frame the page's video shows now, as RGB pixels (drawn on a canvas in the page)."""
    url = browser.execute_script("""
        const v = document.getElementById('video'), c = document.createElement('canvas');
        c.width = v.videoWidth; c.height = v.videoHeight;
        c.getContext('2d').drawImage(v, 0, 0);
        return c.toDataURL('image/png');""")
    from io import BytesIO

    return np.asarray(Image.open(BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"), dtype=np.int16)


def _distance(frame: np.ndarray, png: Path) -> float:
    """Mean difference between a video frame's screen part and a screenshot shrunk to it (the band below ignored)."""
    shot = Image.open(png).convert("RGB")
    width = frame.shape[1]
    height = round(shot.height * width / shot.width)
    small = np.asarray(shot.resize((width, height), Image.BILINEAR), dtype=np.int16)
    return float(np.abs(frame[:height] - small).mean())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (OS-picked port), as CI serves artifacts: (folder, its URL).

    Over file:// every file is an origin of its own, so the page could not read its own video's pixels back.
    """
    root = tmp_path_factory.mktemp("served")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _open(browser: Any, page: Path, served: tuple[Path, str]) -> list[Any]:
    from selenium.webdriver.common.by import By

    browser.get(served[1] + "/" + "/".join(page.relative_to(served[0]).parts))
    _wait(browser, "return document.querySelectorAll('#rows tr').length", "the timeline's rows")
    return browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-lane=step]")


def _check_steps_and_video(browser: Any, folder: Path, served: tuple[Path, str]) -> None:
    """Every step of the step log is on the page; a click shows its screenshot and the video's frame of it."""
    steps = _steps(folder)
    rows = _open(browser, folder / "timeline.html", served)
    assert len(rows) == len(steps) >= 3
    for row, step in zip(rows, steps):
        assert step["screen"] in row.text and step["action"] in row.text
    ready = _wait(browser, "const v = document.getElementById('video');"
                           "return v.readyState >= 2 && v.duration > 0 && [v.readyState, v.duration];", "the video to load")
    assert ready[1] > 0
    for k in (1, len(steps) - 2):  # a step in the middle of the flow and the last one before the failure
        rows[k].click()
        shot = Path(steps[k]["screenshot"]).name
        _wait(browser, f"const i = document.getElementById('shot'); return i.complete && i.naturalWidth > 0 "
                       f"&& decodeURI(i.getAttribute('src')) === {json.dumps(shot)};", f"the screenshot {shot}")
        _wait(browser, "const v = document.getElementById('video'); return v.dataset.time !== undefined && "
                       "Math.abs(v.currentTime - Number(v.dataset.time)) < 0.001 && !v.seeking && v.readyState >= 2;",
              "the video to seek to the step")
        frame = _video_frame(browser)
        here = _distance(frame, folder / shot)
        others = [_distance(frame, folder / Path(s["screenshot"]).name) for s in steps
                  if s["screen"] != steps[k]["screen"]]
        assert here < 20 and here < min(others), (steps[k]["screen"], here, min(others))


@pytest.fixture(scope="module")
def plugin_run(served: tuple[Path, str]) -> dict[str, Any]:
    """One pytest run with the plugin: a passing test and a flow that fails after reading its access code."""
    tmp = served[0] / "plugin-run"
    tmp.mkdir()
    (tmp / "test_recorded.py").write_text(INNER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env["CODE_FILE"] = str(tmp / "code.txt")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_recorded.py",
                          "--junitxml=junit.xml", "--html=report/report.html", "--self-contained-html",
                          "--artifacts=art", "--emulator-option=animation_ms=0", "--emulator-option=signin_delay=0.2"],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp)
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
    assert "1 failed, 1 passed" in out.stdout, out.stdout[-3000:]
    folders = {p.name: p for p in (tmp / "art").iterdir()}
    failed = next(p for name, p in folders.items() if "test_fails_after_the_code" in name)
    passed = next(p for name, p in folders.items() if "test_passes" in name)
    return {"tmp": tmp, "failed": failed, "passed": passed, "code": (tmp / "code.txt").read_text().split()}


def test_a_failing_flow_keeps_a_video_and_a_timeline_a_browser_shows(plugin_run: dict[str, Any], browser: Any,
                                                                     served: tuple[Path, str], artifacts: Any) -> None:
    from selenium.webdriver.common.by import By

    failed, passed, tmp = plugin_run["failed"], plugin_run["passed"], plugin_run["tmp"]
    # --record failures (the default): the failing test keeps its video, the passing one only its timeline
    assert (failed / "video.webm").stat().st_size > 0 and (failed / "timeline.html").exists()
    assert (passed / "timeline.html").exists()
    assert not [p.name for p in passed.iterdir() if p.suffix in (".webm", ".avi") or p.name.startswith("video")]
    # JUnit keeps the timeline's path; the HTML report links it
    xml = (tmp / "junit.xml").read_text()
    assert f'name="timeline" value="{failed / "timeline.html"}"' in xml.replace(str(tmp) + "/", str(tmp) + "/") or \
        re.search(r'name="timeline" value="[^"]*test_fails_after_the_code[^"]*/timeline.html"', xml), xml[-2000:]
    report = (tmp / "report" / "report.html").read_text()
    assert f"../art/{failed.name}/timeline.html" in report

    _check_steps_and_video(browser, failed, served)
    lanes = {row.get_attribute("data-lane") for row in browser.find_elements(By.CSS_SELECTOR, "#rows tr")}
    assert {"step", "action", "screenshot", "console", "modem", "power", "failure"} <= lanes, lanes
    failure = browser.find_element(By.CSS_SELECTOR, "#rows tr[data-lane=failure]").text
    assert "no_network" in failure, failure
    power = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-lane=power]")]
    # the harness's own event, and the handset console's power lines (its boot; the display going off)
    assert any("power key pressed" in p for p in power), power
    assert any(w in p for p in power for w in ("powering on", "boot: complete", "display off")), power
    messages = browser.find_elements(By.CSS_SELECTOR, "#rows tr[data-lane=modem]")
    assert any("+CMTI" in m.text or "+CMGR" in m.text or "+CMGL" in m.text for m in messages)
    browser.save_screenshot(str(artifacts.claim("timeline-page.png")))  # a picture of the page, for people

    page = (failed / "timeline.html").read_text(encoding="utf-8")
    password = _demo_password()
    assert plugin_run["code"], "the emulator sent no access code"
    for secret in [password] + plugin_run["code"]:
        assert secret not in page
        for path in failed.iterdir():
            assert secret.encode() not in path.read_bytes(), f"{secret!r} leaked into {path.name}"


def _colour_frame(k: int, size: tuple[int, int]) -> np.ndarray:
    """A frame of one flat colour per index (told apart after JPEG and VP8), ``size`` = (width, height)."""
    rng = np.random.default_rng(k)
    colour = rng.integers(30, 226, 3, dtype=np.uint8)
    return np.broadcast_to(colour, (size[1], size[0], 3)).copy()


def test_the_page_shows_text_as_text_masks_codes_and_maps_steps_to_frames(served: tuple[Path, str], browser: Any) -> None:
    """A folder made as a run makes it, frames of two sizes: a browser plays the video, a click on a step shows the
    frame taken with it; markup in a log line stays text; a secret registered after a line was written and a
    code-shaped number in a raw log line never reach the page."""
    from selenium.webdriver.common.by import By

    from harness.artifacts import Artifacts
    from harness.secrets import Secret
    from harness.serial_log import stamp
    from harness.timeline.run import RunRecording

    art = Artifacts(served[0], "crafted")
    recording = RunRecording(art, "failures", title="crafted run")
    base = time.time() - 30
    sizes = [(1080, 1920), (1080, 1920), (480, 800), (480, 800), (1080, 1920)]
    for k, size in enumerate(sizes):
        image = _colour_frame(k, size)
        for repeat in range(2):  # a wait takes a frame twice before it trusts it
            recording.recorder.add(image, t=base + 2 * k + 0.4 * repeat)
        shot = art.save_screenshot(image, f"screen{k}")
        art.append_text("steps.jsonl", json.dumps({"t": base + 2 * k + 1, "kind": "step", "index": k + 1,
                                                   "screen": f"screen{k}", "score": 0.9, "action": f"saw screen{k}",
                                                   "seconds": 0.5, "screenshot": str(shot)}) + "\n")
    late_secret = "late-secret-" + os.urandom(4).hex()
    art.append_text("steps.jsonl", json.dumps({"t": base + 11, "kind": "note", "text": f"typed {late_secret}"}) + "\n")
    Secret(late_secret)  # registered only after it was written
    with open(art.dir / "console.log", "a", encoding="utf-8") as log:  # as a log written by another tool
        log.write(f"{stamp(base + 3)} </script><script>document.title = 'injected'</script>\n")
        log.write(f"{stamp(base + 4)} your code is 7364519\n")
    recording.close(failed=True)

    rows = _open(browser, recording.timeline, served)
    assert len(rows) == len(sizes) and all(f"step {k + 1}: screen{k} (score" in r.text for k, r in enumerate(rows))
    assert browser.title == "timeline: crafted run"
    assert any("</script><script>document.title" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "#rows tr"))
    page = recording.timeline.read_text(encoding="utf-8")
    assert late_secret not in page and "7364519" not in page
    duration = _wait(browser, "const v = document.getElementById('video'); return v.readyState >= 2 && v.duration;",
                     "the video to load")
    taken = [base + 2 * k + 0.4 * repeat for k in range(len(sizes)) for repeat in range(2)]
    # real time: from the first frame to the last, which is then shown for one tenth of a second
    assert abs(duration - (taken[-1] - taken[0] + 0.1)) < 0.11, (duration, taken[-1] - taken[0])
    for k in (3, 0, 4):
        rows[k].click()
        _wait(browser, "const v = document.getElementById('video'); return v.dataset.time !== undefined && "
                       "Math.abs(v.currentTime - Number(v.dataset.time)) < 0.001 && !v.seeking && v.readyState >= 2;",
              "the video to seek")
        frame = _video_frame(browser)
        centre = frame[frame.shape[0] // 2 - 20:frame.shape[0] // 2 + 20, frame.shape[1] // 2 - 20:frame.shape[1] // 2 + 20]
        seen = centre.reshape(-1, 3).mean(axis=0)
        wanted = _colour_frame(k, (8, 8))[0, 0].astype(float)
        assert np.abs(seen - wanted).max() < 12, (k, seen, wanted)


@pytest.mark.parametrize("mode, failed, kept", [("failures", False, False), ("never", True, False), ("always", False, True)])
def test_record_mode_decides_whether_a_video_is_kept(tmp_path: Path, mode: str, failed: bool, kept: bool) -> None:
    from harness.artifacts import Artifacts
    from harness.timeline.run import RunRecording

    art = Artifacts(tmp_path, "run")
    recording = RunRecording(art, mode)
    for k in range(3):
        recording.add_frame(_colour_frame(k, (480, 800)))
    recording.close(failed=failed)
    names = sorted(p.name for p in art.dir.iterdir())
    assert names == (["timeline.html", "video-frames.jsonl", "video.webm"] if kept else ["timeline.html"]), names


def test_a_failed_signin_from_the_command_line_keeps_its_video_and_timeline(served: tuple[Path, str], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    root = served[0] / "cli"
    wrong = "not-the-password-" + os.urandom(3).hex()
    done = subprocess.run([sys.executable, "-m", "harness", "signin", "--handset",
                           "emulator://lumia-520?animation_ms=0&signin_delay=0.2", "--account", "bob@outlook.com",
                           "--password-env", "LAB_PW", "--artifacts", str(root)],
                          capture_output=True, text=True, timeout=240, env={**os.environ, "LAB_PW": wrong})
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    assert "FFMPEG" not in done.stderr and "OpenCV" not in done.stderr, done.stderr  # one failure, said once
    (run,) = [p for p in root.iterdir() if p.is_dir()]
    rows = _open(browser, run / "timeline.html", served)
    assert len(rows) == len(_steps(run)) >= 3 and "wrong_password" in rows[-1].text
    failure = browser.find_element(By.CSS_SELECTOR, "#rows tr[data-lane=failure]").text
    assert "wrong_password" in failure, failure
    _wait(browser, "const v = document.getElementById('video'); return v.readyState >= 2 && v.duration > 0;",
          "the video to load")
    for path in run.iterdir():
        assert wrong.encode() not in path.read_bytes(), f"the password leaked into {path.name}"


KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from harness.artifacts import Artifacts
    from harness.timeline.run import RunRecording

    art = Artifacts(sys.argv[1], "killed")
    recording = RunRecording(art, "failures")
    for k, colour in enumerate(COLOURS):
        image = np.broadcast_to(np.array(colour, np.uint8), (800, 480, 3)).copy()
        recording.recorder.add(image)
        shot = art.save_screenshot(image, f"screen{k}")
        art.record("step", index=k + 1, screen=f"screen{k}", score=0.9, action="saw", seconds=0.1, screenshot=str(shot))
    print(art.dir, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up, no finally: as a CI job's hard timeout ends a run
""")


def test_a_killed_run_keeps_its_frames_and_harness_timeline_makes_its_video_and_page(tmp_path: Path) -> None:
    import cv2

    colours = [[int(c) for c in np.random.default_rng(k).integers(30, 226, 3)] for k in range(6)]
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN.replace("COLOURS", repr(colours)))
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "art")], capture_output=True, text=True, timeout=120)
    assert run.returncode == -9, run.stderr[-2000:]
    folder = Path(run.stdout.strip())
    assert not (folder / "timeline.html").read_text() and not (folder / "video.webm").exists()  # claimed, never written

    done = subprocess.run([sys.executable, "-m", "harness", "timeline", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "timeline.2.html" in done.stdout and "video.webm" in done.stdout, done.stdout
    reader = cv2.VideoCapture(str(folder / "video.webm"))
    seen = []
    while True:
        ok, frame = reader.read()
        if not ok:
            break
        centre = frame[frame.shape[0] // 2, frame.shape[1] // 2][::-1].astype(int)  # BGR -> RGB
        seen.append(centre)
    reader.release()
    # each frame held for its real time (one video frame at least): the colours in order, each there
    shown = [seen[0]] + [s for prev, s in zip(seen, seen[1:]) if np.abs(s - prev).max() >= 12]
    assert len(seen) >= len(colours) and len(shown) == len(colours), (len(seen), shown, colours)
    assert all(np.abs(s - c).max() < 12 for s, c in zip(shown, colours)), (shown, colours)
    page = (folder / "timeline.2.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="timeline-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert [e["text"] for e in data["events"] if e["lane"] == "step"] == [f"screen{k} (score 0.90): saw" for k in range(6)]
    assert data["video"] == "video.webm" and len(data["frames"]) == len(colours)
