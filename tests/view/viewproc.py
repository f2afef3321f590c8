"""Helpers of the live view's browser tests: start ``harness view`` as a person does, and look at its page.

What the page shows is judged from a screenshot the browser takes, cropped to
the live image and recognised by the screen library: the test never asks the
view what it shows.
"""

from __future__ import annotations

import io
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator

import numpy as np

#: Generous: a loaded 2-core CI machine starts an emulator and compiles the screen library meanwhile.
START_TIMEOUT = 90.0


class ViewProcess:
    """``python -m harness view ARGS``; ``url`` is the one line it prints (with the token)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "harness", "view", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        try:
            self.url = lines.get(timeout=START_TIMEOUT).strip()
        except queue.Empty:
            self.stop()
            raise AssertionError(f"harness view printed no URL within {START_TIMEOUT:g}s") from None
        expected = "http://" if "--host" in args else "http://127.0.0.1:"   # the default: loopback only
        if not self.url.startswith(expected):
            self.stop()
            raise AssertionError(f"expected a URL ({expected}...) first, got {self.url!r}; stderr: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        self.base, _, self.token = self.url.partition("/?token=")

    def get(self, path: str, token: bool = True, timeout: float = 30.0) -> tuple[int, bytes]:
        """GET ``path`` over a real socket: (status, body), a 4xx/5xx included."""
        sep = "&" if "?" in path else "?"
        url = f"{self.base}{path}{sep}token={self.token}" if token else f"{self.base}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C would; it must end (and stop its emulator) by itself."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("harness view did not end within 30 s of SIGTERM") from None


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60.0, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; AssertionError naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)  # polling a condition, with the deadline above
    raise AssertionError(f"expected {what} within {timeout:g}s; last saw {last!r}")


def page_image(driver: Any) -> tuple[np.ndarray, dict[str, float]]:
    """The live image as the browser shows it: the page's screenshot cropped to the image element (RGB, device
    pixels of the browser), and the element's rectangle in CSS pixels with the page's pixel ratio."""
    from PIL import Image

    rect = driver.execute_script("const r = document.getElementById('screen').getBoundingClientRect();"
                                 "return {x: r.left, y: r.top, w: r.width, h: r.height, dpr: window.devicePixelRatio};")
    shot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB"))
    d = rect["dpr"]
    crop = shot[round(rect["y"] * d):round((rect["y"] + rect["h"]) * d), round(rect["x"] * d):round((rect["x"] + rect["w"]) * d)]
    return np.ascontiguousarray(crop), rect


def frames_shown(driver: Any) -> int:
    return int(driver.execute_script("return window.viewStats ? window.viewStats.frames : 0;"))


def seen_in_page(driver: Any, library: Any) -> tuple[str | None, np.ndarray, dict[str, float], Any]:
    """Which screen the page's live image shows, recognised from the browser's screenshot of it."""
    crop, rect = page_image(driver)
    rec, _ = library.classify(crop, crop.shape[1] / 480.0)
    return (rec.screen if rec else None), crop, rect, rec


def lines(stream: Any) -> Iterator[str]:
    yield from iter(stream.readline, "")
