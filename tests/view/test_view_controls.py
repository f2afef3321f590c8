"""`harness view` in a real headless Chromium: a drag in the page swipes on the handset, the screenshot button saves a
PNG the screen library recognises, and a view on an address other than loopback only with ``--host``, token kept.

One emulated lumia-520 (480x800) started on its Start screen serves the module, reached over ADB/TCP by the
views (as a rack phone is) and by the test itself, which checks what the handset's own screen shows through a
screenshot of its own, not through the page.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from PIL import Image

from harness.emulator.process import EmulatorProcess
from harness.handsets import open_handset
from viewproc import ViewProcess, frames_shown, seen_in_page, wait_until

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    proc = EmulatorProcess("lumia-520", ["--animation-ms", "0", "--screen", "start", "--boot-time", "0.3"],
                           log_path=tmp_path_factory.mktemp("view-controls") / "emulator.log")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def view(emulator: EmulatorProcess) -> Iterator[ViewProcess]:
    proc = ViewProcess("--handset", f"adb-tcp://{emulator.endpoints['adb']}")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def library() -> Any:
    from harness.vision import ScreenLibrary

    return ScreenLibrary.load_default()


@pytest.fixture(scope="module")
def handset(emulator: EmulatorProcess) -> Iterator[Any]:
    """The test's own ADB connection to the handset: what its screen shows, seen apart from the view."""
    opened = open_handset(f"adb-tcp://{emulator.endpoints['adb']}")
    yield opened.handset
    opened.close()


def _screen_of(handset: Any, library: Any) -> str | None:
    rec, _ = library.classify(handset.screenshot(), 1.0)
    return rec.screen if rec else None


def _drag(browser: Any, image: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press on the page's image at ``start``, move to ``end`` in a few steps and let go (fractions of its size)."""
    from selenium.webdriver.common.action_chains import ActionChains

    w, h = image.size["width"], image.size["height"]
    chain = ActionChains(browser).move_to_element_with_offset(image, (start[0] - 0.5) * w, (start[1] - 0.5) * h)
    chain.click_and_hold()
    for step in range(1, 6):
        chain.move_to_element_with_offset(image, (start[0] + (end[0] - start[0]) * step / 5 - 0.5) * w,
                                          (start[1] + (end[1] - start[1]) * step / 5 - 0.5) * h)
    chain.release().perform()


def test_a_drag_swipes_and_the_screenshot_button_saves_a_png_of_the_screen(view: ViewProcess, browser: Any,
                                                                         handset: Any, library: Any,
                                                                         tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(view.url)
    wait_until("the page to show the Start screen", lambda: seen_in_page(browser, library)[0] == "start")
    assert _screen_of(handset, library) == "start"
    image = browser.find_element(By.ID, "screen")

    # a drag from right to left over the Start screen swipes the handset over to its app list
    _drag(browser, image, (0.85, 0.5), (0.15, 0.5))
    wait_until("the handset to show its app list after a drag to the left in the page",
               lambda: _screen_of(handset, library) == "app_list")
    wait_until("the page to show the app list", lambda: seen_in_page(browser, library)[0] == "app_list")

    # the screenshot button saves the screen at full size as a PNG that the screen library recognises
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser.find_element(By.ID, "shot").click()
    saved = wait_until("a screenshot file in the browser's download folder",
                       lambda: [p for p in downloads.iterdir() if p.suffix == ".png" and p.stat().st_size > 0])
    data = saved[0].read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{saved[0].name} is not a PNG: starts {data[:8]!r}"
    picture = np.asarray(Image.open(saved[0]).convert("RGB"))
    assert picture.shape == (800, 480, 3), f"saved {picture.shape[1]}x{picture.shape[0]}, the screen is 480x800"
    rec, guess = library.classify(picture, 1.0)
    assert rec is not None and rec.screen == "app_list", f"the saved screenshot is not recognised: {guess.why()}"
    # an upward drag over the app list scrolls it: most of the handset's screen moves
    before = handset.screenshot().copy()
    _drag(browser, image, (0.5, 0.8), (0.5, 0.3))

    def changed() -> list[np.ndarray]:
        now = handset.screenshot().copy()
        return [] if np.array_equal(now, before) else [now]
    moved = wait_until("the handset's app list to scroll after an upward drag in the page", changed)[0]
    changed_rows = np.flatnonzero(np.any(moved != before, axis=(1, 2)))
    assert changed_rows.size > before.shape[0] // 3, f"only rows {changed_rows.min()}-{changed_rows.max()} changed"

    handset.key("back")


def _outside_address() -> str:
    """An address of this host other than loopback (the one a packet to the documentation network would leave from)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))   # a UDP connect sends nothing; it only picks the route
        address = probe.getsockname()[0]
    except OSError as exc:
        pytest.skip(f"this host has no address besides loopback ({exc})")
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.skip("this host has no address besides loopback")
    return address


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=10).close()
    except ConnectionRefusedError:
        return True
    return False


def test_another_address_only_with_host_and_the_token_still_needed(view: ViewProcess, emulator: EmulatorProcess,
                                                                  browser_factory: Any) -> None:
    address = _outside_address()
    port = int(view.base.rsplit(":", 1)[1])
    # the view started without --host listens on loopback only: its port on the host's other address is shut
    assert _refused(address, port), f"the default view answers on {address}:{port}"

    outside = ViewProcess("--handset", f"adb-tcp://{emulator.endpoints['adb']}", "--host", address)
    try:
        assert outside.base.startswith(f"http://{address}:"), outside.url
        for path in ("/", "/snapshot.jpg", "/snapshot.png", "/static/handset.js"):
            status, _ = outside.get(path, token=False)
            assert status == 403, f"{path} on {address} without the token: expected 403, got {status}"
        status, _ = outside.get("/snapshot.jpg?token=not-the-token", token=False)
        assert status == 403, f"a wrong token on {address}: expected 403, got {status}"
        status, body = outside.get("/snapshot.png")
        assert status == 200 and body[:8] == PNG_SIGNATURE, (status, body[:16])
        # and in a browser, from that address: no token, no page; the URL it printed: the live screen
        browser = browser_factory()
        browser.get(outside.base + "/")
        assert "403" in browser.find_element("tag name", "body").text
        browser.get(outside.url)
        wait_until(f"frames in the page served on {address}", lambda: frames_shown(browser) >= 1)
    finally:
        outside.stop()
