"""The emulated camera: the phone on the robot's bed, drawn and served as MJPEG over HTTP on 127.0.0.1.

``harness emulate --camera`` serves ``http://127.0.0.1:PORT/stream.mjpg``
(an OS-picked port), as an IP camera does: ``multipart/x-mixed-replace``,
one JPEG per part. One thread draws frames at the camera's rate while
anyone watches (``camera_view``: the phone's current screen on its glass,
the stylus where the emulated robot holds it) and every viewer gets the
newest; a viewer that reads slowly skips frames rather than queueing them.
The control socket's ``camera_state`` tells the screen's true corners in
the camera (for tests of accuracy) and ``camera_fault`` stalls the stream,
drops its connections (a camera that restarts) or stops its server.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import cv2
import numpy as np

from harness.emulator.bench import Bench, bench_of
from harness.emulator.camera_pose import camera_pose
from harness.emulator.camera_view import CameraView, Placement
from harness.emulator.transport_service import CommandHandler, takes

SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}
DEFAULT_FPS = 20.0
BOUNDARY = "frame"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False


class EmulatedCamera:
    """One camera over one phone: a drawing thread and an HTTP server that streams what it draws."""

    def __init__(self, screen: Callable[[], tuple[int, int, tuple]], placement: Placement, seed: int,
                 stylus: Callable[[], tuple[float, float, float] | None] | None = None,
                 size: tuple[int, int] = (1280, 720), fps: float = DEFAULT_FPS, quality: int | None = None) -> None:
        self._screen = screen
        self.placement = placement
        self.seed = seed
        self.stylus = stylus
        self.size = size
        self.fps = fps
        self.quality = quality if quality is not None else random.Random(f"jpeg/{seed}").randint(72, 88)
        self.view: CameraView | None = None
        self._cond = threading.Condition()
        self._jpeg: bytes = b""
        self._index = 0
        self._viewers = 0
        self._stalled = False
        self.delay = 0.0  # seconds each frame is held between drawing and sending (camera_delay)
        self._held: deque[tuple[float, bytes]] = deque()
        self._sent_drawn = float("-inf")  # when the frame sent last was drawn
        self._generation = 0  # bumped by a dropped stream: connections of an older generation close
        self._stopping = False
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self.drawn_at: list[float] = []
        self._parts: tuple | None = None
        self._pixels = np.zeros((1, 1, 4), np.uint8)
        self._kept: tuple[object, Any, dict[int, bytes]] = (None, None, {})  # JPEGs of one screen and stylus

    # ---------------------------------------------------------------- transport service
    def start(self) -> dict[str, Any]:
        self.view = view_of(self.placement, self.seed, self.size)
        self._server = _Server(("127.0.0.1", 0), self._handler())
        port = self._server.server_address[1]
        for target, name in ((self._server.serve_forever, "camera http"), (self._draw, "camera drawing")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return {"camera": f"http://127.0.0.1:{port}/stream.mjpg"}

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def commands(self) -> dict[str, CommandHandler]:
        def fault(req: dict[str, Any]) -> dict[str, Any]:
            kind = str(req["kind"])
            if kind not in ("stall", "resume", "drop", "stop"):
                raise ValueError(f"unknown camera fault {kind!r} (stall, resume, drop, stop)")
            if kind == "stop":
                self.stop()
            elif kind == "drop":  # every viewer's connection closes; the server takes new ones (a camera restart)
                with self._cond:
                    self._generation += 1
                    self._cond.notify_all()
            else:
                with self._cond:
                    self._stalled = kind == "stall"
                    self._cond.notify_all()
            return {"stalled": self._stalled, "stopped": self._stopping}

        def state(req: dict[str, Any]) -> dict[str, Any]:
            assert self.view is not None
            now = time.monotonic()
            recent = [t for t in self.drawn_at if now - t <= 2.0]
            return {"seed": self.seed, "size": list(self.size), "frames": self._index, "viewers": self._viewers,
                    "fps": round(len(recent) / 2.0, 1), "tilt_deg": round(self.view.pose.tilt_deg, 3),
                    "distance_mm": round(self.view.pose.distance_mm, 2),
                    "screen_corners": [[round(float(v), 3) for v in p] for p in self.view.screen_corners()]}

        def delay(req: dict[str, Any]) -> dict[str, Any]:
            ms = float(req["ms"])
            if not 0 <= ms <= 10000:
                raise ValueError(f"camera_delay ms={ms:g}: expected 0..10000")
            with self._cond:
                self.delay = ms / 1000.0
            return {"delay_ms": ms}

        return {"camera_state": takes("")(state), "camera_fault": takes("kind=stall|resume|drop|stop")(fault),
                "camera_delay": takes("ms")(delay)}

    # ---------------------------------------------------------------- drawing
    def _draw(self) -> None:
        assert self.view is not None
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while True:
            with self._cond:
                while not self._stopping and (self._viewers == 0 or self._stalled):
                    self._cond.wait()
                if self._stopping:
                    return
            width, height, parts = self._screen()
            if parts is not self._parts:  # the panel shows something else: its pixels once, as an array
                self._parts = parts
                self._pixels = np.frombuffer(b"".join(parts), np.uint8).reshape(height, width, 4)
            tip = self.stylus() if self.stylus is not None else None
            jpeg = self._jpeg_of(parts, tip)
            now = time.monotonic()
            with self._cond:
                self._held.append((now, jpeg))  # drawn now: sent once it is ``delay`` old
                while len(self._held) > 1 and self._held[1][0] <= now - self.delay:
                    self._held.popleft()
                drawn = self._held[0][0]
                if drawn > now - self.delay or drawn <= self._sent_drawn:  # none old enough, or that one is sent
                    self._cond.wait_for(lambda: self._stopping, timeout=max(0.0, next_at + period - now))
                    next_at = max(next_at + period, now)
                    continue
                self._sent_drawn = drawn  # a camera sends each exposure once
                jpeg = self._held[0][1]
                self._jpeg, self._index = jpeg, self._index + 1
                self.drawn_at = [t for t in self.drawn_at if now - t <= 2.0] + [now]
                self._cond.notify_all()
                # the camera's own clock: the next frame is due one period on (or now, when drawing fell behind)
                next_at = max(next_at + period, now)
                self._cond.wait_for(lambda: self._stopping, timeout=max(0.0, next_at - now))

    def _jpeg_of(self, parts: tuple, tip: tuple[float, float, float] | None) -> bytes:
        """The next frame, JPEG-encoded. While the screen and the stylus stay put, frames repeat with the noise's
        period, so those are drawn and encoded once each and sent again: the same bytes as drawing them anew."""
        assert self.view is not None
        screen, stylus, kept = self._kept
        if screen is not parts or stylus != tip:
            kept = {}
            self._kept = (parts, tip, kept)
        phase = self.view.noise_phase
        if phase in kept:
            self.view.skip()
            return kept[phase]
        frame = self.view.frame(self._pixels, tip, key=parts)
        jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])[1].tobytes()
        kept[phase] = jpeg
        return jpeg

    def _next(self, after: int, generation: int) -> tuple[bytes, int] | None:
        """The first frame newer than ``after``, waiting for it (None once the camera stops or drops the stream)."""
        with self._cond:
            while not self._stopping and self._generation == generation and self._index <= after:
                self._cond.wait(1.0)
            return None if self._stopping or self._generation != generation else (self._jpeg, self._index)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # no access log on stderr
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.split("?")[0] != "/stream.mjpg":
                    self.send_error(404, "the stream is /stream.mjpg")
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache, private")
                self.send_header("Connection", "close")
                self.end_headers()
                with camera._cond:
                    camera._viewers += 1
                    generation = camera._generation
                    camera._cond.notify_all()
                try:
                    index = 0
                    while True:
                        got = camera._next(index, generation)
                        if got is None:
                            return
                        jpeg, index = got
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}"
                                         f"\r\n\r\n".encode("ascii") + jpeg + b"\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    return
                finally:
                    with camera._cond:
                        camera._viewers -= 1

        return Handler


def view_of(placement: Placement, seed: int, size: tuple[int, int] = (1280, 720)) -> CameraView:
    """The picture of the camera ``seed`` puts over ``placement``: aimed at the phone's body, its long side
    along the frame's."""
    body = np.asarray(placement.body)
    screen = np.asarray(placement.screen)
    top = screen[0] - screen[3]
    top /= np.linalg.norm(top)
    extent = float(np.linalg.norm(body[0] - body[3]))
    centre = body.mean(axis=0)
    pose = camera_pose(seed, (float(centre[0]), float(centre[1]), placement.glass_z), extent,
                       (float(top[0]), float(top[1])), size)
    return CameraView(pose, placement, seed)


def placement_of(bench: Bench) -> Placement:
    """What the camera needs to know of the phone's placement on the bed."""
    return Placement(bench.screen_corners_mm(), bench.body_corners_mm(), bench.glass_z, bench.body.thickness_mm,
                     bench.keys_mm())


def camera_service(phone: Any, options: dict[str, Any]) -> EmulatedCamera | None:
    """The camera, when ``harness emulate --camera`` asks for one (options ``camera``, ``camera_size``,
    ``camera_fps``), over the phone's bench (``bench_seed``: the same seed places the phone and the camera);
    the stylus is drawn where the robot holds it, when there is a robot."""
    if not options.get("camera"):
        return None
    bench = bench_of(phone, options)

    def stylus() -> tuple[float, float, float] | None:
        return bench.stylus() if bench.stylus is not None else None

    return EmulatedCamera(phone.frame_parts, placement_of(bench), bench.seed, stylus=stylus,
                          size=SIZES[str(options.get("camera_size", "1280x720"))],
                          fps=float(options.get("camera_fps", DEFAULT_FPS)))
