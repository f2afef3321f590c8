"""`harness view --inventory rack.toml` in a real headless Chromium: every handset of an emulated rack, no lease
taken until a person chooses to drive one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.adb.auth import load_or_create_key
from harness.lab.leases import holder_of, lease_key
from harness.profiles import load_profile
from viewproc import ViewProcess, frames_shown, seen_in_page, wait_until

PROFILES = ("lumia-520", "lumia-630")


@pytest.fixture(scope="module")
def rack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("viewrack")
    load_or_create_key(tmp / "adbkey")
    env = {**os.environ, "HARNESS_ADB_KEY": str(tmp / "adbkey"), "HARNESS_LEASE_DIR": str(tmp / "leases")}
    inventory = tmp / "rack.toml"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--rack", str(len(PROFILES)), "--rack-profiles",
                             ",".join(PROFILES), "--animation-ms", "0", "--boot-time", "0.3",
                             "--inventory-out", str(inventory)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line, proc.stderr.read()  # type: ignore[union-attr]
    view = ViewProcess("--inventory", str(inventory), env=env)
    yield {"inventory": inventory, "env": env, "tmp": tmp, "view": view, "endpoints": json.loads(line)}
    view.stop()
    proc.terminate()
    proc.wait(30)


def _holder(rack: dict[str, Any], name: str) -> Any:
    from harness.lab.inventory import Inventory

    inventory = Inventory.load(rack["inventory"])
    return holder_of(lease_key(inventory.get(name), inventory), Path(rack["env"]["HARNESS_LEASE_DIR"]))


def test_rack_overview_shows_every_handset_and_leases_only_to_drive(rack: dict[str, Any], browser: Any,
                                                                   tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from harness.vision import ScreenLibrary

    from harness.lab.inventory import Inventory

    handsets = {e.name: e for e in Inventory.load(rack["inventory"]).handsets}
    names = sorted(handsets)
    assert len(names) == len(PROFILES)
    view: ViewProcess = rack["view"]
    browser.get(view.url)

    def cards() -> list[dict[str, Any]]:
        return browser.execute_script(
            "return [...document.querySelectorAll('.card')].map(c => ({name: c.dataset.name,"
            " w: c.querySelector('img').naturalWidth, h: c.querySelector('img').naturalHeight,"
            " screen: c.querySelector('.screen').textContent, holder: c.querySelector('.holder').textContent}));")
    def complete() -> list[dict[str, Any]] | None:
        c = cards()
        done = len(c) == len(names) and all(x["w"] and re.fullmatch(r"screen: [a-z_]+ [01]\.\d\d", x["screen"])
                                            and "unknown" not in x["screen"] and x["holder"] for x in c)
        return c if done else None
    shown = wait_until("a live thumbnail, a recognised screen and a lease line for every handset", complete,
                       timeout=90, every=0.3)
    browser.save_screenshot(str(tmp_path / "rack.png"))
    assert sorted(c["name"] for c in shown) == sorted(names)
    for card in shown:
        profile = load_profile(handsets[card["name"]].profile)
        assert (card["w"], card["h"]) == (profile.width, profile.height), f"{card['name']}: thumbnail of another screen"
        assert card["holder"] == "lease: free", card
    assert all(_holder(rack, n) is None for n in names), "watching took a lease"

    # a click opens the handset's page; it watches only until the person chooses to drive
    name = names[-1]
    browser.find_element(By.CSS_SELECTOR, f".card[data-name='{name}']").click()
    # a frame, not several: screenrecord sends one only when the screen changes, and this one is still (its clock
    # turns once a minute). That frames keep coming is the live view's own tests' business.
    wait_until("the handset's page with frames", lambda: frames_shown(browser) >= 1, timeout=60)
    library = ScreenLibrary.load_default()
    screen = wait_until("the handset's page to show a screen vision knows", lambda: seen_in_page(browser, library)[0])
    card_screen = next(c["screen"] for c in shown if c["name"] == name).split()[1]
    assert card_screen == screen, f"the overview said {card_screen}, the handset's page shows {screen}"
    browser.find_element(By.CSS_SELECTOR, "#keys button[data-key=start]").click()
    wait_until("the page to say a watched handset is not driven",
               lambda: "not driven" in browser.find_element(By.ID, "error").text)
    assert _holder(rack, name) is None
    browser.find_element(By.ID, "drive").click()
    holder = wait_until("the view to hold the lease after 'drive'", lambda: _holder(rack, name))
    assert holder.pid == view.proc.pid and "view" in holder.command, holder
    assert _holder(rack, names[0]) is None, "driving one handset leased another"

    # driving: the console's tail and the modem's messages appear beside the screen, codes masked
    from harness.emulator.control import ControlClient

    entry = handsets[name]
    with ControlClient.for_endpoints({"control": entry.control, "control_token": entry.control_token}) as control:
        control.call("sms_send", to=entry.modem_number, body="Microsoft account security code: 739152")
    browser.find_element(By.CSS_SELECTOR, "#keys button[data-key=start]").click()
    wait_until("the console's tail in the page", lambda: "ui: screen" in browser.find_element(By.ID, "console").text)

    def messages() -> str:
        browser.find_element(By.ID, "load-messages").click()
        return wait_until("the modem's messages in the page", lambda: browser.find_element(By.ID, "messages").text)
    text = wait_until("the text message in the page", lambda: "security code" in (t := messages()) and t, every=1.0)
    assert "739152" not in text and "••••••" in text, text


def test_view_of_one_rack_handset_holds_its_lease(rack: dict[str, Any]) -> None:
    from harness.lab.inventory import Inventory

    name = Inventory.load(rack["inventory"]).handsets[0].name
    view = ViewProcess("--device", name, "--inventory", str(rack["inventory"]), env=rack["env"])
    try:
        holder = _holder(rack, name)
        assert holder is not None and holder.pid == view.proc.pid, holder
        status, body = view.get("/snapshot.jpg")
        assert status == 200 and body[:2] == b"\xff\xd8", (status, body[:40])
    finally:
        view.stop()
    assert _holder(rack, name) is None, "the lease outlived harness view --device"
