"""The emulated handset against hosts nobody here wrote (adb-shell 0.4.4, Debian's adb) and a raw one, at both
ends of the maxdata range it can announce (4096, as older devices, and 1 MiB).

The emulator runs as its own process (``harness emulate``), reached only through its ADB port and its
authenticated control socket. Expected answers come from the device profile file and the protocol
documents (AOSP protocol.txt), not from the emulator's code.
"""

from __future__ import annotations

import io
import random
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from cryptography.hazmat.primitives.serialization import load_pem_private_key

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

adb_shell_device = pytest.importorskip("adb_shell.adb_device")
from adb_shell.auth.keygen import keygen  # noqa: E402
from adb_shell.auth.sign_pythonrsa import PythonRSASigner  # noqa: E402

from harness.emulator.control import ControlClient  # noqa: E402
from harness.emulator.process import EmulatorProcess  # noqa: E402

PROFILE = "lumia-930"
SCREEN = tomllib.loads((Path(__file__).parents[2] / "device_profiles" / f"{PROFILE}.toml").read_text())
WIDTH, HEIGHT, MODEL = SCREEN["screen"]["width"], SCREEN["screen"]["height"], SCREEN["model"]
#: adb's raw screencap: a header of width, height, format, colour space (uint32 each), then RGBA pixels.
RAW_SCREENCAP_SIZE = 16 + WIDTH * HEIGHT * 4
MIB = 1024 * 1024


@dataclass
class Handset:
    endpoints: dict
    maxdata: int
    key: Path  # adb-shell's key pair (written by adb-shell's keygen, in adb's own public-key encoding)

    @property
    def addr(self) -> tuple[str, int]:
        host, port = self.endpoints["adb"].rsplit(":", 1)
        return host, int(port)


