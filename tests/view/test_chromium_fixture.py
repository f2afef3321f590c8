"""The shared browser fixture starts a real headless Chromium that loads a page from a local server and runs its script."""

from __future__ import annotations

import http.server
import threading
from typing import Any, Iterator

import pytest

PAGE = b"""<!doctype html><title>fixture</title><p id="out">not run</p>
<script>document.getElementById('out').textContent = 'ran ' + (6 * 7);</script>"""


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """A one-page HTTP server on 127.0.0.1 with an OS-picked port."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_two_chromiums_load_the_page_and_run_its_script(browser: Any, browser_factory: Any, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    second = browser_factory()
    for driver in (browser, second):
        driver.get(page_url)
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "out").text == "ran 42")
    assert browser.title == second.title == "fixture"
