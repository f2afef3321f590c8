"""Fixtures every test folder shares: a real headless Chromium (Debian's ``chromium`` through its ``chromium-driver``).

The live view (``harness view``) and the timeline are pages a person opens in a
browser, so their tests drive a real one through Selenium. Starting Chromium
costs about a second of CPU: ``browser`` is one per test module, and
``browser_factory`` starts more (two viewers at once) that end with the module.
On this machine's closed network Chromium hangs on its background services
unless they are switched off, hence the flags below.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Flags without which Chromium waits on the network (update checks, sync, QUIC probes) or on a GPU it lacks.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1024")
#: Upper bound for a page load or a script in the page.
PAGE_TIMEOUT = 60.0


def start_chromium(profile_dir: Path) -> Any:
    """A headless Chromium with a fresh profile in ``profile_dir``, driven through Debian's chromedriver.

    Skips the test, naming the Debian package, when either program is missing (``scripts/setup`` installs them).
    """
    for program, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not shutil.which(program):
            pytest.skip(f"{program} is missing: install Debian's {package} (scripts/setup does)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is missing: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # given, with the driver's path, so Selenium Manager never looks online
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(profile_dir.parent / f"{profile_dir.name}.driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    driver.set_script_timeout(PAGE_TIMEOUT)
    return driver


# Python's bytecode cache, for this run and every process it starts: a shell that sets PYTHONDONTWRITEBYTECODE
# (this machine's does) makes each xdist worker, emulator and CLI the suite starts compile every module it imports
# again, and pytest rewrite the asserts of the whole package (its plugin's) in every worker. On 16 sign-in flows
# that was a fifth of their CPU (79 s against 63 s, the same tests at -n 4).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

#: xdist workers per CPU for ``-n auto``. Most of the suite waits on devices (an emulator booting, a modem's
#: delay, a deadline being reached): a full run used about 0.6 of its 2 CPUs, so one worker per CPU left the
#: machine idle. Set PYTEST_XDIST_AUTO_NUM_WORKERS to choose the number yourself.
WORKERS_PER_CPU = 2


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: two workers per CPU (see WORKERS_PER_CPU); None leaves xdist's own count."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus * WORKERS_PER_CPU)


@pytest.fixture(scope="module")
def browser_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Any]]:
    """Start a headless Chromium (Selenium WebDriver) per call; every one quits when the module ends."""
    started: list[Any] = []

    def start() -> Any:
        driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.quit()


@pytest.fixture(scope="module")
def browser(browser_factory: Callable[[], Any]) -> Any:
    """One headless Chromium for the test module (Selenium WebDriver); it quits when the module ends."""
    return browser_factory()
