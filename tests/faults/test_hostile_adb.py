"""Fault matrix, ADB host side: hostile devices on 127.0.0.1 against the CLI a user runs.

For each case: the command ends within its --timeout plus an allowance for
starting Python, says in one bounded line what it expected and what it saw,
prints no traceback, and stays under a memory cap (peak RSS of the CLI
process, sampled from its VmHWM).
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Callable

import pytest
from adbfaults import (
    AUTH, CNXN, FLOOD_CAP, OKAY, OPEN, SCREEN, V_CHECKSUM, WRTE, HostileDevice, Seen, auth_loop, dripping,
    handshake, hold, pack, random_bytes, recv_msg, serve,
)
from faultlab import FaultLab, HarnessRun, assert_one_line_error

#: seconds on top of --timeout for the interpreter to start (imports of numpy/OpenCV) and exit, on a loaded machine
ALLOWANCE = 8.0
#: peak resident memory of one CLI run facing a hostile device; the baseline with numpy/OpenCV is about 110 MiB
RSS_CAP_MIB = 320


@pytest.fixture
def adb_env(tmp_path: Path) -> dict[str, str]:
    """A key of this test's own (the harness makes it on first use), so no user key is touched."""
    return {"HARNESS_ADB_KEY": str(tmp_path / "adbkey")}


def run_cli(fault: FaultLab, env: dict[str, str], command: list[str], uri: str, timeout: float) -> HarnessRun:
    """``harness COMMAND --handset URI --timeout T ARGS`` (options first: `shell` takes the rest as its command)."""
    run = fault.run(command[0], "--handset", uri, "--timeout", f"{timeout:g}", *command[1:], deadline=timeout + 90, env=env)
    assert not run.timed_out, run.describe()
    assert run.elapsed <= timeout + ALLOWANCE, f"expected an end within {timeout}+{ALLOWANCE}s; {run.describe()}"
    assert run.peak_rss_mib <= RSS_CAP_MIB, f"expected at most {RSS_CAP_MIB} MiB; {run.describe()}"
    assert run.rc != 0, run.describe()
    return run


def stalled(sock: socket.socket, seen: Seen) -> None:
    recv_msg(sock)
    hold(sock)


def huge_length(sock: socket.socket, seen: Seen) -> None:
    recv_msg(sock)
    sock.sendall(struct.pack("<6I", CNXN, 0x01000001, 1 << 20, 0xFFFFFFF0, 0, CNXN ^ 0xFFFFFFFF))
    hold(sock)


def bad_magic(sock: socket.socket, seen: Seen) -> None:
    recv_msg(sock)
    sock.sendall(pack(CNXN, 0x01000001, 1 << 20, b"device::", magic=0x12345678))
    hold(sock)


def bad_checksum(sock: socket.socket, seen: Seen) -> None:
    """An old device (checksums on): its first WRTE after OPEN, 512 KiB long, carries a wrong checksum."""
    handshake(sock, version=V_CHECKSUM)
    cmd, arg0, _, _ = recv_msg(sock)
    assert cmd == OPEN
    sock.sendall(pack(OKAY, 9, arg0))
    sock.sendall(pack(WRTE, 9, arg0, b"\x01" + b"\n\x07" * (256 << 10), check=1))
    hold(sock)


def close_mid_message(sock: socket.socket, seen: Seen) -> None:
    recv_msg(sock)
    sock.sendall(pack(CNXN, 0x01000001, 1 << 20, b"device::")[:10])


def dies_on_open(sock: socket.socket, seen: Seen) -> None:
    """Answers the handshake, then drops the connection at the first OPEN (the device went away)."""
    handshake(sock)
    recv_msg(sock)


SCREENCAP_LIMIT = 16 + SCREEN[0] * SCREEN[1] * 4
SHELL_LIMIT = 16 * 1024 * 1024

