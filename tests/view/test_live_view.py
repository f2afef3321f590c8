"""`harness view --handset URI` in a real headless Chromium: token, live image, click to tap, typing, two viewers.

One emulated handset (480x800: size is not the point here; the benchmark
measures 1080x1920) and one view for the module; the flow goes from "Keep your
life in sync" through a click on "sign in" to the e-mail screen, as a person
at the desk would. What the page shows is recognised from the browser's own
screenshot by the screen library.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from PIL import Image

from viewproc import ViewProcess, frames_shown, seen_in_page, wait_until

START = "keep_your_life_in_sync"   # the emulator is told to start here (its --screen), not asked
AFTER_SIGN_IN = "account_email"    # the handset's help page: "Sign in" leads to the Microsoft account e-mail


@pytest.fixture(scope="module")
def view() -> Iterator[ViewProcess]:
    proc = ViewProcess("--handset", f"emulator://lumia-520?screen={START}&animation_ms=0")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def library() -> Any:
    from harness.vision import ScreenLibrary

    return ScreenLibrary.load_default()


def test_the_view_needs_its_token(view: ViewProcess, browser: Any) -> None:
    for path in ("/", "/snapshot.jpg", "/static/handset.js"):
        status, body = view.get(path, token=False)
        assert status == 403, f"{path} without the token: expected 403, got {status} {body[:80]!r}"
    status, body = view.get("/snapshot.jpg?token=wrong-token", token=False)
    assert status == 403, f"a wrong token: expected 403, got {status}"
    status, body = view.get("/snapshot.jpg")
    assert status == 200 and Image.open(io.BytesIO(body)).size == (480, 800), (status, body[:40])
    browser.get(view.base + "/")
    assert "403" in browser.find_element("tag name", "body").text
    assert frames_shown(browser) == 0


def test_two_browsers_show_the_screen_live_from_one_stream(view: ViewProcess, browser: Any, browser_factory: Any,
                                                           library: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    second = browser_factory()
    for driver in (browser, second):
        driver.get(view.url)
    wait_until("frames in both pages", lambda: frames_shown(browser) >= 1 and frames_shown(second) >= 1)
    screen, crop, rect, rec = wait_until(f"the page's image to show {START}",
                                         lambda: (s := seen_in_page(browser, library))[0] == START and s)
    Image.fromarray(crop).save(tmp_path / "page-image.png")
    assert crop.shape[0] > crop.shape[1] > 200, f"the live image is {crop.shape[1]}x{crop.shape[0]} in the page"
    # the page names what vision sees, as the user reads it
    wait_until("the page to name the screen", lambda: browser.find_element(By.ID, "screen-name").text == START)

    # the second page outlines the screen's targets; a click on "sign in" there moves the handset, the first shows it
    second.find_element(By.ID, "show-targets").click()
    box = wait_until("the sign_in target outlined in the second page",
                     lambda: second.find_elements(By.CSS_SELECTOR, ".target[data-name=sign_in]"))
    box[0].click()
    wait_until(f"the first page to show {AFTER_SIGN_IN} after a click on the second's target",
               lambda: seen_in_page(browser, library)[0] == AFTER_SIGN_IN)
    # 'back' beside the screen in the second page; the first shows it
    second.find_element(By.CSS_SELECTOR, "#keys button[data-key=back]").click()
    wait_until(f"the first page to show {START} after 'back' in the second", lambda: seen_in_page(browser, library)[0] == START)
    # one frame stream fanned out: both pages are shown the very same frames (numbered by the grabber): the
    # screen they both opened on, the e-mail screen and the screen after 'back' at least
    seqs = "return window.viewStats.arrivals.map(a => a.seq);"
    wait_until("both pages to have shown frames of one stream",
               lambda: len(set(browser.execute_script(seqs)) & set(second.execute_script(seqs))) >= 3)


def test_a_click_taps_where_it_lands_and_typing_types(view: ViewProcess, browser: Any, library: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(view.url)
    screen, crop, rect, rec = wait_until(f"the page's image to show {START}",
                                         lambda: (s := seen_in_page(browser, library))[0] == START and s)
    # click where "sign in" is in the browser's picture (found there by the screen library, in CSS pixels)
    x, y = rec.targets["sign_in"]
    css = (x / crop.shape[1] * rect["w"], y / crop.shape[0] * rect["h"])
    img = browser.find_element(By.ID, "screen")
    ActionChains(browser).move_to_element_with_offset(img, css[0] - rect["w"] / 2, css[1] - rect["h"] / 2).click().perform()
    screen, crop, rect, rec = wait_until(f"the page's image to show {AFTER_SIGN_IN} after the click",
                                         lambda: (s := seen_in_page(browser, library))[0] == AFTER_SIGN_IN and s)

    # typing: focus the field by a click on it, then keys go to the handset as text
    x, y = rec.targets["field:email"]
    ActionChains(browser).move_to_element_with_offset(img, x / crop.shape[1] * rect["w"] - rect["w"] / 2,
                                                      y / crop.shape[0] * rect["h"] - rect["h"] / 2).click().perform()
    before = _field(crop, rec)
    browser.find_element(By.ID, "screenbox").send_keys("viewer")
    wait_until("the typed text in the page's image of the e-mail field",
               lambda: "viewer" in _read(_field(seen_in_page(browser, library)[1], rec)), timeout=60, every=0.3)
    assert "viewer" not in _read(before)


def _field(crop: np.ndarray, rec: Any) -> np.ndarray:
    """The e-mail field's band of the page's image: the field's row, across the screen."""
    _, y = rec.targets["field:email"]
    h = crop.shape[0] // 20
    return crop[max(0, int(y) - h):int(y) + h]


def _read(image: np.ndarray) -> str:
    ocr = pytest.importorskip("harness.vision.ocr")
    try:
        return ocr.read_text(image).lower()
    except ocr.OcrUnavailable as exc:
        pytest.skip(f"OCR is not installed: {exc}")
