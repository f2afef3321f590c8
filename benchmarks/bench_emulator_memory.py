"""Ten emulated handsets side by side: resident memory of each, after each has rendered screens.

Run: python benchmarks/bench_emulator_memory.py [--count 10] [--profile lumia-930]
Each handset is a ``harness emulate`` child; the figures are each process's
VmRSS / VmHWM from /proc after it has drawn every screen of the flows once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.emulator.process import EmulatorProcess  # noqa: E402


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
    procs = [EmulatorProcess(args.profile, ["--animation-ms", "0"]) for _ in range(args.count)]
    for p in procs:
        p.start()
    boot = time.monotonic() - started
    screens = []
    for p in procs:
        with p.control() as c:
            screens = c.call("screens")["screens"]
    # Draw each screen through a real client when the ADB layer is there.
    try:
        from harness.adb import connect  # type: ignore[attr-defined]
    except Exception:
        connect = None
    if connect is not None:
        for p in procs:
            handset = connect(f"adb-tcp://{p.endpoints['adb']}")
            with p.control() as c:
                for name in screens:
                    c.call("goto", screen=name)
                    handset.screenshot()
            handset.close()
    rss = [_status_kib(p.proc.pid, "VmRSS") / 1024 for p in procs]
    hwm = [_status_kib(p.proc.pid, "VmHWM") / 1024 for p in procs]
    for p in procs:
        p.stop()
    print(f"handsets: {args.count} x {args.profile}, all started in {boot:.1f}s")
    print(f"rss MiB per handset: median {statistics.median(rss):.1f}, max {max(rss):.1f}, total {sum(rss):.0f}")
    print(f"peak rss MiB per handset: median {statistics.median(hwm):.1f}, max {max(hwm):.1f}")


if __name__ == "__main__":
    main()
