"""ADB over TCP against the emulated handset: framing, auth, streams, shell v2, sync, screencap, a real adb client.

The emulator runs as its own process (``harness emulate``) and is reached only as a rack phone is: its ADB
port, its console, and its relay board for power.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.adb import AdbConnection, AdbError, AdbHandset, DeviceOffline, ProtocolViolation, Unauthorised
from harness.adb.auth import decode_public_key, encode_public_key, load_or_create_key
from harness.adb.protocol import A_CNXN, A_WRTE, Message, MessageDecoder
from harness.adb.services import decode_png, decode_screencap, exec_out, listdir, parse_shell_v2, stat
from harness.console import ConsoleTimeout, SerialConsole
from harness.emulator.process import EmulatorProcess
from harness.errors import DeviceUnavailable, HarnessError
from harness.power.lcus import LcusRelay
from powered_handset import wait_refused
from harness.transport.tcp import TcpPipe
from harness.serial_port import SerialPort


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    load_or_create_key(folder / "trusted")
    load_or_create_key(folder / "stranger")
    return {"trusted": folder / "trusted", "stranger": folder / "stranger"}


def _start(profile: str, trusted_key: Path, folder: Path, *args: str) -> EmulatorProcess:
    """A ``harness emulate`` child that trusts only ``trusted_key`` (a public key file)."""
    proc = EmulatorProcess(profile, ["--animation-ms", "0", *args, "--no-user-keys", "--adb-key", str(trusted_key)],
                           log_path=folder / "emulator.log")
    proc.start()
    return proc


@pytest.fixture(scope="module")
def emulated(keys, tmp_path_factory) -> dict:
    """The endpoints of an emulated lumia-930 that trusts the 'trusted' key."""
    proc = _start("lumia-930", Path(str(keys["trusted"]) + ".pub"), tmp_path_factory.mktemp("emulator"),
                  "--boot-time", "0.3")
    try:
        yield proc.endpoints
    finally:
        proc.stop()


def _connect(endpoints: dict, key_path: Path, timeout: float = 5.0) -> AdbHandset:
    host, port = endpoints["adb"].rsplit(":", 1)
    key = load_or_create_key(key_path)
    return AdbHandset(lambda: AdbConnection(TcpPipe(host, int(port)), key, timeout=timeout, auth_timeout=2).connect(),
                      f"adb-tcp://{endpoints['adb']}", timeout)


# ----------------------------------------------------------------------------- framing (hypothesis)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decoder_gives_messages_or_a_typed_error(data: bytes) -> None:
    decoder = MessageDecoder(max_payload=4096)
    try:
        for message in decoder.feed(data):
            assert isinstance(message, Message)
    except ProtocolViolation as exc:
        assert "ADB protocol violation" in str(exc)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([A_CNXN, A_WRTE]), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=300),
       st.integers(1, 64))
def test_messages_round_trip_in_any_chunking(command, arg0, arg1, data, chunk) -> None:
    raw = Message(command, arg0, arg1, data).pack() * 2
    decoder = MessageDecoder()
    out = []
    for i in range(0, len(raw), chunk):
        out += decoder.feed(raw[i:i + chunk])
    assert out == [Message(command, arg0, arg1, data)] * 2


def test_bad_checksum_and_oversized_payload_are_violations_with_the_bytes() -> None:
    raw = bytearray(Message(A_WRTE, 1, 2, b"hello").pack())
    raw[16] ^= 1
    with pytest.raises(ProtocolViolation, match="checksum") as info:
        MessageDecoder().feed(bytes(raw))
    assert info.value.offending
    big = Message(A_WRTE, 1, 2, b"x" * 5000).pack()
    with pytest.raises(ProtocolViolation, match="exceeds maxdata"):
        MessageDecoder(max_payload=4096).feed(big)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=120))
def test_a_device_sending_garbage_gives_a_typed_error_not_a_hang(data: bytes) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(4096)
        conn.sendall(data)
        time.sleep(0.2)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started = time.monotonic()
    with pytest.raises(HarnessError):
        key = load_or_create_key(Path(os.environ.get("TMPDIR", "/tmp")) / "harness-hypothesis-adbkey")
        AdbConnection(TcpPipe("127.0.0.1", server.getsockname()[1]), key, timeout=1.0).connect()
    assert time.monotonic() - started < 1.0 + 8, "the 1 s read deadline was not kept (8 s allowed for a loaded machine)"
    thread.join(2)
    server.close()


def test_shell_v2_packets_span_and_share_chunks() -> None:
    stream = b"\x01\x03\x00\x00\x00abc" + b"\x02\x02\x00\x00\x00er" + b"\x03\x01\x00\x00\x00\x07"
    whole = [(1, b"abc"), (2, b"er"), (3, b"\x07")]
    assert parse_shell_v2(stream) == (whole, b"")
    # a packet is [id][length, 4 bytes LE][payload]: one is complete once its payload is there,
    # so it is handed on at once and only the bytes of the next, partial packet wait
    assert parse_shell_v2(stream[:9]) == ([(1, b"abc")], b"\x02")
    assert parse_shell_v2(stream[:4]) == ([], stream[:4])  # cut inside the header
    assert parse_shell_v2(stream[:7]) == ([], stream[:7])  # cut inside the payload
    for cut in range(len(stream) + 1):  # whatever the chunking, the packets are the same
        first, rest = parse_shell_v2(stream[:cut])
        second, tail = parse_shell_v2(rest + stream[cut:])
        assert (first + second, tail) == (whole, b""), cut


def test_screencap_headers_of_16_and_12_bytes() -> None:
    import struct

    pixels = bytes(range(16)) * 2  # 2x4 RGBA
    for header in (struct.pack("<IIII", 2, 4, 1, 0), struct.pack("<III", 2, 4, 1)):
        image = decode_screencap(header + pixels)
        assert image.shape == (4, 2, 3)
    with pytest.raises(ProtocolViolation):
        decode_screencap(struct.pack("<IIII", 2, 4, 1, 0) + pixels[:-1])


def test_screencap_png_decodes_rgba_to_rgb_and_rejects_what_is_not_png() -> None:
    import io

    from PIL import Image

    rgba = np.random.default_rng(1).integers(0, 256, (40, 30, 4), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    png = buf.getvalue()
    assert np.array_equal(decode_png(png), rgba[..., :3])
    for bad in (png[: len(png) // 2], png[:8], b"/system/bin/sh: screencap: not found\n", b""):
        with pytest.raises(ProtocolViolation, match="did not give a PNG"):
            decode_png(bad)


def test_public_key_encoding_round_trips(keys) -> None:
    key = load_or_create_key(keys["trusted"])
    encoded = encode_public_key(key.public_key(), "me@here")
    assert len(__import__("base64").b64decode(encoded.split(b" ")[0])) == 524
    assert decode_public_key(encoded).public_numbers() == key.public_key().public_numbers()


# ----------------------------------------------------------------------------- against the emulated handset
def test_trusted_key_is_accepted_and_a_stranger_is_refused(emulated, keys) -> None:
    handset = _connect(emulated, keys["trusted"])
    assert handset.info.model == "Lumia 930" and (handset.info.width, handset.info.height) == (1080, 1920)
    handset.close()
    with pytest.raises(Unauthorised):
        _connect(emulated, keys["stranger"])


def test_shell_v2_exit_status_and_stderr(emulated, keys) -> None:
    handset = _connect(emulated, keys["trusted"])
    ok = handset.shell_result("echo hello world")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, b"hello world\n", b"")
    missing = handset.shell_result("no-such-tool --flag")
    assert missing.exit_code == 127 and b"not found" in missing.stderr and missing.stdout == b""
    handset.close()


def test_screenshot_raw_and_png_agree(emulated, keys) -> None:
    handset = _connect(emulated, keys["trusted"])
    raw, png = handset.screenshot(), handset.screenshot_png()
    assert raw.shape == (1920, 1080, 3) and np.array_equal(raw, png)
    handset.close()


def test_a_refused_service_into_a_buffer_says_refused_and_the_connection_goes_on(emulated, keys) -> None:
    """A stream opened with a sink returns before the device's OKAY; a refusal still reaches the caller."""
    from harness.adb.errors import StreamRefused

    handset = _connect(emulated, keys["trusted"])
    try:
        buf = bytearray(1024)
        with handset.conn.open("no-such-service:", sink=memoryview(buf)) as stream:
            with pytest.raises(StreamRefused, match="refused service 'no-such-service:'"):
                stream.read_all_into(10)
        assert handset.shell("echo still here").strip() == "still here"
    finally:
        handset.close()