# (case id, behaviour, desk command, --timeout, words the one-line error must hold)
CASES: list[tuple[str, Callable[[socket.socket, Seen], None], list[str], float, list[str]]] = [
    ("random-bytes", random_bytes(seed=1234), ["screenshot"], 10, ["protocol violation", "saw"]),
    ("stalled-cnxn", stalled, ["screenshot"], 4, ["CNXN", "timed out after"]),
    ("dripping-cnxn", dripping(1.0), ["screenshot"], 4, ["CNXN", "timed out after", "bytes"]),
    ("huge-length", huge_length, ["tap", "1", "1"], 10, ["length 4294967280", "maxdata 4096"]),
    ("bad-magic", bad_magic, ["key", "back"], 10, ["magic 0x12345678"]),
    ("bad-checksum", bad_checksum, ["shell", "id"], 10, ["checksum"]),
    ("close-mid-message", close_mid_message, ["swipe", "1", "2", "3", "4"], 10, ["closed", "10 of 24 bytes"]),
    ("auth-loop", auth_loop, ["screenshot"], 10, ["refused our key"]),
    ("shell-flood", serve(lambda s: True, polite=True), ["shell", "yes"], 20,
     ["expected at most", str(SHELL_LIMIT), "--max-output"]),
    ("shell-flood-no-flow-control", serve(lambda s: True, polite=False), ["shell", "yes"], 20,
     ["without waiting for OKAY"]),
    ("screencap-flood", serve(lambda s: True, polite=True), ["screenshot"], 20,
     ["expected at most", str(SCREENCAP_LIMIT), f"{SCREEN[0]}x{SCREEN[1]}"]),
    ("dead-after-handshake", dies_on_open, ["tap", "5", "5"], 5, ["offline", "did not come back"]),
]


