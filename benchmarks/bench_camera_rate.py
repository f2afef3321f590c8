"""The emulated camera's frame rate and its cost, read from its MJPEG stream as an IP camera's viewer reads it.

Usage: python benchmarks/bench_camera_rate.py [--sizes 1280x720,1920x1080] [--fps 20,60] [--seconds 5]
                                               [--seed N] [--stylus]

For each size and asked rate: ``harness emulate --camera --robot --camera-size S --camera-fps F`` on one bench
seed (random unless given, printed), the phone still on setup_welcome (idle: the camera draws what does not
move once per screen change), one HTTP viewer reading ``/stream.mjpg`` part by part (the JPEG bytes counted,
not decoded, so the viewer costs the emulator's CPU nothing). It prints frames per second received, the
longest gap between two frames, the mean JPEG size, and the emulator's CPU per frame (user + system from
/proc over the window, divided by the frames it drew there). With ``--stylus`` the robot moves the stylus to
and fro above the phone during the window, so every frame draws it somewhere else.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import threading
import time
from typing import Any
from urllib.parse import urlparse

from harness.emulator.process import EmulatorProcess

#: Upper bound for one part of the stream (a 1920x1080 JPEG is some 300 KB).
MAX_PART = 8 * 1024 * 1024


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its threads so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_parts(url: str, seconds: float, mark: Any, warmup: float = 1.0) -> tuple[list[float], list[int]]:
    """Arrival times and sizes of the stream's parts during ``seconds`` after ``warmup``; ``mark()`` is called
    as the window opens and as it closes."""
    where = urlparse(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    conn.request("GET", where.path)
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    times: list[float] = []
    sizes: list[int] = []
    start = time.monotonic()
    try:
        while True:
            line = resp.readline(1024)
            if not line:
                raise RuntimeError("the stream ended")
            if not line.lower().startswith(b"content-length:"):
                continue
            length = int(line.split(b":", 1)[1])
            if length > MAX_PART:
                raise RuntimeError(f"a part of {length} bytes (more than {MAX_PART})")
            resp.readline(16)  # the blank line before the JPEG
            resp.read(length)
            now = time.monotonic()
            if now - start >= warmup:
                if not times:
                    mark()
                times.append(now)
                sizes.append(length)
            if now - start >= warmup + seconds:
                mark()
                return times, sizes
    finally:
        conn.close()


def _stylus_to_and_fro(endpoints: dict[str, Any], stop: threading.Event) -> None:
    """Move the stylus between two points above the phone until ``stop`` (with the real driver)."""
    from harness.emulator.control import ControlClient
    from harness.robot import Box, GrblRobot, Limits
    from harness.serial_port import SerialPort

    with ControlClient.for_endpoints(endpoints) as control:
        bench = control.call("bench")
    glass = bench["glass_z"]
    (x0, y0), _, (x2, y2), _ = bench["screen_corners"]
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=glass - 0.5, hover_z=glass + 5)
    with GrblRobot(SerialPort(endpoints["robot"]), limits, answer_timeout=15.0) as robot:
        robot.recover()
        ends = [(x0 + 0.2 * (x2 - x0), y0 + 0.2 * (y2 - y0)), (x0 + 0.8 * (x2 - x0), y0 + 0.8 * (y2 - y0))]
        k = 0
        while not stop.is_set():
            x, y = ends[k % 2]
            robot.move_to(x=x, y=y, z=glass + 5)
            robot.wait_idle()
            k += 1


def one(size: str, fps: float, seconds: float, seed: int, stylus: bool) -> dict[str, Any]:
    emulator = EmulatorProcess("lumia-930", ["--camera", "--robot", "--bench-seed", str(seed), "--camera-size", size,
                                             "--camera-fps", f"{fps:g}", "--animation-ms", "0", "--boot-time", "0.3"])
    emulator.start()
    stop = threading.Event()
    mover = None
    try:
        assert emulator.proc is not None
        pid = emulator.proc.pid
        with emulator.control() as control:
            control.call("goto", screen="setup_welcome")
            if stylus:
                mover = threading.Thread(target=_stylus_to_and_fro, args=(emulator.endpoints, stop), daemon=True)
                mover.start()
            marks: list[tuple[float, int]] = []  # (CPU, frames drawn) of the emulator as the window opens, closes
            times, sizes = _read_parts(emulator.endpoints["camera"], seconds, lambda: marks.append(
                (_cpu_seconds(pid), control.call("camera_state")["frames"])))
        (cpu0, frames0), (cpu1, frames1) = marks
        gaps = [b - a for a, b in zip(times, times[1:])]
        drawn = max(1, frames1 - frames0)
        return {"size": size, "asked_fps": fps, "fps": (len(times) - 1) / (times[-1] - times[0]),
                "longest_gap_ms": max(gaps) * 1000, "jpeg_kb": statistics.mean(sizes) / 1024,
                "cpu_ms_per_frame": (cpu1 - cpu0) * 1000 / drawn, "cpu_share": (cpu1 - cpu0) / (times[-1] - times[0])}
    finally:
        stop.set()
        if mover is not None:
            mover.join(20)
        emulator.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--fps", default="20,60", help="rates to ask the camera for (20 is its default)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=random.SystemRandom().randrange(10**6))
    ap.add_argument("--stylus", action="store_true", help="the stylus moving during the window")
    args = ap.parse_args()
    print(f"bench seed {args.seed}; load average {os.getloadavg()[0]:.1f}; stylus "
          f"{'moving' if args.stylus else 'still'}")
    for size in args.sizes.split(","):
        for fps in (float(f) for f in args.fps.split(",")):
            r = one(size, fps, args.seconds, args.seed, args.stylus)
            print(f"{r['size']:>9} asked {r['asked_fps']:>4g} fps: received {r['fps']:5.1f} fps, longest gap "
                  f"{r['longest_gap_ms']:4.0f} ms, JPEG {r['jpeg_kb']:5.0f} KB, emulator CPU {r['cpu_ms_per_frame']:5.1f} "
                  f"ms/frame ({r['cpu_share']:.2f} of a core)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
