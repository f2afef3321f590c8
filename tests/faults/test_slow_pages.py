"""A slow but alive handset, through a real ADB link (``adbproxy.py``): pages that turn slowly, taps it loses,
screenshots that take seconds.

A phone takes no input while a page turns, and a turn eases out: its last part
looks settled. With 2 s turns the flows once tapped there, the taps were lost
and the e-mail address typed into nothing. Here ``harness signin`` signs a
two-step account in during set-up on such a phone, through a proxy that also
loses two taps on purpose (a page's button and a text field): the sign-in must
end signed in, each lost tap tapped again once, and no other tap sent twice
(counted at the proxy, against the taps the set-up path needs).

A handset whose screenshots take 3-4 s each (the proxy sends its bytes slowly)
is still seen, and a wait for a screen it does not show ends by the wait's
deadline plus ``SCREENSHOT_GRACE`` with a ``ScreenTimeout`` naming what it saw.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from adbproxy import AdbProxy, TapDropper
from faultlab import FaultLab

#: the page turn of this phone, ms (a phone under load turns its pages in 1-3 s)
TURN_MS = 2000
#: what the set-up path taps on a two-step account, in order (its pages, from the handset's help page)
SETUP_TAPS = ["next", "accept", "recommended", "next", "sign_in", "field:email", "next", "field:password", "sign_in",
              "text", "next", "field:code", "next", "next"]
#: the taps the proxy loses, counted as they reach it (a tap sent again counts too): a page's button (the 2nd,
#: accept on setup_terms) and a text field (the 7th: the e-mail's, after accept sent again)
DROPPED = {2, 7}


#: bytes per second the proxy sends a handset's answers at: a 480x800 frame (1.5 MB raw) in about 3.5 s
SLOW_LINK = 440_000


@pytest.fixture
def slow_handset(fault: FaultLab, tmp_path: Path) -> tuple[object, dict[str, str]]:
    from harness.adb.auth import load_or_create_key

    key = tmp_path / "adbkey"
    load_or_create_key(key)
    emulated = fault.emulate("--profile", "lumia-520", "--adb-key", f"{key}.pub", "--animation-ms", str(TURN_MS),
                             "--boot-time", "0.3")
    return emulated, {"HARNESS_ADB_KEY": str(key), "HARNESS_PASSWORD": "correct-horse-battery"}


def test_a_two_step_sign_in_on_slow_page_turns_retaps_only_the_taps_the_phone_lost(fault: FaultLab, slow_handset,
                                                                                  tmp_path: Path) -> None:
    emulated, env = slow_handset
    dropper = TapDropper(DROPPED)
    with AdbProxy(int(emulated.endpoints["adb"].rsplit(":", 1)[1]), rewrite=dropper) as proxy:
        run = fault.run("signin", "--handset", proxy.uri, "--account", "alice@outlook.com", "--modem",
                        emulated.endpoints["modem"], "--artifacts", str(tmp_path / "art"), "--timeout", "30",
                        deadline=240, env=env)
    assert run.rc == 0, run.describe()
    assert "signed in as alice@outlook.com" in run.stdout and "two-step" in run.stdout, run.stdout
    assert len(dropper.dropped) == len(DROPPED), f"the proxy lost {len(dropper.dropped)} taps, not {len(DROPPED)}"
    # every tap the set-up path needs, and one more for each tap lost: none sent twice while a page turned
    assert dropper.taps == len(SETUP_TAPS) + len(DROPPED), \
        f"expected {len(SETUP_TAPS)} taps and {len(DROPPED)} again; the phone got {dropper.taps}:\n{run.stdout}"
    (folder,) = [p for p in (tmp_path / "art").iterdir() if p.is_dir()]
    events = [json.loads(line) for line in (folder / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    lost = [(e["screen"], e["target"]) for e in events if e["kind"] == "lost_tap"]
    assert lost == [("setup_terms", "accept"), ("account_email", "field:email")], lost
    typed = [e["field"] for e in events if e["kind"] == "type"]
    assert typed == ["field:email", "field:password", "field:code"], typed
    state = fault_state(emulated)
    assert state["ms_account"] == "alice@outlook.com" and state["screen"] == "start", state


def fault_state(emulated: object) -> dict:
    """What the phone holds, from its control socket (the test's ground truth, never the harness's)."""
    from harness.emulator.control import ControlClient

    with ControlClient.for_endpoints(emulated.endpoints) as control:  # type: ignore[attr-defined]
        return control.call("state")["state"]


def test_a_screen_wait_on_a_handset_with_slow_screenshots_ends_by_its_deadline_and_grace(fault: FaultLab,
                                                                                          tmp_path: Path) -> None:
    from harness.adb.auth import load_or_create_key
    from harness.handsets import connect_handset
    from harness.vision.matcher import ScreenLibrary
    from harness.vision.wait import SCREENSHOT_GRACE, ScreenTimeout, wait_for_screen

    key = tmp_path / "adbkey"
    load_or_create_key(key)
    emulated = fault.emulate("--profile", "lumia-520", "--adb-key", f"{key}.pub", "--animation-ms", "0",
                             "--boot-time", "0.3", "--screen", "about")
    library = ScreenLibrary.load_default()  # compiling it is not the handset's time (see test_dead_device.py)
    with AdbProxy(int(emulated.endpoints["adb"].rsplit(":", 1)[1]), down_rate=SLOW_LINK) as proxy:
        handset = connect_handset(proxy.uri, timeout=30, key_path=str(key))
        try:
            started = time.monotonic()
            assert wait_for_screen(handset, "about", timeout=30, library=library).screen == "about"  # alive
            one = (time.monotonic() - started) / 2  # two screenshots alike at least
            assert one >= 2.5, f"expected a screenshot to take 3-4 s through the slow link; took {one:.1f}s"
            started = time.monotonic()
            with pytest.raises(ScreenTimeout) as info:
                wait_for_screen(handset, "email_accounts", timeout=2, library=library, artifacts_dir=tmp_path)
            elapsed = time.monotonic() - started
            assert wait_for_screen(handset, "about", timeout=30, library=library).screen == "about"  # still usable
        finally:
            handset.close()
    print(f"one screenshot {one:.1f}s; the 2 s wait ended after {elapsed:.1f}s")
    # the grace cuts the look under way at 2 + SCREENSHOT_GRACE s; the error's evidence (a guess, a PNG) is made after
    assert 2 <= elapsed <= 2 + SCREENSHOT_GRACE + 1, \
        f"expected the 2 s wait over by {2 + SCREENSHOT_GRACE:g}s (screenshots of {one:.1f}s); took {elapsed:.1f}s"
    error = info.value
    assert error.expected_screens == ["email_accounts"] and "best guess about" in str(error), str(error)
    assert error.screenshot is not None and error.screenshot.parent == tmp_path and error.screenshot.exists()


def test_a_wait_takes_the_next_page_only_once_a_slow_turn_between_alike_pages_has_ended(fault: FaultLab,
                                                                                       tmp_path: Path) -> None:
    """Light theme, 3 s turns, the e-mail page into the password page: mid-turn the blend of the two differs little
    from frame to frame over the whole screen and was once taken for the password page (0.64) 0.6 s after the
    tap; the phone took no input then. Each wait must return only once the phone says its turn is over (its
    control socket's ``animating``: the test's ground truth)."""
    from harness.adb.auth import load_or_create_key
    from harness.handsets import connect_handset
    from harness.vision import find_target
    from harness.vision.matcher import ScreenLibrary
    from harness.vision.wait import wait_for_screen

    key = tmp_path / "adbkey"
    load_or_create_key(key)
    emulated = fault.emulate("--profile", "lumia-1320", "--theme", "light", "--adb-key", f"{key}.pub",
                             "--animation-ms", "3000", "--boot-time", "0.3", "--screen", "account_email")
    library = ScreenLibrary.load_default()
    handset = connect_handset(f"adb-tcp://{emulated.endpoints['adb']}", timeout=30, key_path=str(key))
    try:
        rec = wait_for_screen(handset, "account_email", timeout=30, library=library)
        handset.tap(*(int(v) for v in find_target(rec, "field:email")))
        handset.text("alice@outlook.com")
        handset.key("back")
        for page, target, then in (("account_email", "next", "account_password"),
                                   ("account_password", "back", "account_email")):
            rec = wait_for_screen(handset, page, timeout=30, library=library)
            tapped = time.monotonic()
            if target == "back":
                handset.key("back")
            else:
                handset.tap(*(int(v) for v in find_target(rec, target)))
            rec = wait_for_screen(handset, then, timeout=30, library=library)
            seen_after = time.monotonic() - tapped
            state = fault_state(emulated)
            assert not state["animating"], \
                f"the wait took {then} ({rec.score:.2f}) {seen_after:.2f}s after the tap, while the page still turned"
            assert state["screen"] == then, state["screen"]
    finally:
        handset.close()
