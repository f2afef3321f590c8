"""Screenshot round trip at 1080x1920: the harness's ADB driver vs Debian's `adb exec-out screencap`, at both
ends of the maxdata range the emulated device can announce (4096, as older devices, and 1 MiB).

Run: python benchmarks/bench_adb_screenshot.py [--frames 20] [--maxdata 4096,1048576] [--usb] [--rounds 5]
For each maxdata one emulated handset serves every client in the same run, in rounds where the clients
take turns (a load that comes and goes on a shared machine then falls on all of them alike); all
end with a numpy RGB array (what a test needs), decoded by the same functions, so the ratio compares
the hosts. The maxdata each client negotiated is read from the device's own log (it logs what each
host announces and what it then sends per message).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.adb.auth import load_or_create_key, sign_token  # noqa: E402
from harness.adb.services import decode_png, decode_screencap  # noqa: E402
from harness.emulator.process import EmulatorProcess  # noqa: E402
from harness.handsets import connect_handset  # noqa: E402

_NEGOTIATED = re.compile(r"adb: a host connects with maxdata (\d+); this device announces (\d+) and sends at most (\d+)")


def _interleaved(clients: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Frames per second of each client, timed in ``rounds`` rounds that take turns (each round runs every
    client for its share of frames), so a load that comes and goes on a shared machine falls on all alike."""
    spent = {name: 0.0 for name in clients}
    done = {name: 0 for name in clients}
    for name, (fn, _) in clients.items():
        fn()  # warm-up
    for i in range(rounds):
        for name, (fn, frames) in clients.items():
            share = frames // rounds + (1 if i < frames % rounds else 0)
            started = time.perf_counter()
            for _ in range(share):
                fn()
            spent[name] += time.perf_counter() - started
            done[name] += share
    return {name: done[name] / spent[name] for name in clients}


