"""The end-to-end suite on an emulated rack: N handsets with N pytest-xdist workers vs one handset.

Run: python benchmarks/bench_rack.py [--sizes 16,1] [--suite tests/e2e/test_signin_flows.py]
For each size: starts `harness emulate --rack N`, runs the suite against its
inventory (each worker leases its own handset), and reports wall time, the
outcome line, and the peak total memory of all processes (sampled from /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _total_rss_mib() -> float:
    total = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
    return total / 1024


def run(size: int, suite: str, work: Path) -> dict:
    env = {**os.environ, "HARNESS_ADB_KEY": str(work / "adbkey"), "HARNESS_LEASE_DIR": str(work / f"leases-{size}")}
    sys.path.insert(0, str(ROOT))
    from harness.adb.auth import load_or_create_key

    load_or_create_key(work / "adbkey")
    inventory = work / f"rack-{size}.toml"
    baseline = _total_rss_mib()
    rack = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--rack", str(size), "--adb-key",
                             str(work / "adbkey.pub"), "--inventory-out", str(inventory)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    json.loads(rack.stdout.readline())
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            peak[0] = max(peak[0], _total_rss_mib() - baseline)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", suite, "-n", str(size),
                          f"--inventory={inventory}", f"--artifacts={work / f'art-{size}'}"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=7200)
    wall = time.monotonic() - started
    stop.set()
    rack.terminate()
    rack.wait(30)
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-300:]
    return {"handsets": size, "wall_s": round(wall, 1), "peak_mib": round(peak[0]), "result": summary}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="16,1")
    ap.add_argument("--suite", default="tests/e2e/test_signin_flows.py")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-rack-"))
    results = [run(int(n), args.suite, work) for n in args.sizes.split(",")]
    for r in results:
        print(json.dumps(r))
    if len(results) == 2:
        print(f"wall time, {results[1]['handsets']} handset / {results[0]['handsets']} handsets: "
              f"{results[1]['wall_s'] / results[0]['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
