"""A handset whose pages turn slowly, and taps it loses, through a real ADB link (``adbproxy.py``).

A phone takes no input while a page turns, and a turn eases out: its last part
looks settled. With 2 s turns the flows once tapped there, the taps were lost
and the e-mail address typed into nothing. Here ``harness signin`` signs a
two-step account in during set-up on such a phone, through a proxy that also
loses two taps on purpose (a page's button and a text field): the sign-in must
end signed in, each lost tap tapped again once, and no other tap sent twice
(counted at the proxy, against the taps the set-up path needs).
"""

from __future__ import annotations

import json
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

    return ControlClient.for_endpoints(emulated.endpoints).call("state")["state"]  # type: ignore[attr-defined]