def _plain_host(address: str, key_path: Path) -> Callable[[], int]:
    """A host of a few lines from protocol.txt that takes raw frames and keeps nothing (it acknowledges each
    message once read, as the harness does): about what the emulated device can serve, so a client near it
    is bound by the device, not by itself."""
    word = lambda name: struct.unpack("<I", name)[0]  # noqa: E731
    CNXN, AUTH, OPEN, OKAY, WRTE, CLSE = (word(n) for n in (b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"WRTE", b"CLSE"))
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    scratch = memoryview(bytearray(1 << 20))

    def send(command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        sock.sendall(struct.pack("<6I", command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF,
                                 command ^ 0xFFFFFFFF) + data)

    def fill(view: memoryview) -> None:
        got = 0
        while got < len(view):
            count = sock.recv_into(view[got:])
            if not count:
                raise EOFError("the device closed the connection")
            got += count

    def recv() -> tuple[int, int, int, bytes]:
        head = bytearray(24)
        fill(memoryview(head))
        command, arg0, arg1, length = struct.unpack_from("<4I", head)
        fill(scratch[:length])
        return command, arg0, arg1, bytes(scratch[:min(length, 64)])

    send(CNXN, 0x01000001, 1 << 20, b"host::\0")
    command, _, _, token = recv()
    if command == AUTH:
        send(AUTH, 2, 0, sign_token(load_or_create_key(key_path), token[:20]))
        command, _, _, _ = recv()
    assert command == CNXN, "the plain host was not let in"
    ids = iter(range(1, 1 << 30))

    def shot() -> int:
        local = next(ids)
        send(OPEN, local, 0, b"exec:screencap\0")
        command, remote, _, _ = recv()
        assert command == OKAY, "screencap refused"
        size = 0
        while True:
            command, _, _, data = recv()
            if command == WRTE:
                send(OKAY, local, remote)
                size += len(data)
            elif command == CLSE:
                send(CLSE, local, remote)
                return size
    return shot


def _negotiated(emu: EmulatorProcess, seen: int) -> tuple[str, int]:
    """The maxdata line of the host that connected last (after ``seen`` such lines), and how many there are now."""
    with emu.control() as control:
        lines = [m for line in control.call("log", n=500)["lines"] if (m := _NEGOTIATED.search(line))]
    if len(lines) <= seen:
        return "?", len(lines)
    host, device, sends = lines[-1].groups()
    return f"host {host}, device {device}: {sends} a message", len(lines)


def run(maxdata: int, frames: int, usb: bool, keys: list[str], env: dict[str, str] | None,
        key_path: Path, rounds: int) -> dict[str, tuple[float, str]]:
    clients: dict[str, tuple[Callable[[], object], int]] = {}
    how: dict[str, str] = {}
    args_emu = ["--animation-ms", "0", "--adb-maxdata", str(maxdata)]
    for key in keys:
        args_emu += ["--adb-key", key]
    with EmulatorProcess("lumia-930", args_emu) as emu:
        handset = connect_handset(f"adb-tcp://{emu.endpoints['adb']}")
        handset.screenshot()
        negotiated, seen = _negotiated(emu, 0)
        for name, fn in (("harness raw (TCP)", handset.screenshot), ("harness png (TCP)", handset.screenshot_png)):
            clients[name], how[name] = (fn, frames), negotiated
        plain = _plain_host(emu.endpoints["adb"], key_path)
        plain()
        name = "plain host, raw (~ the device's ceiling)"
        negotiated, seen = _negotiated(emu, seen)
        clients[name], how[name] = (plain, frames), negotiated
        usb_handset = None
        if usb:
            from harness.emulator.usb_backend import EmulatedUsbBackend

            usb_handset = connect_handset(f"adb-usb://{emu.endpoints['serial']}",
                                          usb_backend=EmulatedUsbBackend([emu.endpoints["usb"]]))
            usb_handset.screenshot()
            negotiated, seen = _negotiated(emu, seen)
            for name, fn in (("harness raw (emulated USB)", usb_handset.screenshot),
                             ("harness png (emulated USB)", usb_handset.screenshot_png)):
                clients[name], how[name] = (fn, frames), negotiated
        if env is not None:
            serial = emu.endpoints["adb"]
            subprocess.run(["adb", "connect", serial], env=env, capture_output=True, timeout=30)

            def adb_raw() -> np.ndarray:
                out = subprocess.run(["adb", "-s", serial, "exec-out", "screencap"], env=env, capture_output=True, timeout=30)
                return decode_screencap(out.stdout)

            def adb_png() -> np.ndarray:
                out = subprocess.run(["adb", "-s", serial, "exec-out", "screencap", "-p"], env=env, capture_output=True, timeout=30)
                return decode_png(out.stdout)

            adb_raw()
            negotiated, seen = _negotiated(emu, seen)
            few = max(rounds, frames // 3)
            for name, fn in (("adb exec-out screencap (raw)", adb_raw), ("adb exec-out screencap -p", adb_png)):
                clients[name], how[name] = (fn, few), negotiated
        try:
            fps = _interleaved(clients, rounds)
        finally:
            handset.close()
            if usb_handset is not None:
                usb_handset.close()
            if env is not None:
                subprocess.run(["adb", "disconnect", emu.endpoints["adb"]], env=env, capture_output=True, timeout=30)
    return {name: (fps[name], how[name]) for name in clients}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--maxdata", default="4096,1048576", help="the device's maxdata values to run at")
    ap.add_argument("--usb", action="store_true", help="also time the harness over the emulated USB backend")
    ap.add_argument("--rounds", type=int, default=5, help="rounds in which the clients take turns")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-adb-"))
    os.environ["HARNESS_ADB_KEY"] = str(work / "harness-key")
    load_or_create_key(work / "harness-key")
    env = None
    keys = [str(work / "harness-key.pub")]
    if shutil.which("adb") is not None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        env = {**os.environ, "HOME": str(work / "home"), "ANDROID_ADB_SERVER_PORT": str(probe.getsockname()[1])}
        probe.close()
        (work / "home" / ".android").mkdir(parents=True)
        subprocess.run(["adb", "start-server"], env=env, capture_output=True, timeout=30)
        keys.append(str(work / "home" / ".android" / "adbkey.pub"))
    load = os.getloadavg()
    try:
        for maxdata in (int(v) for v in args.maxdata.split(",")):
            results = run(maxdata, args.frames, args.usb, keys, env, work / "harness-key", max(1, args.rounds))
            print(f"device maxdata {maxdata}:")
            for name, (fps, how) in results.items():
                print(f"  {name:40s} {fps:6.1f} frames/s   (maxdata {how})")
            if env is not None:
                raw = results["harness raw (TCP)"][0] / results["adb exec-out screencap (raw)"][0]
                png = results["harness png (TCP)"][0] / results["adb exec-out screencap -p"][0]
                ceiling = results["plain host, raw (~ the device's ceiling)"][0] / results["adb exec-out screencap (raw)"][0]
                print(f"  ratio harness / adb: raw {raw:.2f}x, png {png:.2f}x   (plain host / adb, raw: {ceiling:.2f}x, "
                      "about the most any host gains here)")
    finally:
        if env is not None:
            subprocess.run(["adb", "kill-server"], env=env, capture_output=True, timeout=30)
    end = os.getloadavg()
    print(f"load average at the start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, at the end: {end[0]:.1f} {end[1]:.1f} "
          f"{end[2]:.1f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
