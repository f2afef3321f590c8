"""The live view at 1080x1920, measured in a real headless Chromium against a direct screenshot loop, in one run.

Run: python benchmarks/bench_view.py [--turns 4] [--turn-ms 2000] [--changes 8] [--seconds 4] [--cli 1] [--png /tmp/view.png]

One emulated lumia-930 (1080x1920) whose page turns last ``--turn-ms`` serves everyone: `harness view --handset
adb-tcp://...` (a separate process, as a person starts it) and, for comparison, the harness's own ADB driver
taking screenshots in a loop (what `harness screenshot` does per call; the CLI itself is timed too, with its
start-up). The view's frames come from the phone's `screenrecord` stream (a frame when the screen changed, scaled
on the phone to the window), so a frame rate means something only while the screen changes: it is measured over
page turns. Printed:
- frame rate while the screen changes: frames the page showed per second of a page turn (its own count,
  `window.viewStats`), against different screenshots per second the direct loop gets over the same kind of turn,
  and the direct loop's screenshots per second on a still screen;
- latency: from sending a tap or key that changes the screen (alternately "sign in" and back) to the page showing
  the first frame of the change (its onload time, wall clock), against the direct loop's first screenshot that
  differs;
- cost: the emulator's and the view's CPU seconds per second and the frames the view took per second, with 0, 1
  and 5 viewers on a still screen and during turns, and each of five windows' frame rate during a turn; then the
  same turn with five plain WebSocket viewers (what the view itself sustains, without five browser windows
  decoding and painting on the same CPUs);
- the load average (2 CPUs shared with other work make every figure move; the ratios are what to compare).
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


def _frames(driver: Any) -> int:
    return int(driver.execute_script("return window.viewStats.frames"))


def _change(handset: Any, n: int) -> None:
    if n % 2 == 0:
        handset.tap(*SIGN_IN)
    else:
        handset.key("back")


def _turn_rate(drivers: list[Any], handset: Any, n: int, turn_s: float) -> list[float]:
    """Each page's frames per second over one page turn: from the change sent to the last frame of the turn."""
    before = [_frames(d) for d in drivers]
    sent = time.time() * 1000
    _change(handset, n)
    time.sleep(turn_s + 1.0)   # measuring over the turn and a second after it
    rates = []
    for d, b in zip(drivers, before):
        shown = d.execute_script("return window.viewStats.arrivals.slice(-arguments[0]).map(a => a.shown);",
                                 _frames(d) - b)
        span = (max(shown) - sent) / 1000 if shown else 0.0
        rates.append(len(shown) / span if span > 0 else 0.0)
    return rates


def _direct_turn_rate(handset: Any, n: int, turn_s: float) -> tuple[float, float]:
    """(different screenshots per second, screenshots per second) of a loop over one page turn."""
    _change(handset, n)
    started, last, distinct, taken = time.monotonic(), None, 0, 0
    while time.monotonic() - started < turn_s:
        image = handset.screenshot()
        taken += 1
        if last is None or not np.array_equal(image, last):
            distinct += 1
            last = image.copy()
    dt = time.monotonic() - started
    time.sleep(1.0)   # the turn's end, before the next
    return distinct / dt, taken / dt