@pytest.mark.parametrize("behaviour, command, timeout, words",
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_a_hostile_device_ends_the_command_in_time_with_one_line(fault: FaultLab, adb_env: dict[str, str],
                                                                  tmp_path: Path, behaviour, command, timeout,
                                                                  words) -> None:
    with HostileDevice(behaviour, accept=1 if behaviour is dies_on_open else 100) as device:
        if command[0] == "screenshot":
            command = [*command, "-o", str(tmp_path / "shot.png")]
        run = run_cli(fault, adb_env, command, device.uri, timeout)
        assert device.seen.connections >= 1, "the device never saw the host"
        assert device.seen.sent < FLOOD_CAP, f"the host kept reading to the device's own cap; {run.describe()}"
    lines = run.stderr.strip().splitlines() or [""]
    assert all(line.startswith("connecting to ") for line in lines[:-1]), run.describe()  # progress, then the error
    assert_one_line_error(lines[-1], f"harness {command[0]}", *words)
    assert "Traceback" not in run.stderr, run.describe()
    assert not (tmp_path / "shot.png").exists()
    fault.assert_no_leftovers()


def test_devices_probe_of_a_dripping_device_ends_at_its_timeout(fault: FaultLab, adb_env: dict[str, str],
                                                                 tmp_path: Path) -> None:
    """`harness devices` once took 35 s to say a device sent no CNXN "within 2s"."""
    with HostileDevice(dripping(0.5)) as device:
        inventory = tmp_path / "rack.toml"
        inventory.write_text(f'[[handset]]\nname = "drip"\nprofile = "lumia-930"\nuri = "{device.uri}"\n')
        run = fault.run("devices", "--inventory", str(inventory), "--timeout", "2", deadline=90, env=adb_env)
    assert not run.timed_out and run.elapsed <= 2 + ALLOWANCE, run.describe()
    assert "within 2s" in run.stdout + run.stderr, run.describe()
    assert "Traceback" not in run.stderr, run.describe()


def test_a_dead_device_costs_its_callers_timeout_not_a_fixed_minute(adb_env: dict[str, str]) -> None:
    """The connection drops and the port refuses from then on: the handset gives up at its own timeout."""
    import time

    from harness.adb import DeviceOffline
    from harness.handsets import connect_handset

    with HostileDevice(dies_on_open, accept=1) as device:
        handset = connect_handset(device.uri, timeout=3, key_path=adb_env["HARNESS_ADB_KEY"])
        started = time.monotonic()
        try:
            with pytest.raises(DeviceOffline, match="did not come back within 3s"):
                handset.tap(5, 5)
        finally:
            handset.close()
        elapsed = time.monotonic() - started
    assert elapsed < 3 + ALLOWANCE, f"expected the tap to give up after about 3 s; it took {elapsed:.1f}s"


def test_the_host_honours_the_maxdata_the_device_announces() -> None:
    """A device with maxdata 4096 drops the connection at a longer WRTE, as adbd does; a push must still arrive whole."""
    from harness.adb import services
    from harness.adb.connection import AdbConnection
    from harness.transport.tcp import TcpPipe

    maxdata = 4096
    got = bytearray()

    def small_device(sock: socket.socket, seen: Seen) -> None:
        handshake(sock, maxdata=maxdata)
        cmd, arg0, _, data = recv_msg(sock)
        assert cmd == OPEN and data.rstrip(b"\0") == b"sync:"
        sock.sendall(pack(OKAY, 50, arg0))
        stream = bytearray()
        while True:
            cmd, _, _, data = recv_msg(sock)
            if cmd != WRTE:
                continue
            seen.wrte_sizes.append(len(data))
            if len(data) > maxdata:
                return  # too long for this device: it drops the connection
            sock.sendall(pack(OKAY, 50, arg0))
            stream += data
            done = _sync_send_body(bytes(stream))
            if done is not None:
                got.extend(done)
                sock.sendall(pack(WRTE, 50, arg0, b"OKAY\0\0\0\0"))
                while True:  # acknowledge what follows (QUIT) until the host closes
                    cmd, _, _, data = recv_msg(sock)
                    if cmd == WRTE:
                        seen.wrte_sizes.append(len(data))
                        sock.sendall(pack(OKAY, 50, arg0))

    payload = bytes(range(256)) * 80  # 20480 bytes: several WRTEs of 4096 at most
    with HostileDevice(small_device) as device:
        conn = AdbConnection(TcpPipe("127.0.0.1", device.port, 5), None, timeout=5).connect()
        try:
            services.push(conn, payload, "/sdcard/blob", timeout=10)
        finally:
            conn.close()
        sizes = list(device.seen.wrte_sizes)
    assert sizes and max(sizes) <= maxdata, f"expected WRTEs of at most {maxdata} bytes; saw {sizes}"
    assert bytes(got) == payload


def _sync_send_body(stream: bytes) -> bytes | None:
    """The file bytes of a complete sync SEND (SEND spec, DATA chunks, DONE); None while incomplete."""
    if len(stream) < 8 or stream[:4] != b"SEND":
        return None
    (n,) = struct.unpack_from("<I", stream, 4)
    offset, body = 8 + n, bytearray()
    while len(stream) >= offset + 8:
        tag, (length,) = stream[offset:offset + 4], struct.unpack_from("<I", stream, offset + 4)
        if tag == b"DONE":
            return bytes(body)
        if len(stream) < offset + 8 + length:
            return None
        body += stream[offset + 8:offset + 8 + length]
        offset += 8 + length
    return None


def test_an_auth_loop_is_refused_not_followed(adb_env: dict[str, str], tmp_path: Path) -> None:
    """The host signs once, offers its key once, then gives up: it never signs token after token."""
    from harness.adb.auth import load_or_create_key
    from harness.adb.connection import AdbConnection
    from harness.adb.errors import Unauthorised
    from harness.transport.tcp import TcpPipe

    key = load_or_create_key(tmp_path / "adbkey")
    answers: list[int] = []

    def counting_loop(sock: socket.socket, seen: Seen) -> None:
        recv_msg(sock)
        for _ in range(50):
            sock.sendall(pack(AUTH, 1, 0, bytes(20)))
            cmd, arg0, _, _ = recv_msg(sock)
            answers.append(arg0 if cmd == AUTH else -1)

    with HostileDevice(counting_loop) as device:
        with pytest.raises(Unauthorised, match="refused our key"):
            AdbConnection(TcpPipe("127.0.0.1", device.port, 5), key, timeout=5).connect()
    assert answers[:2] == [2, 3], f"expected one signature (2) then our public key (3); saw {answers}"
    assert len(answers) == 2, f"expected the host to stop after offering its key; it answered {len(answers)} tokens"


def test_a_stream_closed_by_the_device_mid_flood_leaves_the_connection_usable() -> None:
    """After a refused (CLSE) service the same connection still serves the next one."""
    from harness.adb import services
    from harness.adb.connection import AdbConnection
    from harness.adb.errors import StreamRefused
    from harness.transport.tcp import TcpPipe

    with HostileDevice(serve(lambda s: False, polite=True)) as device:
        conn = AdbConnection(TcpPipe("127.0.0.1", device.port, 5), None, timeout=5).connect()
        try:
            with pytest.raises(StreamRefused, match="refused service 'shell,v2,raw:reboot'"):
                services.shell(conn, "reboot")
            assert "Physical size" in services.shell(conn, "wm size").text
        finally:
            conn.close()
