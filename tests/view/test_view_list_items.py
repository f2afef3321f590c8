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


def test_a_click_on_a_list_items_outline_opens_that_item(view: ViewProcess, browser: Any, library: Any) -> None:
    """Every app outlined opens that app (Store, below the screen's end, is not outlined at all: before, its box lay
    on the Games row and a click there opened Games)."""
    from selenium.webdriver.common.by import By

    browser.get(view.url)
    wait_until("the page to show the app list", lambda: seen_in_page(browser, library)[0] == "app_list")
    browser.find_element(By.ID, "show-targets").click()
    wait_until("the app:games target outlined",
               lambda: browser.find_elements(By.CSS_SELECTOR, '.target[data-name="app:games"]'))
    clicked = []
    for name, pages in OPENS.items():
        box = browser.find_elements(By.CSS_SELECTOR, f'.target[data-name="{name}"]')
        if not box:  # not on the screen (the list goes on below it)
            continue
        box[0].click()
        wait_until(f"the page to show {' or '.join(pages)} after a click on the {name} outline",
                   lambda: seen_in_page(browser, library)[0] in pages)
        clicked.append(name)
        browser.find_element(By.CSS_SELECTOR, "#keys button[data-key=back]").click()
        wait_until("the page to show the app list again", lambda: seen_in_page(browser, library)[0] == "app_list")
        wait_until("the app list's outlines drawn again", lambda: browser.find_elements(By.CSS_SELECTOR, '.target[data-name="app:games"]'))
    assert len(clicked) >= 2, f"only {clicked} outlined"