@pytest.fixture(scope="module", params=[4096, MIB], ids=["maxdata-4096", "maxdata-1MiB"])
def handset(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("adb-shell-peer")
    keygen(str(folder / "adbkey"))
    # a still screen for the screencaps compared byte for byte: with the host's clock the status bar's minute
    # turned between two captures once (a loaded CI run: pixels differed at row 25)
    proc = EmulatorProcess(PROFILE, ["--animation-ms", "0", "--boot-time", "0.3", "--no-user-keys", "--clock", "10:30",
                                     "--adb-key", str(folder / "adbkey.pub"), "--adb-maxdata", str(request.param)],
                           log_path=folder / "emulator.log")
    endpoints = proc.start()
    try:
        yield Handset(endpoints, request.param, folder / "adbkey")
    finally:
        proc.stop()


def adb_shell(handset: Handset):
    """An authenticated adb-shell host; its own timeouts bound every call."""
    device = adb_shell_device.AdbDeviceTcp(*handset.addr, default_transport_timeout_s=10)
    assert device.connect(rsa_keys=[PythonRSASigner.FromRSAKeyPath(str(handset.key))], auth_timeout_s=10)
    return device


def _pixels(png: bytes) -> bytes:
    """A PNG's RGBA pixels, decoded by Pillow."""
    return Image.open(io.BytesIO(png)).convert("RGBA").tobytes()


def seeded_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


# ----------------------------------------------------------------------------- adb-shell, a second independent host
def test_adb_shell_connects_and_runs_shell(handset) -> None:
    device = adb_shell(handset)
    try:
        assert device.shell("getprop ro.product.model", read_timeout_s=10) == f"{MODEL}\n"
        assert device.shell("echo hello from adb-shell", read_timeout_s=10) == "hello from adb-shell\n"
        assert device.shell("wm size", read_timeout_s=10) == f"Physical size: {WIDTH}x{HEIGHT}\n"
    finally:
        device.close()


def test_adb_shell_exec_out_raw_screencap_is_the_profiles_screen(handset) -> None:
    """The raw frame, cut into WRTEs of the device's maxdata, arrives whole and in order: its pixels are the
    ones the device's PNG of the same still screen shows (decoded by Pillow, not by anything of ours)."""
    device = adb_shell(handset)
    try:
        # The status bar's clock may turn between two captures: a PNG on either side of the raw frame that
        # are the same picture say the screen was still while it was taken (the clock turns once a minute).
        for _ in range(3):
            before = device.exec_out("screencap -p", read_timeout_s=20, decode=False)
            raw = device.exec_out("screencap", read_timeout_s=20, decode=False)
            after = device.exec_out("screencap -p", read_timeout_s=20, decode=False)
            if _pixels(before) == _pixels(after):
                break
        else:
            pytest.fail("the screen never held still over three captures")
    finally:
        device.close()
    assert len(raw) == RAW_SCREENCAP_SIZE
    assert struct.unpack("<IIII", raw[:16]) == (WIDTH, HEIGHT, 1, 0)
    pixels = _pixels(after)
    if raw[16:] != pixels:
        first = next(i for i, (a, b) in enumerate(zip(raw[16:], pixels)) if a != b)
        pytest.fail(f"raw frame differs from the PNG from byte {first} (row {first // (WIDTH * 4)})")


@pytest.mark.parametrize("size", [1000, 3 * MIB + 17])
def test_adb_shell_push_stat_list_pull(handset, tmp_path, size) -> None:
    data = seeded_bytes(size, seed=size)
    source, back = tmp_path / "source.bin", tmp_path / "back.bin"
    source.write_bytes(data)
    remote = f"/sdcard/Documents/peer-{size}.bin"
    device = adb_shell(handset)
    try:
        device.push(str(source), remote, st_mode=0o100644, mtime=1_700_000_000, read_timeout_s=20)
        mode, st_size, mtime = device.stat(remote, read_timeout_s=10)
        assert (mode & 0o170000, st_size, mtime) == (0o100000, size, 1_700_000_000)
        listing = {bytes(f.filename).decode(): f for f in device.list("/sdcard/Documents", read_timeout_s=10)}
        assert listing[f"peer-{size}.bin"].size == size
        device.pull(remote, str(back), read_timeout_s=20)
    finally:
        device.close()
    assert back.read_bytes() == data
    # a second host sees the same bytes: the push really reached the handset's file system
    other = adb_shell(handset)
    try:
        assert other.stat(remote, read_timeout_s=10)[1] == size
        assert other.stat("/sdcard/Documents/no-such-file", read_timeout_s=10) == (0, 0, 0)
    finally:
        other.close()


# ----------------------------------------------------------------------------- a raw host, framed by hand from protocol.txt
def _word(name: bytes) -> int:
    return struct.unpack("<I", name)[0]


CNXN, AUTH, OPEN, OKAY, WRTE, CLSE = (_word(n) for n in (b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"WRTE", b"CLSE"))


class RawHost:
    """Just enough of a host to see the device's messages as they are on the wire."""

    def __init__(self, addr: tuple[str, int]) -> None:
        self.sock = socket.create_connection(addr, timeout=10)

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"", check: int | None = None) -> None:
        check = sum(data) & 0xFFFFFFFF if check is None else check
        self.sock.sendall(struct.pack("<6I", command, arg0, arg1, len(data), check, command ^ 0xFFFFFFFF) + data)

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"device closed the connection after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv(self) -> tuple[int, int, int, bytes]:
        command, arg0, arg1, length, check, magic = struct.unpack("<6I", self._exact(24))
        assert magic == command ^ 0xFFFFFFFF and length <= MIB, (hex(command), length)
        data = self._exact(length)
        assert check in (0, sum(data) & 0xFFFFFFFF)
        return command, arg0, arg1, data

    def handshake(self, key_path: Path, host_maxdata: int) -> int:
        """CNXN, then the signed token; returns the maxdata the device announces."""
        self.send(CNXN, 0x01000000, host_maxdata, b"host::\0")
        command, kind, _, token = self.recv()
        assert (command, kind, len(token)) == (AUTH, 1, 20)
        key = load_pem_private_key(key_path.read_bytes(), password=None)
        self.send(AUTH, 2, 0, key.sign(token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1())))
        command, _, maxdata, banner = self.recv()
        assert command == CNXN and banner.startswith(b"device::"), (hex(command), banner[:40])
        return maxdata

    def close(self) -> None:
        self.sock.close()


def test_device_accepts_a_payload_of_its_maxdata_and_drops_a_host_that_sends_more(handset) -> None:
    fits = RawHost(handset.addr)
    try:
        fits.send(CNXN, 0x01000000, MIB, b"host::" + b"x" * (handset.maxdata - 6))
        assert fits.recv()[:2] == (AUTH, 1)
    finally:
        fits.close()
    too_big = RawHost(handset.addr)
    try:
        # The device may drop the host as soon as it reads the header, before the payload is
        # all sent: the send then fails with a broken pipe. Either way it must never answer.
        with pytest.raises((EOFError, ConnectionResetError, BrokenPipeError)):
            too_big.send(CNXN, 0x01000000, MIB, b"host::" + b"x" * (handset.maxdata - 5))
            too_big.recv()
    finally:
        too_big.close()


@pytest.mark.parametrize("version, check, answered", [
    (0x01000001, 0, True),        # a host of the skip-checksum version may send zero
    (0x01000000, 0, False),       # an older host must send the real sum
    (0x01000000, None, True),
])
def test_device_checks_checksums_as_the_hosts_version_says(handset, version, check, answered) -> None:
    host = RawHost(handset.addr)
    try:
        host.send(CNXN, version, MIB, b"host::features=shell_v2\0", check=check)
        if answered:
            assert host.recv()[:2] == (AUTH, 1)
        else:
            with pytest.raises((EOFError, ConnectionResetError)):
                host.recv()
    finally:
        host.close()


