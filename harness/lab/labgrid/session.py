"""A connection to a labgrid coordinator through labgrid's own client (``labgrid.remote.client.ClientSession``).

labgrid's client is asyncio code; a harness command or a pytest run is not, and
it may keep its main thread busy for minutes (a flow, a slow screenshot). So
sessions run labgrid's client on one event loop in a daemon thread (one per
process: gRPC's asyncio binds itself to one loop):
the coordinator's stream of place updates is read, and a heartbeat is sent,
whatever the caller is doing. Callers hand coroutines over with ``run``, each
with a deadline. Nothing here is a copy of labgrid's client: the gRPC requests
are labgrid's generated messages, sent on labgrid's session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from getpass import getuser
from socket import gethostname
from typing import Any, Awaitable, Callable, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")

#: How long one request to the coordinator may take before the coordinator counts as gone.
REQUEST_TIMEOUT = 15.0


class LabgridMissing(HarnessError):
    """labgrid is not installed (it is the optional extra ``[labgrid]``)."""

    def __init__(self) -> None:
        super().__init__("places need labgrid: pip install 'handset-harness[labgrid]'")


class CoordinatorUnavailable(HarnessError, ConnectionError):
    """The coordinator did not answer (not running, restarted, or unreachable); ``address`` names it."""

    def __init__(self, address: str, doing: str, seen: str) -> None:
        self.address = address
        super().__init__(f"labgrid coordinator {address}: no answer while {doing} ({seen})")


class CoordinatorRefused(HarnessError):
    """The coordinator answered a request with an error (``code`` is the gRPC status name)."""

    def __init__(self, address: str, doing: str, code: str, details: str) -> None:
        self.address, self.code, self.details = address, code, details
        super().__init__(f"labgrid coordinator {address}: {doing}: {details or code}")


def client_name() -> str:
    """This process's name at the coordinator, as labgrid's client forms it: HOST/USER (LG_HOSTNAME, LG_USERNAME)."""
    return f"{os.environ.get('LG_HOSTNAME') or gethostname()}/{os.environ.get('LG_USERNAME') or getuser()}"


def _labgrid() -> Any:
    try:
        from labgrid.remote import client
    except ImportError:
        raise LabgridMissing() from None
    root = logging.getLogger()
    if _quiet_labgrid not in root.filters:
        root.addFilter(_quiet_labgrid)
    return client


def _quiet_labgrid(record: logging.LogRecord) -> bool:
    """Keep labgrid's client from logging on the root logger ('coordinator is unavailable: ...'): what it says
    reaches the user once, as our typed one-line error (CoordinatorUnavailable)."""
    return "/labgrid/remote/" not in record.pathname.replace("\\", "/")


_SHARED: list[asyncio.AbstractEventLoop] = []
_LIVE: set[str] = set()  # addresses this process has a session with
_SHARED_LOCK = threading.Lock()


def _shared_loop() -> asyncio.AbstractEventLoop:
    """The process's one loop for labgrid's client, on a daemon thread, started on first use and kept.

    gRPC's asyncio support binds itself to the first event loop that uses it: a second loop in the same
    process (two sessions at once, or one after another after the first loop closed) fails ('Event loop
    is closed', 'Could not connect'). So every session of a process shares this one.
    """
    with _SHARED_LOCK:
        if not _SHARED:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="labgrid client", daemon=True).start()
            _SHARED.append(loop)
        return _SHARED[0]


class CoordinatorSession:
    """labgrid's ``ClientSession`` to ``address`` (HOST:PORT), on its own loop thread, started by ``start()``.

    ``places`` and ``resources`` are labgrid's live views (``Place``, ``ResourceEntry``), kept up to date by
    labgrid's message pump; read them with ``run`` (on the loop), never from the caller's thread.
    """

    def __init__(self, address: str, request_timeout: float = REQUEST_TIMEOUT) -> None:
        self.address = address
        self.request_timeout = request_timeout
        self.name = client_name()
        self.session: Any = None
        self.changed: asyncio.Event | None = None  # set by every place update (waits wake on it)
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float | None = None) -> "CoordinatorSession":
        """Connect and read every place and resource once; CoordinatorUnavailable when nobody answers in time."""
        _labgrid()
        if self._loop is None:
            with _SHARED_LOCK:
                if self.address in _LIVE:
                    raise HarnessError(f"labgrid coordinator {self.address}: this process has a session with it "
                                       "already; share that one (the coordinator tells clients apart by their "
                                       "connection, and gRPC gives two channels to one address the same one)")
                _LIVE.add(self.address)
            self._loop = _shared_loop()
        try:
            self.run(self._connect(), "connecting", timeout)
        except BaseException:
            self.close()
            raise
        return self

    async def _connect(self) -> None:
        client = _labgrid()
        from labgrid.util.proxy import proxymanager

        if self.session is not None:  # a second start after the coordinator went away: a new stream
            await self._drop()
        changed = self.changed = asyncio.Event()

        class Session(client.ClientSession):  # type: ignore[misc, name-defined]
            async def on_place_changed(self, place_pb2: Any) -> None:
                await super().on_place_changed(place_pb2)
                changed.set()

            async def on_place_deleted(self, name: str) -> None:
                await super().on_place_deleted(name)
                changed.set()

        address = proxymanager.get_grpc_address(self.address, default_port=20408)
        self.session = Session(address=address, loop=asyncio.get_running_loop())
        try:
            await self.session.start()
        except client.Error as exc:
            raise CoordinatorUnavailable(self.address, "connecting", str(exc.args[0] if exc.args else exc)) from None

    async def _drop(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            await asyncio.wait_for(session.stop(), 5)
            await asyncio.wait_for(session.close(), 5)
        except Exception:  # noqa: BLE001 - a stream that already broke may fail to stop; it is gone either way
            pass

    def close(self) -> None:
        """Stop labgrid's stream and close the channel (idempotent); the shared loop stays for other sessions."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with _SHARED_LOCK:
            _LIVE.discard(self.address)
        try:
            asyncio.run_coroutine_threadsafe(self._drop(), loop).result(12)
        except Exception:  # noqa: BLE001 - closing must not hide the error that made us close
            pass

    def __enter__(self) -> "CoordinatorSession":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        """True while labgrid's stream to the coordinator is up."""
        return self.session is not None and not self.session.stopping.is_set()

    # ------------------------------------------------------------------ calls
    def run(self, coro: Awaitable[T], doing: str, timeout: float | None = None) -> T:
        """Run ``coro`` on the session's loop and return its result; CoordinatorUnavailable after ``timeout``."""
        if self._loop is None:
            raise RuntimeError("CoordinatorSession.run before start()")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        limit = self.request_timeout if timeout is None else timeout
        try:
            return future.result(limit)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise CoordinatorUnavailable(self.address, doing, f"nothing within {limit:g}s") from None

    def call_soon(self, fn: Callable[[], Awaitable[Any]]) -> "asyncio.Future[Any]":
        """Start ``fn()`` on the loop without waiting (the heartbeat)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(fn(), self._loop)  # type: ignore[return-value]

    async def request(self, method: str, doing: str, **fields: Any) -> Any:
        """Send one of labgrid's coordinator requests (``AcquirePlace``, ``SetPlaceTags`` ...) and wait for the
        coordinator to have sent us what changed; typed errors for a refusal and for a coordinator gone."""
        import grpc
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2

        if not self.alive:
            raise CoordinatorUnavailable(self.address, doing, "the connection to it is closed")
        message = getattr(pb2, f"{method}Request")(**fields)
        try:
            response = await asyncio.wait_for(getattr(self.session.stub, method)(message), self.request_timeout)
        except asyncio.TimeoutError:
            raise CoordinatorUnavailable(self.address, doing, f"nothing within {self.request_timeout:g}s") from None
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                raise CoordinatorUnavailable(self.address, doing, exc.details() or exc.code().name) from None
            raise CoordinatorRefused(self.address, doing, exc.code().name, exc.details() or "") from None
        try:
            await asyncio.wait_for(self.session.sync_with_coordinator(), self.request_timeout)
        except asyncio.TimeoutError:
            raise CoordinatorUnavailable(self.address, doing, "no sync after the request") from None
        return response

    async def wait_changed(self, seconds: float) -> None:
        """Wait until a place changes, at most ``seconds``."""
        assert self.changed is not None
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), max(0.0, seconds))
        except asyncio.TimeoutError:
            pass
