"""The TCP pipe keeps every deadline although its socket blocks: a peer that stops reading or never
writes ends the call in a typed error by its timeout, and closing the pipe frees a reader that waits
with no deadline (the ADB reader thread)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness.transport.base import TransportClosed, TransportTimeout
from harness.transport.tcp import TcpPipe


@pytest.fixture()
def silent_peer():
    """A peer on 127.0.0.1 that accepts and then neither reads nor writes."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    yield server.getsockname()[1]
    thread.join(5)
    for conn in accepted:
        conn.close()
    server.close()


def test_a_write_to_a_peer_that_stops_reading_ends_by_its_timeout(silent_peer: int) -> None:
    pipe = TcpPipe("127.0.0.1", silent_peer)
    started = time.monotonic()
    with pytest.raises(TransportTimeout) as err:
        pipe.write(bytes(64 << 20), 0.5)  # far more than both socket buffers hold
    took = time.monotonic() - started
    pipe.close()
    assert 0.45 <= took < 3.0, took
    assert "the peer stopped reading after" in str(err.value) and "\n" not in str(err.value)


def test_a_read_from_a_peer_that_never_writes_ends_by_its_timeout(silent_peer: int) -> None:
    pipe = TcpPipe("127.0.0.1", silent_peer)
    started = time.monotonic()
    with pytest.raises(TransportTimeout) as err:
        pipe.read_exact(24, 0.3)
    took = time.monotonic() - started
    pipe.close()
    assert 0.25 <= took < 3.0, took
    assert "24 bytes" in str(err.value) and "0 bytes" in str(err.value)


def test_closing_the_pipe_frees_a_reader_that_waits_without_a_deadline(silent_peer: int) -> None:
    pipe = TcpPipe("127.0.0.1", silent_peer)
    outcome: list[BaseException] = []

    def reader() -> None:
        try:
            pipe.read_exact(24, None)
        except BaseException as exc:  # noqa: BLE001 (kept for the assertion)
            outcome.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive(), "the reader returned with nothing to read"
    pipe.close()
    thread.join(5)
    assert not thread.is_alive() and len(outcome) == 1 and isinstance(outcome[0], TransportClosed), outcome
