"""Ten emulated handsets side by side: resident memory of each, after each has rendered screens.

Run: python benchmarks/bench_emulator_memory.py [--count 10] [--profile lumia-930]
Each handset is a ``harness emulate`` child; the figures are each process's
VmRSS / VmHWM from /proc after it has drawn every screen of the flows once
(each screen fetched as a screenshot over ADB). The baseline, measured in the
same run, is an idle Python process that has imported every emulator module
and started nothing: the ratio is what a running handset costs over its code.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.handsets import connect_handset  # noqa: E402
from harness.emulator.process import EmulatorProcess  # noqa: E402

#: The baseline child: every emulator module imported, nothing started; it waits for stdin to close.
IMPORTS_ONLY = ("import importlib, pkgutil, sys, harness.cli, harness.emulator as e\n"
                "[importlib.import_module(f'harness.emulator.{m.name}') for m in pkgutil.iter_modules(e.__path__)]\n"
                "print('ready', flush=True); sys.stdin.read()")


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--profile", default="lumia-930")
    args = ap.parse_args()
    started = time.monotonic()
    procs = [EmulatorProcess(args.profile, ["--animation-ms", "0", "--adb-insecure"]) for _ in range(args.count)]
    for p in procs:
        p.start()
    boot = time.monotonic() - started
    for p in procs:
        with p.control() as control:
            screens = control.call("screens")["screens"]
            handset = connect_handset(f"adb-tcp://{p.endpoints['adb']}")
            try:
                for name in screens:
                    control.call("goto", screen=name)
                    handset.screenshot()
            finally:
                handset.close()
    rss = [_status_kib(p.proc.pid, "VmRSS") / 1024 for p in procs]
    hwm = [_status_kib(p.proc.pid, "VmHWM") / 1024 for p in procs]
    for p in procs:
        p.stop()
    baseline = subprocess.Popen([sys.executable, "-c", IMPORTS_ONLY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert baseline.stdout is not None and baseline.stdout.readline().strip() == "ready", "baseline did not start"
        floor = _status_kib(baseline.pid, "VmRSS") / 1024
    finally:
        baseline.communicate("", timeout=30)
    print(f"handsets: {args.count} x {args.profile}, all started in {boot:.1f}s")
    print(f"rss MiB per handset: median {statistics.median(rss):.1f}, max {max(rss):.1f}, total {sum(rss):.0f}")
    print(f"peak rss MiB per handset: median {statistics.median(hwm):.1f}, max {max(hwm):.1f}")
    print(f"baseline (emulator modules imported, nothing running): {floor:.1f} MiB; "
          f"a running handset after drawing {len(screens)} screens: {statistics.median(rss) / floor:.2f}x the baseline")


if __name__ == "__main__":
    main()