def _ws_turn_rate(view: ViewProcess, name: str, handset: Any, n: int, viewers: int, turn_s: float,
                  height: int) -> list[float]:
    """Frames per second each of ``viewers`` plain WebSocket viewers (each says "next" after every frame, as the
    page does) gets over one page turn: the view's own fan-out, without a browser decoding and painting."""
    import asyncio

    import aiohttp

    url = view.base.replace("http://", "ws://") + f"/h/{name}/ws?height={height}&token={view.token}"
    times: list[list[float]] = [[] for _ in range(viewers)]

    async def viewer(got: list[float], ready: asyncio.Event) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=64 << 20) as ws:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY:
                    ready.set()
                    got.append(time.time())
                    await ws.send_str("next")

    async def run() -> float:
        ready = [asyncio.Event() for _ in range(viewers)]
        tasks = [asyncio.create_task(viewer(got, r)) for got, r in zip(times, ready)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 60)
        sent = time.time()
        await asyncio.to_thread(_change, handset, n)
        await asyncio.sleep(turn_s + 1.0)   # measuring over the turn and a second after it
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return sent

    sent = asyncio.run(run())
    rates = []
    for got in times:
        shown = [t for t in got if t > sent]
        rates.append(len(shown) / (max(shown) - sent) if shown else 0.0)
    return rates


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=4, help="page turns timed for the frame rate")
    ap.add_argument("--turn-ms", type=int, default=2000, help="how long the handset's page turn lasts")
    ap.add_argument("--changes", type=int, default=8, help="screen changes timed for latency")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each still-screen cost window")
    ap.add_argument("--cli", type=int, default=1, help="`harness screenshot` calls timed")
    ap.add_argument("--png", default="", help="save the browser's screenshot of the page here")
    args = ap.parse_args()
    turn_s = args.turn_ms / 1000

    emulate = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--profile", "lumia-930", "--animation-ms",
                                str(args.turn_ms), "--screen", "keep_your_life_in_sync",
                                "--adb-key", str(Path.home() / ".android/adbkey.pub")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    conftest = _conftest()
    drivers: list[Any] = []
    view = None
    load = [os.getloadavg()[0]]
    try:
        endpoints = json.loads(emulate.stdout.readline())  # type: ignore[union-attr]
        uri = f"adb-tcp://{endpoints['adb']}"
        direct = open_handset(uri).handset
        direct.screenshot()
        maxdata = getattr(getattr(direct, "conn", None), "max_write", "?")   # what the device announced to this host
        time.sleep(turn_s + 1)   # the first page's turn in
        direct.screenshot()
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < args.seconds:
            direct.screenshot()
            n += 1
        still_fps = n / (time.monotonic() - t0)
        direct_turns = [_direct_turn_rate(direct, i, turn_s) for i in range(args.turns - args.turns % 2)]
        direct_lat = []
        for i in range(args.changes):
            before = direct.screenshot().copy()
            sent = time.time()
            _change(direct, i)
            while np.array_equal(direct.screenshot(), before):
                pass
            direct_lat.append((time.time() - sent) * 1000)
            time.sleep(turn_s + 0.5)   # let the turn end before the next change
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
        wait_until("a frame in the page", lambda: _frames(driver) >= 1)
        one_still = _cost(view, name, emulate.pid, args.seconds)
        e0, v0, g0, t0 = _cpu(emulate.pid), _cpu(view.proc.pid), _state(view, name)["grabs"], time.monotonic()
        page_turns = [_turn_rate([driver], direct, i, turn_s)[0] for i in range(args.turns - args.turns % 2)]
        dt = time.monotonic() - t0
        one_turns = ((_cpu(emulate.pid) - e0) / dt, (_cpu(view.proc.pid) - v0) / dt, (_state(view, name)["grabs"] - g0) / dt)
        source = _state(view, name).get("source", "?")
        load.append(os.getloadavg()[0])
        lat = []
        for i in range(args.changes):
            before = driver.execute_script("return window.viewStats.changes")
            sent = time.time() * 1000
            _change(direct, i)
            shown = wait_until("the page to show the change", lambda: driver.execute_script(
                "return window.viewStats.arrivals.filter(a => a.changes > arguments[0]).map(a => a.shown)[0];", before),
                timeout=30, every=0.01)
            lat.append(shown - sent)
            time.sleep(turn_s + 0.5)   # let the turn end before the next change
        if args.png:
            driver.save_screenshot(args.png)
        for _ in range(4):
            driver.switch_to.new_window("window")
            driver.get(view.url)
        wait_until("a frame in all five windows", lambda: _frames(driver) >= 1)
        five_still = _cost(view, name, emulate.pid, args.seconds)
        windows = driver.window_handles

        class _Window:   # one window of the five, as _turn_rate reads it
            def __init__(self, handle: str) -> None:
                self.handle = handle

            def execute_script(self, script: str, *a: Any) -> Any:
                driver.switch_to.window(self.handle)
                return driver.execute_script(script, *a)
        e0, v0, g0, t0 = _cpu(emulate.pid), _cpu(view.proc.pid), _state(view, name)["grabs"], time.monotonic()
        per_window = _turn_rate([_Window(h) for h in windows], direct, 0, turn_s)
        _change(direct, 1)
        time.sleep(turn_s + 1.0)
        dt = time.monotonic() - t0
        five_turns = ((_cpu(emulate.pid) - e0) / dt, (_cpu(view.proc.pid) - v0) / dt, (_state(view, name)["grabs"] - g0) / dt)
        height = int(driver.execute_script("return Math.ceil(Math.max(window.screen.height, window.innerHeight) * "
                                           "(window.devicePixelRatio || 1));"))
        for d in drivers:   # the browser's windows gone: five viewers that only take frames
            d.quit()
        drivers.clear()
        e0, v0, g0, t0 = _cpu(emulate.pid), _cpu(view.proc.pid), _state(view, name)["grabs"], time.monotonic()
        per_ws = _ws_turn_rate(view, name, direct, 0, 5, turn_s, height)
        _change(direct, 1)
        time.sleep(turn_s + 1.0)   # the turn back, before the figures are read
        dt = time.monotonic() - t0
        five_ws = ((_cpu(emulate.pid) - e0) / dt, (_cpu(view.proc.pid) - v0) / dt, (_state(view, name)["grabs"] - g0) / dt)
        load.append(os.getloadavg()[0])
    finally:
        for d in drivers:
            d.quit()
        if view is not None:
            view.stop()
        emulate.terminate()
        emulate.wait(30)

    med = statistics.median
    d_distinct = med(d for d, _ in direct_turns)
    print(f"live view, lumia-930 1080x1920, emulated, over ADB/TCP on 127.0.0.1 (maxdata {maxdata} both ways), frames from the "
          f"phone's {source}; page turns of {args.turn_ms} ms; load average {', '.join(f'{x:.1f}' for x in load)} "
          f"(start, middle, end) on {os.cpu_count()} CPUs")
    print(f"frame rate during page turns: page median {med(page_turns):5.1f} fps (turns: "
          f"{', '.join(f'{x:.1f}' for x in page_turns)}) | direct screenshot loop {d_distinct:5.1f} different "
          f"screenshots/s ({med(t for _, t in direct_turns):.1f} screenshots/s) | ratio page/direct "
          f"{med(page_turns) / max(d_distinct, 1e-9):.2f}")
    print(f"still screen: direct loop {still_fps:5.1f} screenshots/s | `harness screenshot` CLI "
          f"{med(cli):.2f} s a call (median of {len(cli)}, start-up included)")
    print(f"latency (change sent -> first frame of it shown): page median {med(lat):4.0f} ms, max {max(lat):4.0f} ms | "
          f"direct loop median {med(direct_lat):4.0f} ms, max {max(direct_lat):4.0f} ms  ({args.changes} changes) | "
          f"ratio {med(lat) / max(med(direct_lat), 1e-9):.2f}")
    print("cost (emulator CPU s/s, view CPU s/s, frames the view took /s):")
    for label, (e, v, g) in (("0 viewers, still", idle), ("1 viewer, still", one_still), ("1 viewer, turns", one_turns),
                             ("5 viewers, still", five_still), ("5 viewers, turns", five_turns),
                             ("5 ws viewers, turns", five_ws)):
        print(f"  {label:17s}  emulator {e:4.2f}  view {v:4.2f}  frames {g:5.1f}/s")
    print(f"  frames per second of a turn in each of the 5 windows (one Chromium on these CPUs): "
          f"{', '.join(f'{x:.1f}' for x in per_window)}")
    print(f"  frames per second of a turn in each of 5 WebSocket viewers (no browser, frames {height} high): "
          f"{', '.join(f'{x:.1f}' for x in per_ws)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