def test_ten_megabyte_push_pull_round_trip(emulated, keys) -> None:
    handset = _connect(emulated, keys["trusted"])
    data = os.urandom(10 * 1024 * 1024)
    handset.push(data, "/data/local/tmp/big.bin")
    assert handset.pull("/data/local/tmp/big.bin") == data
    with pytest.raises(AdbError, match="No such file"):
        handset.pull("/data/local/tmp/absent.bin")
    handset.close()


def test_many_streams_at_once_on_one_connection(emulated, keys) -> None:
    handset = _connect(emulated, keys["trusted"])
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                results[i] = handset.shell(f"echo stream-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    shots = [handset.screenshot() for _ in range(3)]  # big transfers interleaved with the shells
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert results == {i: f"stream-{i}\n" for i in range(12)}, results
    info = handset.info
    assert [shot.shape[:2] for shot in shots] == [(info.height, info.width)] * 3
    handset.close()


def test_power_off_gives_device_offline_within_the_timeout(emulated, keys) -> None:
    handset = _connect(emulated, keys["trusted"], timeout=3)
    handset.reconnect_timeout = 1.0
    relay = LcusRelay(emulated["power"], channels=emulated["power_channels"])  # the handset's power, as on a rack
    try:
        relay.off(1)
        wait_refused(emulated["adb"], 15)  # the relay's command is taken in its own time
        started = time.monotonic()
        with pytest.raises(DeviceOffline):
            handset.screenshot()
        elapsed = time.monotonic() - started
        assert elapsed < 1.0 + 3 + 8, f"expected DeviceOffline after the 1 s reconnect deadline (+3 s connect, +8 s load); took {elapsed:.1f}s"
        relay.on(1)
        handset.reconnect_timeout = 10  # the whole wait for the boot: the handset reconnects by itself
        assert handset.screenshot().shape == (1920, 1080, 3)
    finally:
        relay.on(1)
        relay.close()
        handset.close()


def test_the_adb_port_stays_the_handsets_while_it_is_off(emulated, keys) -> None:
    """An off phone refuses connections, but its OS-picked port is not free for another program to take meanwhile
    (if it were, a busy host could take it and the phone would never answer at its address again)."""
    host, port = emulated["adb"].rsplit(":", 1)
    relay = LcusRelay(emulated["power"], channels=emulated["power_channels"])
    try:
        relay.off(1)
        wait_refused(emulated["adb"], 15)
        other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with pytest.raises(OSError) as taken:
                other.bind((host, int(port)))
            assert taken.value.errno == errno.EADDRINUSE, taken.value
        finally:
            other.close()
        relay.on(1)
        deadline = time.monotonic() + 30  # the relay's command is taken in its own time, then the phone boots
        while True:
            try:
                handset = _connect(emulated, keys["trusted"], timeout=3)
                break
            except HarnessError as exc:
                assert time.monotonic() < deadline, f"{emulated['adb']} does not answer 30s after power on: {exc}"
                time.sleep(0.1)
        handset.reconnect_timeout = 30
        assert handset.screenshot().ndim == 3  # the same address answers after the boot
        handset.close()
    finally:
        relay.on(1)
        relay.close()


def _console_uptime(console: SerialConsole, within: float) -> float:
    """Seconds since the handset booted, as its console's ``uptime`` says; waits for a console that is away."""
    deadline = time.monotonic() + within
    while True:
        try:
            said = console.run("uptime", timeout=2)  # text up to the next prompt: the boot's own prompt comes first
        except ConsoleTimeout as exc:
            said = str(exc)
        except DeviceUnavailable as exc:  # the port is away: the console reopens it with its own backoff
            said = str(exc)
            time.sleep(0.05)
        answer = re.search(r"^up ([0-9.]+) s$", said, re.M)
        if answer:
            return float(answer.group(1))
        assert time.monotonic() < deadline, f"expected the console to answer 'uptime' within {within:g} s; saw {said!r}"


def test_reboot_returns_once_the_device_answers_again(emulated, keys, tmp_path) -> None:
    console = SerialConsole(SerialPort(emulated["console"]), log_path=tmp_path / "console.log").open()
    handset = _connect(emulated, keys["trusted"], timeout=3)
    try:
        asked = time.monotonic()
        handset.reboot(timeout=30)
        assert handset.shell("echo back") == "back\n" and handset.info.model == "Lumia 930"
        # it went down and came back: its console went away, and it has been up for less time than since we asked
        uptime = _console_uptime(console, within=15)
        since_asked = time.monotonic() - asked
        assert uptime - 0.05 < since_asked and console.gaps >= 1, (uptime, since_asked, console.tail())  # it prints tenths
    finally:
        handset.close()
        console.close()


# ----------------------------------------------------------------------------- Debian's adb, a client nobody here wrote
def test_real_adb_client_connect_shell_screencap_push_pull(tmp_path, debian_adb) -> None:
    adb = debian_adb
    proc = _start("lumia-520", adb.key, tmp_path)
    serial = proc.endpoints["adb"]
    ours = None
    try:
        assert "connected to" in adb("connect", serial).stdout
        assert adb("-s", serial, "shell", "echo", "hello", "from", "adb").stdout == "hello from adb\n"
        assert adb("-s", serial, "shell", "false").returncode == 1
        # our host, with adb's own key: the same still screen gives the same PNG, byte for byte. The screen is
        # still when adb's screencaps before and after ours agree (a booting phone on a loaded machine may still
        # be turning its first page); wait for that, with a deadline.
        ours = _connect(proc.endpoints, _private_key(adb.key), timeout=20)
        deadline = time.monotonic() + 60
        while True:
            png = adb("-s", serial, "exec-out", "screencap", "-p", binary=True).stdout
            mine = exec_out(ours.conn, "screencap -p", 20, 8 * 1024 * 1024)
            after = adb("-s", serial, "exec-out", "screencap", "-p", binary=True).stdout
            if png == after:
                break
            assert time.monotonic() < deadline, "the screen never stayed still for three screencaps within 60s"
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == mine
        source = tmp_path / "payload.bin"
        source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
        assert adb("-s", serial, "push", str(source), "/sdcard/Documents/payload.bin").returncode == 0
        back = tmp_path / "back.bin"
        assert adb("-s", serial, "pull", "/sdcard/Documents/payload.bin", str(back)).returncode == 0
        assert back.read_bytes() == source.read_bytes()
        # the file is on the device where adb put it, as another host sees it
        assert stat(ours.conn, "/sdcard/Documents/payload.bin")[1] == source.stat().st_size
        assert "payload.bin" in [entry[0] for entry in listdir(ours.conn, "/sdcard/Documents")]
        assert ours.pull("/sdcard/Documents/payload.bin") == source.read_bytes()
    finally:
        if ours is not None:
            ours.close()
        proc.stop()


def _private_key(public: Path) -> Path:
    """The private key beside an adbkey.pub (adb writes its pair as adbkey and adbkey.pub)."""
    return public.with_suffix("")
