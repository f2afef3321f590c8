"""The live view at 1080x1920, measured in a real headless Chromium against a direct screenshot loop, in one run.

Run: python benchmarks/bench_view.py [--seconds 6] [--changes 8] [--cli 3] [--png /tmp/view.png]

One emulated lumia-930 (1080x1920, no animations) serves everyone: `harness view --handset adb-tcp://...`
(a separate process, as a person starts it) and, for comparison, the harness's own ADB driver taking
screenshots in a loop (what `harness screenshot` does per call; the CLI itself is timed too, with its
start-up). Printed:
- frame rate: frames the page showed per second (its own count, `window.viewStats`), against screenshots
  per second of the direct loop;
- latency: from sending a tap that changes the screen (alternately "sign in" and back) to the page showing
  the first frame of the new screen (its onload time, wall clock), against the direct loop's first
  screenshot that differs;
- cost on the handset: the emulator process's CPU seconds per second and the view's screenshots per second
  with 0, 1 and 5 viewers (five windows of one Chromium), and the view process's own CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "view"))

from harness.handsets import open_handset  # noqa: E402
from viewproc import ViewProcess, wait_until  # noqa: E402

SIGN_IN = (288, 1800)   # "sign in" on keep_your_life_in_sync at 1080x1920 (where `harness match` finds it)


def _conftest() -> Any:
    spec = importlib.util.spec_from_file_location("view_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _state(view: ViewProcess, name: str) -> dict[str, Any]:
    return json.loads(view.get(f"/h/{name}/state")[1])


def _cost(view: ViewProcess, name: str, emulator: int, seconds: float) -> tuple[float, float, float]:
    """(emulator CPU s/s, view CPU s/s, screenshots/s) over ``seconds``."""
    e0, v0, g0, t0 = _cpu(emulator), _cpu(view.proc.pid), _state(view, name)["grabs"], time.monotonic()
    time.sleep(seconds)   # measuring over a fixed window
    dt = time.monotonic() - t0
    return (_cpu(emulator) - e0) / dt, (_cpu(view.proc.pid) - v0) / dt, (_state(view, name)["grabs"] - g0) / dt


def _page_fps(driver: Any, seconds: float) -> float:
    f0 = driver.execute_script("return window.viewStats.frames")
    t0 = time.monotonic()
    time.sleep(seconds)
    return (driver.execute_script("return window.viewStats.frames") - f0) / (time.monotonic() - t0)


def _change(handset: Any, n: int) -> None:
    if n % 2 == 0:
        handset.tap(*SIGN_IN)
    else:
        handset.key("back")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="length of each rate and cost window")
    ap.add_argument("--changes", type=int, default=8, help="screen changes timed for latency")
    ap.add_argument("--cli", type=int, default=3, help="`harness screenshot` calls timed")
    ap.add_argument("--png", default="", help="save the browser's screenshot of the page here")
    args = ap.parse_args()

    emulate = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", "lumia-930", "--animation-ms", "0",
                                "--screen", "keep_your_life_in_sync", "--adb-key", str(Path.home() / ".android/adbkey.pub")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    conftest = _conftest()
    drivers: list[Any] = []
    view = None
    try:
        endpoints = json.loads(emulate.stdout.readline())  # type: ignore[union-attr]
        uri = f"adb-tcp://{endpoints['adb']}"
        direct = open_handset(uri).handset
        # direct loop first, on its own
        direct.screenshot()
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < args.seconds:
            direct.screenshot()
            n += 1
        direct_fps = n / (time.monotonic() - t0)
        direct_lat = []
        for i in range(args.changes):
            before = direct.screenshot().copy()
            sent = time.time()
            _change(direct, i)
            while np.array_equal(direct.screenshot(), before):
                pass
            direct_lat.append((time.time() - sent) * 1000)
        cli = []
        for i in range(args.cli):
            t = time.monotonic()
            subprocess.run([sys.executable, "-m", "harness", "screenshot", "--handset", uri, "-o", f"/tmp/bench-view-{os.getpid()}.png"],
                           check=True, capture_output=True)
            cli.append(time.monotonic() - t)

        view = ViewProcess("--handset", uri)
        name = endpoints["serial"]
        idle = _cost(view, name, emulate.pid, args.seconds)
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="bench-view-"))
        driver = conftest.start_chromium(tmp / "profile")
        drivers.append(driver)
        driver.get(view.url)
        wait_until("frames in the page", lambda: driver.execute_script("return window.viewStats.frames") >= 5)
        fps = _page_fps(driver, args.seconds)
        one = _cost(view, name, emulate.pid, args.seconds)
        lat = []
        for i in range(args.changes):
            before = driver.execute_script("return window.viewStats.changes")
            sent = time.time() * 1000
            _change(direct, i)
            shown = wait_until("the page to show the change", lambda: driver.execute_script(
                "return window.viewStats.arrivals.filter(a => a.changes > arguments[0]).map(a => a.shown)[0];", before),
                timeout=30, every=0.01)
            lat.append(shown - sent)
        if args.png:
            driver.save_screenshot(args.png)
        for _ in range(4):
            driver.switch_to.new_window("window")
            driver.get(view.url)
        wait_until("frames in all five windows", lambda: driver.execute_script("return window.viewStats.frames") >= 5)
        five = _cost(view, name, emulate.pid, args.seconds)
        per_window = []
        for handle in driver.window_handles:
            driver.switch_to.window(handle)
            per_window.append(_page_fps(driver, 1.0))
    finally:
        for d in drivers:
            d.quit()
        if view is not None:
            view.stop()
        emulate.terminate()
        emulate.wait(30)

    print(f"live view, lumia-930 1080x1920, emulated, over ADB/TCP on 127.0.0.1; load average {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} CPUs")
    print(f"frame rate: page {fps:5.1f} fps | direct driver loop {direct_fps:5.1f} screenshots/s | "
          f"`harness screenshot` CLI {statistics.median(cli):.2f} s a call (median of {len(cli)}, start-up included)")
    print(f"latency (tap sent -> change shown): page median {statistics.median(lat):4.0f} ms, max {max(lat):4.0f} ms | "
          f"direct loop median {statistics.median(direct_lat):4.0f} ms, max {max(direct_lat):4.0f} ms  ({args.changes} changes)")
    print("cost on the handset (emulator CPU s/s, view CPU s/s, screenshots/s):")
    for label, (e, v, g) in (("0 viewers", idle), ("1 viewer", one), ("5 viewers", five)):
        print(f"  {label:9s}  emulator {e:4.2f}  view {v:4.2f}  screenshots {g:5.1f}/s")
    print(f"  frames per second in each of the 5 windows: {', '.join(f'{x:.1f}' for x in per_window)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
