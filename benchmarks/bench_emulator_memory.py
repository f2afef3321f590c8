"""Emulated handsets side by side: the memory of each, and of them all, after each has drawn every screen.

Run: python benchmarks/bench_emulator_memory.py [--handsets 1] [--profile lumia-930]
Each handset is a ``harness emulate`` child, as on an emulated rack; the figures are each process's
VmRSS / VmHWM (/proc/PID/status) and Pss (/proc/PID/smaps_rollup: shared pages split among the
processes that map them, so the rack's sum is what it really costs) after it has drawn every screen
once (each fetched as a screenshot over ADB). The baseline, measured in the same run, is an idle
Python process that has imported every emulator module and started nothing: the ratio is what a
running handset costs over its code. Goals (issue 14): under 80 MiB per handset, 16 under 1.3 GiB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulator.process import EmulatorProcess  # noqa: E402
from harness.handsets import connect_handset  # noqa: E402

#: The baseline child: every emulator module imported, nothing started; it waits for stdin to close.
IMPORTS_ONLY = ("import importlib, pkgutil, sys, harness.cli, harness.emulator as e\n"
                "[importlib.import_module(f'harness.emulator.{m.name}') for m in pkgutil.iter_modules(e.__path__)]\n"
                "print('ready', flush=True); sys.stdin.read()")


def _kib(pid: int, name: str, field: str) -> int:
    for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _memory(pid: int) -> dict[str, float]:
    """RSS, peak RSS and PSS of a process, in MiB."""
    return {"rss": _kib(pid, "status", "VmRSS") / 1024, "hwm": _kib(pid, "status", "VmHWM") / 1024,
            "pss": _kib(pid, "smaps_rollup", "Pss") / 1024}


def _draw_every_screen(p: EmulatorProcess) -> list[str]:
    """Show every screen on the handset and take it as a screenshot over ADB; the screens' names."""
    with p.control() as control:
        screens = control.call("screens")["screens"]
        handset = connect_handset(f"adb-tcp://{p.endpoints['adb']}")
        try:
            for name in screens:
                control.call("goto", screen=name)
                handset.screenshot()
        finally:
            handset.close()
    return screens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--handsets", "--count", type=int, default=1, help="how many handsets run side by side")
    ap.add_argument("--profile", default="lumia-930")
    ap.add_argument("--adb-maxdata", type=int, default=1024 * 1024,
                    help="what each handset's adbd announces (1 MiB: a screenshot is 8 messages, not 2025)")
    args = ap.parse_args()
    load = os.getloadavg()
    started = time.monotonic()
    procs = [EmulatorProcess(args.profile, ["--animation-ms", "0", "--adb-insecure", "--serial-index", str(i),
                                            "--adb-maxdata", str(args.adb_maxdata)])
             for i in range(args.handsets)]
    try:
        for p in procs:
            p.start()
        boot = time.monotonic() - started
        with ThreadPoolExecutor(max_workers=len(procs)) as pool:  # side by side, as a rack's tests run
            screens = list(pool.map(_draw_every_screen, procs))[0]
        drawn = time.monotonic() - started
        mem = [_memory(p.proc.pid) for p in procs if p.proc is not None]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.stop()
    baseline = subprocess.Popen([sys.executable, "-c", IMPORTS_ONLY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert baseline.stdout is not None and baseline.stdout.readline().strip() == "ready", "baseline did not start"
        floor = _memory(baseline.pid)
    finally:
        baseline.communicate("", timeout=30)
    rss, pss = [m["rss"] for m in mem], [m["pss"] for m in mem]
    print(f"handsets: {args.handsets} x {args.profile}, started in {boot:.1f}s, all {len(screens)} screens drawn "
          f"by {drawn:.1f}s")
    print(f"per handset after drawing every screen: rss MiB median {statistics.median(rss):.1f}, max {max(rss):.1f}; "
          f"pss median {statistics.median(pss):.1f}; peak rss max {max(m['hwm'] for m in mem):.1f}")
    print(f"all {args.handsets} handsets: rss {sum(rss):.0f} MiB, pss {sum(pss):.0f} MiB")
    print(f"baseline (emulator modules imported, nothing running): rss {floor['rss']:.1f} MiB, pss {floor['pss']:.1f} MiB; "
          f"a running handset is {statistics.median(rss) / floor['rss']:.2f}x its rss")
    print(f"load average at the start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
