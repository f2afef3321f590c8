"""Time to acquire a labgrid place and open its handset, against opening the same handset directly (same run).

Starts a real labgrid-coordinator and labgrid-exporter on 127.0.0.1 (OS-picked
ports, a temporary folder) and one emulated handset whose ADB port the exporter
publishes, then alternates, ``--rounds`` times: open the handset by its URI
(connect, one ``echo``), and acquire its place (connect to the coordinator,
AcquirePlace, tag, read the resources), open it the same way, release. Prints
the medians and the ratio; with ``--kills N`` also the release time of a place
whose holder was killed with -9, the janitor running with ``--limit``.

    .venv/bin/python benchmarks/bench_lg_place.py --rounds 5 --kills 3 --limit 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / "lab"), str(HERE.parent / "tests" / "faults")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--limit", type=float, default=5.0, help="the janitor's limit for --kills (seconds)")
    args = parser.parse_args()

    from faultlab import start_emulated_handset
    from lgplace_bench import Bench, wait_for

    from harness.adb.auth import load_or_create_key
    from harness.handsets import open_handset
    from harness.lab.labgrid.janitor import run_janitor
    from harness.lab.labgrid.places import HeldPlace

    folder = Path(tempfile.mkdtemp(prefix="bench-lg-place-"))
    key = folder / "adbkey"
    load_or_create_key(key)
    os.environ["HARNESS_ADB_KEY"] = str(key)
    os.environ.setdefault("HARNESS_LG_HEARTBEAT", str(max(0.2, args.limit / 5)))
    bench = Bench(folder, {"HARNESS_ADB_KEY": str(key)})
    handset = None
    try:
        bench.start_coordinator()
        handset = start_emulated_handset(["--profile", "lumia-520", "--animation-ms", "0", "--boot-time", "0.5",
                                          "--adb-key", str(key) + ".pub"], "bench-lg", env=bench.env)
        host, port = handset.endpoints["adb"].rsplit(":", 1)
        bench.start_exporter("rack-a", {"p1": {"adb": {"cls": "NetworkService", "address": host, "port": int(port),
                                                       "username": ""}}})
        bench.add_place("p1", ["rack-a/p1/NetworkService/adb"], {"profile": "lumia-520"})
        uri = f"adb-tcp://{handset.endpoints['adb']}"

        def direct() -> None:
            opened = open_handset(uri)
            opened.handset.shell_result("echo x")
            opened.close()

        def through_place() -> None:
            with HeldPlace(bench.address, "p1", note=lambda line: None) as held:
                assert held.inventory is not None
                opened = open_handset(held.inventory.handsets[0].uri)
                opened.handset.shell_result("echo x")
                opened.close()

        times: dict[str, list[float]] = {"direct": [], "place": []}
        for _ in range(args.rounds):
            for name, fn in (("direct", direct), ("place", through_place)):
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        d, p = statistics.median(times["direct"]), statistics.median(times["place"])
        print(f"open directly:            median {d * 1000:7.1f} ms  ({', '.join(f'{t * 1000:.0f}' for t in times['direct'])})")
        print(f"acquire place, open:      median {p * 1000:7.1f} ms  ({', '.join(f'{t * 1000:.0f}' for t in times['place'])})")
        print(f"place costs {p - d:+.3f}s ({p / d:.1f}x) over {args.rounds} rounds; load {os.getloadavg()[0]:.1f}")

        if args.kills:
            stop, lines = threading.Event(), []
            janitor = threading.Thread(target=run_janitor, args=(bench.address, args.limit, stop, lines.append, 0.1),
                                       daemon=True)
            janitor.start()
            code = ("import sys; from harness.lab.labgrid.places import HeldPlace; h = HeldPlace(sys.argv[1], 'p1'); "
                    "h.acquire(); print('held', flush=True); sys.stdin.read()")
            released = []
            for _ in range(args.kills):
                proc = subprocess.Popen([sys.executable, "-c", code, bench.address], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
                assert proc.stdout is not None and proc.stdout.readline().startswith("held")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                killed = time.monotonic()
                wait_for(lambda: any(f"pid {proc.pid} " in line for line in lines), args.limit * 3 + 30,
                         "the janitor to free the place", lambda: lines)
                released.append(time.monotonic() - killed)
            stop.set()
            janitor.join(15)
            print(f"release after kill -9 (janitor limit {args.limit:g}s, beat {os.environ['HARNESS_LG_HEARTBEAT']}s): "
                  + ", ".join(f"{t:.2f}s" for t in released))
    finally:
        if handset is not None:
            handset.stop()
        bench.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
