"""Pages that show the signed-in account's data (its calendar, feeds, owned and installed apps, gamerscore,
addresses, contacts, mail) are recognised with another account's data than the one the library was recorded
with (issue 15): the recorder marks where a page shows the account's data (``record_screens.varying_regions``)
and the layout comparison leaves it out. Drawn here with accounts of the test's own, richer and sparser than
the demo account, on every profile and theme; every page must be recognised as itself, none as another."""

from __future__ import annotations

import pytest

from harness.lab.frames import screen_frames
from harness.profiles import load_all
from harness.vision import ScreenLibrary

LIBRARY = ScreenLibrary.shared()
ACCOUNTS = """
[[account]]
address = "quentin.longer-address-than-the-demo@outlook.com"
password = "not-used-here"
two_step = true
phone = "+33612345678"
email = "quentin.elsewhere@example.net"
mail = [
  { from = "Ursula", subject = "Minutes" }, { from = "Victor Hugo-Lambert", subject = "Re: the long plan for spring" },
  { from = "Wanda", subject = "Tickets" }, { from = "Xiu", subject = "?" },
]
contacts = [{ name = "Ann" }, { name = "Ben Okafor" }, { name = "Cleo" }, { name = "Dmitri Ivanov" },
            { name = "Eve" }, { name = "Fay" }, { name = "Gus" }, { name = "Hal" }]
events = [
  { title = "Dentist", when = "2026-12-01T08:00" }, { title = "Parents' evening at school", when = "2026-12-02T18:30" },
  { title = "Run", when = "2026-12-03T07:00" }, { title = "Flight home", when = "2026-12-04T21:10" },
  { title = "Budget review", when = "2026-12-05T11:00" }, { title = "Cinema", when = "2026-12-06T20:00" },
  { title = "Brunch", when = "2026-12-07T10:30" },
]
apps = ["whatsapp", "wikipedia", "6tag", "linkedin", "facebook"]
gamerscore = 98765
feeds = [
  { network = "twitter", author = "@ann", text = "Snow at last." },
  { network = "linkedin", author = "Ben Okafor", text = "Ben Okafor started a new job at Contoso as head of design." },
]

[[account]]
address = "sam@hotmail.com"
password = "not-used-either"
two_step = true
phone = "+15550999"
email = "s@example.com"
events = [{ title = "Gym", when = "2026-12-09T06:00" }]
gamerscore = 0
"""
#: the pages that show an account's data, and the phone state beside the account each is drawn with
SCREENS = ("calendar", "whats_new", "store", "app_list", "games", "email_accounts", "mail", "people",
           "account_settings", "account_password", "two_step_choose", "sign_in_again", "reset_choose")
OTHERS = {  # account -> (Outlook.com accounts beside it, apps installed on the phone)
    "quentin.longer-address-than-the-demo@outlook.com": (("erin@outlook.com", "frank.second@hotmail.com"),
                                                         ("whatsapp", "wikipedia", "6tag", "weather flow", "shazam")),
    "sam@hotmail.com": ((), ()),
}

@pytest.mark.parametrize("account", list(OTHERS), ids=["richer", "sparser"])
def test_pages_with_another_accounts_data_are_recognised(account: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS, encoding="utf-8")
    outlook, installed = OTHERS[account]
    missed, wrong, seen = [], [], 0
    for profile in [p.name for p in load_all()]:
        for theme in ("dark", "light"):
            for screen, frame in screen_frames(profile, theme, accounts=accounts, account=account, outlook=outlook,
                                               installed=installed, screens=SCREENS):
                rec, guess = LIBRARY.classify(frame)
                seen += 1
                if rec is None:
                    missed.append(f"{profile}/{theme}/{screen}: unknown ({guess.why()})")
                elif rec.screen != screen:
                    wrong.append(f"{profile}/{theme}/{screen}: taken for {rec.screen} ({guess.why()})")
    assert not wrong, "; ".join(wrong)
    assert not missed, f"{len(missed)} of {seen} unknown: " + "; ".join(missed)
