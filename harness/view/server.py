"""The live view's web server (aiohttp): the pages, each handset's frames over a WebSocket, its input and its state.

Every request needs the view's token (``?token=`` once, then a cookie the page
gets with it): the view drives phones, so nobody else on the host may. Frames
go out at most two at a time per viewer (the page says ``next`` when it has
shown one): sending the next overlaps showing this one, and a slow viewer
skips frames instead of falling behind.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import socket
from importlib import resources
from typing import Any, Awaitable, Callable

from aiohttp import WSMsgType, web

from harness.errors import HarnessError
from harness.deadline import within
from harness.view.frames import Frame, encode_jpeg, encode_png
from harness.view.station import NotDriving, Station

#: Most a viewer may send in one WebSocket message (it sends only "next").
MAX_MESSAGE = 4096
#: Most a request body may hold (typed text, a tap).
MAX_BODY = 64 * 1024
#: Frames a viewer may have on the way at once: two, so sending the next overlaps showing this one; no more, so
#: a slow viewer's newest frame is never more than one frame old when it is sent.
IN_FLIGHT = 2
#: How long a snapshot may take (a screenshot, when no recent full-size frame is at hand).
SNAPSHOT_TIMEOUT = 20.0

STATIC = resources.files("harness.view") / "static"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


class ViewServer:
    """The pages and endpoints of ``harness view`` for ``stations`` (one: its page at ``/``; several: the rack)."""

    def __init__(self, stations: list[Station], token: str | None = None) -> None:
        self.stations = {s.name: s for s in stations}
        self.rack = len(stations) != 1
        self.token = token or secrets.token_urlsafe(24)
        self.cookie = "harness_view"
        self.app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY)
        r = self.app.router
        r.add_get("/", self._index)
        r.add_get("/static/{file}", self._static)
        r.add_get("/snapshot.jpg", self._snapshot)
        r.add_get("/rack.json", self._rack)
        r.add_get("/h/{name}/", self._handset_page)
        r.add_get("/h/{name}/ws", self._ws)
        r.add_get("/h/{name}/snapshot.jpg", self._snapshot)
        r.add_get("/snapshot.png", self._snapshot)
        r.add_get("/h/{name}/snapshot.png", self._snapshot)
        r.add_get("/h/{name}/state", self._state)
        r.add_get("/h/{name}/messages", self._messages)
        for action in ("tap", "swipe", "text", "key", "drive"):
            r.add_post(f"/h/{{name}}/{action}", self._act)
        self._runner: web.AppRunner | None = None

    # -- serving ---------------------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0: the OS picks one) and return the URL with the token."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise HarnessError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.cookie = f"harness_view_{sock.getsockname()[1]}"   # cookies ignore ports: one per view
        self._runner = web.AppRunner(self.app, access_log=None)   # an access log would carry the token
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{sock.getsockname()[1]}/?token={self.token}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        given = request.query.get("token") or request.cookies.get(self.cookie) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.Response(status=403, text="403: this view needs its token (the URL `harness view` printed)\n")
        response = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict")
        return response

    def _station(self, request: web.Request) -> Station:
        name = request.match_info.get("name")
        if name is None and not self.rack:
            return next(iter(self.stations.values()))
        station = self.stations.get(name or "")
        if station is None:
            raise web.HTTPNotFound(text=f"no handset {name!r} in this view\n")
        return station

    # -- pages -----------------------------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        if self.rack:
            return _file("rack.html")
        return web.Response(status=302, headers={"Location": f"/h/{next(iter(self.stations))}/?token={self.token}"})

    async def _handset_page(self, request: web.Request) -> web.StreamResponse:
        self._station(request)
        return _file("handset.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["file"]
        if "/" in name or name.startswith(".") or not (STATIC / name).is_file():
            raise web.HTTPNotFound()
        return _file(name)

    # -- frames ------------------------------------------------------------------------------------------------------
    async def _ws(self, request: web.Request) -> web.StreamResponse:
        station = self._station(request)
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE)
        await ws.prepare(request)
        loop = asyncio.get_running_loop()
        arrived, wanted = asyncio.Event(), asyncio.Event()
        credit = [IN_FLIGHT]   # frames this viewer may be sent before it says "next"
        wanted.set()

        def listener(_: Frame) -> None:
            try:
                loop.call_soon_threadsafe(arrived.set)
            except RuntimeError:  # the loop has closed: the view is stopping
                pass

        async def send() -> None:
            last = 0
            while not ws.closed:
                await wanted.wait()
                while True:
                    arrived.clear()   # before looking, so a frame that comes meanwhile sets it again
                    frame = station.frames.latest
                    if frame is not None and frame.seq > last:
                        break
                    await arrived.wait()
                credit[0] -= 1
                if credit[0] <= 0:
                    wanted.clear()
                last = frame.seq
                await ws.send_str(json.dumps({"seq": frame.seq, "changes": frame.changes, "taken": frame.taken,
                                              "width": frame.width, "height": frame.height}))
                await ws.send_bytes(frame.jpeg)

        try:   # how high the page shows the screen, in device pixels of its display; full size when it does not say
            height: int | None = max(64, min(8192, int(request.query["height"])))
        except (KeyError, ValueError):
            height = None
        unwatch = station.frames.watch(listener, height)
        sender = asyncio.create_task(send())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data == "next":
                    credit[0] = min(IN_FLIGHT, credit[0] + 1)
                    wanted.set()
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            unwatch()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        return ws

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        """The screen at full size as a JPEG (``snapshot.jpg``) or a PNG (``snapshot.png``, what the screenshot
        button saves): the newest frame when it is full size and recent enough, else a screenshot taken now."""
        station = self._station(request)
        try:
            max_age = min(60.0, max(0.0, float(request.query.get("max_age", "1"))))
        except ValueError:
            raise web.HTTPBadRequest(text="max_age: expected seconds\n") from None
        png = request.path.endswith(".png")

        def take() -> bytes:
            with within(SNAPSHOT_TIMEOUT):
                image = station.snapshot(max_age)
            return encode_png(image) if png else encode_jpeg(image)
        try:
            body = await asyncio.to_thread(take)
        except (HarnessError, TimeoutError, ValueError) as exc:
            raise web.HTTPServiceUnavailable(text=f"no screenshot of {station.name}: {exc}\n") from None
        return web.Response(body=body, content_type="image/png" if png else "image/jpeg",
                            headers={"Cache-Control": "no-store"})

    # -- state and input -------------------------------------------------------------------------------------------
    async def _state(self, request: web.Request) -> web.StreamResponse:
        station = self._station(request)
        return web.json_response(await asyncio.to_thread(station.state))

    async def _rack(self, request: web.Request) -> web.StreamResponse:
        def table() -> list[dict[str, Any]]:
            return [{"name": s.name, "uri": s.uri, "holder": s.holder(), "driving": s.driving,
                     "seen": s.seen() if s.frames.latest is not None else None, "error": s.frames.error}
                    for s in self.stations.values()]
        return web.json_response({"rack": self.rack, "handsets": await asyncio.to_thread(table)})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        station = self._station(request)
        try:
            return web.json_response({"messages": await asyncio.to_thread(station.messages)})
        except HarnessError as exc:
            return web.json_response({"error": str(exc)}, status=409)

    async def _act(self, request: web.Request) -> web.StreamResponse:
        station = self._station(request)
        action = request.path.rsplit("/", 1)[1]
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            call = _call(station, action, body)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"{action}: bad request: {exc}"}, status=400)
        try:
            await asyncio.to_thread(call)
        except NotDriving as exc:
            return web.json_response({"error": str(exc)}, status=409)
        except HarnessError as exc:
            return web.json_response({"error": f"{action}: {exc}"}, status=409 if action == "drive" else 502)
        return web.json_response({"ok": True, "frame": station.frames.latest.seq if station.frames.latest else 0})


def _call(station: Station, action: str, body: dict[str, Any]) -> Callable[[], None]:
    """The station call a POST asks for, its arguments checked (ValueError/KeyError/TypeError: a bad request)."""
    def num(key: str) -> int:
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{key}: expected a number, got {value!r}")
        return int(value)
    if action == "tap":
        x, y = num("x"), num("y")
        return lambda: station.tap(x, y)
    if action == "swipe":
        x1, y1, x2, y2, ms = num("x1"), num("y1"), num("x2"), num("y2"), max(50, min(5000, num("ms")))
        return lambda: station.swipe(x1, y1, x2, y2, ms)
    if action == "text":
        text = body["text"]
        if not isinstance(text, str) or not text or len(text) > 1000:
            raise ValueError("text: expected 1 to 1000 characters")
        return lambda: station.text(text)
    if action == "key":
        name = str(body["name"])
        return lambda: station.key(name)
    return station.drive


def _file(name: str) -> web.Response:
    suffix = name[name.rfind("."):]
    return web.Response(body=(STATIC / name).read_bytes(), content_type=_TYPES.get(suffix, "application/octet-stream"),
                        headers={"Cache-Control": "no-store"})
