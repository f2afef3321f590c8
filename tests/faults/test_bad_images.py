"""Fault matrix: images from outside that would blow up when decoded (PNG bombs), or are not images at all.

A PNG here is built from the format (signature, IHDR, zlib IDAT, IEND) so
its announced size is what the test says, not what any harness code makes.
"""

from __future__ import annotations

import socket
import struct
import zlib
from pathlib import Path

import pytest
from adbfaults import OKAY, OPEN, WRTE, HostileDevice, Seen, answer_identity, handshake, pack, recv_msg, SCREEN
from faultlab import FaultLab, assert_one_line_error

ALLOWANCE = 8.0
#: peak RSS of `harness match` refusing a bomb; decoding 12000x12000 RGB alone would take 412 MiB
RSS_CAP_MIB = 250


def png_of_zeros(width: int, height: int) -> bytes:
    """A valid black RGB PNG of any size, compressed row block by row block (small file, huge image)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer, row, body = zlib.compressobj(9), b"\0" * (1 + 3 * width), bytearray()
    block = row * 256
    for start in range(0, height, 256):
        body += packer.compress(block if height - start >= 256 else row * (height - start))
    body += packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_of_zeros(12000, 12000))
    return path


def test_match_refuses_a_png_bomb_before_decoding_it(fault: FaultLab, bomb: Path) -> None:
    assert bomb.stat().st_size < 2 << 20  # small on disk
    run = fault.run("match", str(bomb), "--timeout", "30", deadline=120)
    assert not run.timed_out and run.elapsed <= 30 + ALLOWANCE and run.rc == 2, run.describe()
    assert run.peak_rss_mib <= RSS_CAP_MIB, f"expected at most {RSS_CAP_MIB} MiB; {run.describe()}"
    assert_one_line_error(run.stderr, "harness match", str(bomb), "12000x12000", "not decoded")


def test_match_refuses_a_file_that_is_not_an_image(fault: FaultLab, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(png_of_zeros(64, 64)[:60])  # cut inside IDAT
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x00" * 100)
    for path in (broken, junk):
        run = fault.run("match", str(path), deadline=120)
        assert run.rc == 2, run.describe()
        assert_one_line_error(run.stderr, "harness match", str(path))


def test_a_screencap_png_larger_than_the_screen_is_refused_unread(tmp_path: Path) -> None:
    """`screencap -p` from a device whose `wm size` says 480x800 sends a 4000x4000 PNG (a few KB)."""
    from harness.adb import ProtocolViolation
    from harness.handsets import connect_handset

    png = png_of_zeros(4000, 4000)

    def device(sock: socket.socket, seen: Seen) -> None:
        handshake(sock)
        next_id = 10
        while True:
            cmd, arg0, _, data = recv_msg(sock)
            if cmd != OPEN:
                continue
            next_id += 1
            service = data.rstrip(b"\0").decode()
            if answer_identity(sock, next_id, arg0, service):
                continue
            sock.sendall(pack(OKAY, next_id, arg0) + pack(WRTE, next_id, arg0, png))
            recv_msg(sock)  # our WRTE's OKAY
            sock.sendall(pack(struct.unpack("<I", b"CLSE")[0], next_id, arg0))

    with HostileDevice(device) as dev:
        handset = connect_handset(dev.uri, timeout=5, key_path=str(tmp_path / "adbkey"))
        try:
            with pytest.raises(ProtocolViolation, match=f"4000x4000, more than the {SCREEN[0] * SCREEN[1]} pixels"):
                handset.screenshot_png()
        finally:
            handset.close()
