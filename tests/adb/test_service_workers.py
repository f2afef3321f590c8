"""The emulated adbd's service threads: kept for the next OPEN, never holding one service up behind another."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from harness.emulator.adb_device import _Workers

WAIT_S = 30.0  # generous: these wait on conditions, never on time passing


def _wait_until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"expected {what} within {WAIT_S}s"
        time.sleep(0.005)


def test_services_one_after_another_run_on_one_kept_thread() -> None:
    workers = _Workers()
    ran_on: list[int] = []
    done = threading.Semaphore(0)

    def job() -> None:
        ran_on.append(threading.get_ident())
        done.release()

    for _ in range(20):
        workers.run("adbd test", job)
        assert done.acquire(timeout=WAIT_S), "a service never ran"
        # the worker counts itself idle just after the job returns; wait for that, as the next OPEN would find it
        _wait_until(lambda: workers._idle == 1, "the worker back in the idle set")
    assert len(set(ran_on)) == 1, f"20 services one after another ran on {len(set(ran_on))} threads"


def test_a_blocked_service_does_not_hold_up_the_next() -> None:
    workers = _Workers()
    release = threading.Event()
    second_ran = threading.Event()
    workers.run("adbd blocked", release.wait, WAIT_S)
    try:
        workers.run("adbd second", second_ran.set)
        assert second_ran.wait(WAIT_S), "a second service waited behind a blocked one"
    finally:
        release.set()


def test_an_idle_worker_ends() -> None:
    workers = _Workers()
    workers.IDLE_S = 0.05  # type: ignore[misc]
    ran = threading.Event()
    workers.run("adbd idle-test", ran.set)
    assert ran.wait(WAIT_S)
    _wait_until(lambda: not any(t.name == "adbd idle-test" for t in threading.enumerate()),
                "the idle worker thread gone")
    assert workers._idle == 0


def test_an_idle_worker_keeps_nothing_of_the_service_it_ran() -> None:
    """A finished stream (and through it its session and the frame it sent) is not held by an idle thread."""

    class Stream:
        pass

    workers = _Workers()
    stream = Stream()
    gone = weakref.ref(stream)
    ran = threading.Event()
    workers.run("adbd keep-test", lambda s: ran.set(), stream)
    assert ran.wait(WAIT_S)
    _wait_until(lambda: workers._idle == 1, "the worker back in the idle set")
    del stream
    gc.collect()
    assert gone() is None, "an idle worker still holds the stream of the service it ran"
