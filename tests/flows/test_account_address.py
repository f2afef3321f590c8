"""The address an email+accounts entry's second line starts with: OCR may set a space beside the '@' (a 720-wide
ADB screenshot, lumia-1320 dark, read "alice @outlook.com", and ``harness sync`` over ADB listed alice's inbox as
"(address not readable)"). The frame is the one that run saved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from harness.flows.app_lists import read_entries
from harness.flows.inboxes import account_address
from harness.vision import ScreenLibrary


def test_the_address_is_read_with_a_space_beside_its_at_sign() -> None:
    assert account_address("alice @outlook.com : email, contacts, calendar synced") == "alice@outlook.com"
    assert account_address("dave@outlook.com · attention required") == "dave@outlook.com"
    assert account_address("qa.5 @ live.com") == "qa.5@live.com"
    assert account_address("email, contacts, calendar synced") == ""


def test_the_microsoft_account_s_address_on_that_screenshot() -> None:
    image = np.asarray(Image.open(Path(__file__).parent / "frames" / "email_accounts-1320-dark-adb.png").convert("RGB"))
    rec = ScreenLibrary.shared().classify(image)[0]
    assert rec is not None and rec.screen == "email_accounts"
    subs = [e.sub for e in read_entries(rec) if "microsoft" in e.title.lower()]
    assert [account_address(s) for s in subs] == ["alice@outlook.com"], subs
