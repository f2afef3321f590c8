"""`harness view` outlines a list's items where a tap on them lands, as `harness match` prints them and `find_target`
taps them: the row read by OCR, not where the item's template fits best. In Liberation Sans on a 480x800 handset
the Store's template fits the Games row of the app list; a click on the page's "app:store" outline must open the
Store. What the handset then shows is recognised from the browser's own screenshot of the page."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from harness.lab.frames import font_file
from viewproc import ViewProcess, seen_in_page, wait_until

#: a list where an item's template fits another item's row (tests/vision/test_app_list_apps.py MATCHED_LISTS)
PROFILE, FONT = "lumia-520", "liberation-sans"
OPENS = {"app:store": ("store", "store_no_account"), "app:games": ("games", "games_no_account"),
         "app:music": ("music", "music_no_account"), "app:people": ("people",)}


@pytest.fixture(scope="module")
def view() -> Iterator[ViewProcess]:
    pytest.importorskip("tesserocr")
    proc = ViewProcess("--handset", f"emulator://{PROFILE}?screen=app_list&animation_ms=0&theme=dark"
                                    f"&font={font_file(FONT)}")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def library() -> Any:
    from harness.vision import ScreenLibrary

    return ScreenLibrary.load_default()


def _until_shown(browser: Any, library: Any, pages: tuple[str, ...], what: str) -> None:
    """Wait until the page's live image shows one of ``pages``; the error names the screen it showed last."""
    last: list[str | None] = [None]

    def shows() -> bool:
        last[0] = seen_in_page(browser, library)[0]
        return last[0] in pages
    try:
        wait_until(what, shows)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the page showed {last[0] or 'a screen not recognised'}") from None


def test_a_click_on_a_list_items_outline_opens_that_item(view: ViewProcess, browser: Any, library: Any) -> None:
    """Every app outlined opens that app (Store, below the screen's end, is not outlined at all: before, its box lay
    on the Games row and a click there opened Games)."""
    from selenium.webdriver.common.by import By

    browser.get(view.url)
    _until_shown(browser, library, ("app_list",), "the page to show the app list")
    toggle = browser.find_element(By.ID, "show-targets")
    toggle.click()
    wait_until("the app:games target outlined",
               lambda: browser.find_elements(By.CSS_SELECTOR, '.target[data-name="app:games"]'))
    outlined = [name for name in OPENS if browser.find_elements(By.CSS_SELECTOR, f'.target[data-name="{name}"]')]
    clicked = []
    for name in outlined:  # (an app below the screen's end is not outlined: the list goes on)
        pages = OPENS[name]
        box = wait_until(f"the {name} target outlined",
                         lambda: browser.find_elements(By.CSS_SELECTOR, f'.target[data-name="{name}"]'))
        box[0].click()
        toggle.click()  # the outlines off: the page's image is recognised as a person sees the handset's screen
        wait_until("the outlines hidden", lambda: not browser.find_elements(By.CSS_SELECTOR, ".target"))
        _until_shown(browser, library, pages, f"the page to show {' or '.join(pages)} after a click on the {name} outline")
        clicked.append(name)
        browser.find_element(By.CSS_SELECTOR, "#keys button[data-key=back]").click()
        _until_shown(browser, library, ("app_list",), "the page to show the app list again")
        toggle.click()
    assert len(clicked) >= 2, f"only {clicked} outlined"