@pytest.mark.parametrize("host_maxdata", [1024, MIB])
def test_device_announces_the_smaller_maxdata_and_sends_no_more_than_the_host_allows(handset, host_maxdata) -> None:
    # adbd keeps min(the host's maxdata, its MAX_PAYLOAD) for the transport and announces that in its CNXN
    # (AOSP adb transport.cpp update_version, adb.cpp send_connect)
    host = RawHost(handset.addr)
    try:
        assert host.handshake(handset.key, host_maxdata) == min(host_maxdata, handset.maxdata)
        host.send(OPEN, 7, 0, b"exec:screencap\0")
        command, device_id, host_id, _ = host.recv()
        assert (command, host_id) == (OKAY, 7)
        raw, sizes = bytearray(), []
        while True:
            command, _, _, data = host.recv()
            if command == CLSE:
                break
            assert command == WRTE
            sizes.append(len(data))
            raw += data
            host.send(OKAY, 7, device_id)
    finally:
        host.close()
    assert len(raw) == RAW_SCREENCAP_SIZE
    allowed = min(host_maxdata, handset.maxdata)
    assert max(sizes) == allowed  # never more, and the device does use what both sides allow


def test_device_answers_a_hosts_clse_once(handset) -> None:
    host = RawHost(handset.addr)
    try:
        host.handshake(handset.key, MIB)
        host.send(OPEN, 7, 0, b"sync:\0")
        command, device_id, host_id, _ = host.recv()
        assert (command, host_id) == (OKAY, 7)
        host.send(CLSE, 7, device_id)
        assert host.recv()[:3] == (CLSE, device_id, 7)  # adbd's answer, which adb-shell waits for
        host.send(CLSE, 7, device_id)  # a host echoing that CLSE gets no answer: the stream is gone
        host.send(OPEN, 8, 0, b"shell:echo next\0")
        command, shell_id, host_id, _ = host.recv()
        assert (command, host_id) == (OKAY, 8)  # not a second CLSE for stream 7
        assert host.recv()[0] == WRTE
    finally:
        host.close()


# ----------------------------------------------------------------------------- Debian's adb and our own host
def test_debian_adb_push_pull_and_raw_screencap_byte_exact(handset, tmp_path, debian_adb) -> None:
    adb = debian_adb
    # this emulator trusts only adb-shell's key: trust Debian adb's through the control socket, as a lab would
    with ControlClient.for_endpoints(handset.endpoints) as control:
        control.call("adb_trust_key", key=adb.key.read_text().strip())
    serial = handset.endpoints["adb"]
    assert "connected to" in adb("connect", serial).stdout
    raw = adb("-s", serial, "exec-out", "screencap", binary=True).stdout
    assert len(raw) == RAW_SCREENCAP_SIZE and struct.unpack_from("<II", raw) == (WIDTH, HEIGHT)
    other = adb_shell(handset)
    try:
        assert other.exec_out("screencap", read_timeout_s=20, decode=False) == raw  # a still screen, two hosts
    finally:
        other.close()
    source, back = tmp_path / "payload.bin", tmp_path / "back.bin"
    source.write_bytes(seeded_bytes(3 * MIB + 5, seed=3))
    assert adb("-s", serial, "push", str(source), "/sdcard/Documents/debian.bin").returncode == 0
    assert adb("-s", serial, "pull", "/sdcard/Documents/debian.bin", str(back)).returncode == 0
    assert back.read_bytes() == source.read_bytes()


def test_harness_host_push_pull_and_screenshot(handset, monkeypatch) -> None:
    from harness.handsets import connect_handset

    monkeypatch.setenv("HARNESS_ADB_KEY", str(handset.key))  # adb-shell's PEM key serves our host as well
    phone = connect_handset(f"adb-tcp://{handset.endpoints['adb']}", timeout=20)
    try:
        data = seeded_bytes(3 * MIB + 1, seed=11)
        phone.push(data, "/sdcard/Documents/harness.bin")
        assert phone.pull("/sdcard/Documents/harness.bin") == data
        assert phone.screenshot().shape[:2] == (HEIGHT, WIDTH)
    finally:
        phone.close()


@pytest.mark.parametrize("value", ["4095", "1048577", "4k"])
def test_emulate_refuses_a_maxdata_outside_adbs_range(value) -> None:
    done = subprocess.run([sys.executable, "-m", "harness", "emulate", "--adb-maxdata", value],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]  # argparse's usage, then the error in one line
    assert "--adb-maxdata" in last and value in last and ("4096 to 1048576" in last or "whole number" in last)
