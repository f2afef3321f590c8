"""The accounts file's mail, contacts, events, apps, gamerscore and feeds: read, and refused in one line when wrong."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest

from harness.emulator.accounts import load_accounts
from harness.errors import ConfigError

HEAD = '[[account]]\naddress = "erin@outlook.com"\npassword = "pw-1"\n'


def _load(tmp_path, body: str):
    path = tmp_path / "accounts.toml"
    path.write_text(HEAD + body)
    return path, load_accounts(path)


def test_every_kind_of_data_is_read(tmp_path) -> None:
    _, (erin,) = _load(tmp_path, '''
mail = [{ from = "Ann", subject = "first", body = "hello" }, { from = "Ben", subject = "second" }]
contacts = [{ name = "Ann Lee", phone = "+15550111" }, { name = "Ben Ode" }]
events = [{ title = "Dentist", when = "2026-12-01T09:30" }]
apps = ["Netflix", "shazam"]
gamerscore = 1250
feeds = [{ network = "twitter", author = "@ann", text = "at the beach" },
         { network = "linkedin", author = "Ben Ode", text = "new job" }]
''')
    assert [(m.sender, m.subject, m.body) for m in erin.mail] == [("Ann", "first", "hello"), ("Ben", "second", "")]
    assert erin.mail[0].seq < erin.mail[1].seq  # file order is arrival order
    assert [(c.name, c.phone) for c in erin.contacts] == [("Ann Lee", "+15550111"), ("Ben Ode", "")]
    assert erin.events[0].title == "Dentist" and erin.events[0].when == datetime(2026, 12, 1, 9, 30)
    assert erin.apps == ["netflix", "shazam"] and erin.gamerscore == 1250
    assert [(f.network, f.author) for f in erin.feeds] == [("twitter", "@ann"), ("linkedin", "Ben Ode")]


def test_an_account_without_data_has_none(tmp_path) -> None:
    _, (erin,) = _load(tmp_path, "")
    assert (erin.mail, erin.contacts, erin.events, erin.apps, erin.gamerscore, erin.feeds) == ([], [], [], [], 0, [])


@pytest.mark.parametrize("body, field, words", [
    ('mail = "hello"', "account[1].mail", "expected a list, got str"),
    ('mail = [{ from = "Ann" }]', "account[1].mail[1].subject", "missing"),
    ('mail = [{ from = "Ann", subject = "s", sent = "x" }]', "account[1].mail[1].sent", "unknown key"),
    ('mail = [{ from = "Ann", subject = 3 }]', "account[1].mail[1].subject", "expected a string, got int"),
    ('mail = ["hello"]', "account[1].mail[1]", "expected a table like { from = ..., subject = ... }, got str"),
    ('contacts = [{ name = "" }]', "account[1].contacts[1].name", "missing"),
    ('events = [{ title = "x", when = "tomorrow" }]', "account[1].events[1].when",
     "'tomorrow': expected a date and time like 2026-12-01T09:30"),
    ('events = [{ title = "x", when = "2026-12-01T09:30" }, { title = "y" }]', "account[1].events[2].when", "missing"),
    ('apps = ["a", 3]', "account[1].apps[2]", "expected an app's name, got 3"),
    ('apps = ["Netflix", "netflix"]', "account[1].apps[2]", "duplicate app 'netflix'"),
    ('gamerscore = "lots"', "account[1].gamerscore", "expected an integer, got str"),
    ('gamerscore = true', "account[1].gamerscore", "expected an integer, got bool"),
    ('gamerscore = -5', "account[1].gamerscore", "-5: expected 0 or more"),
    ('feeds = [{ network = "myspace", author = "a", text = "b" }]', "account[1].feeds[1].network",
     "'myspace': expected one of twitter, linkedin"),
])
def test_a_wrong_entry_is_one_line_naming_the_field(tmp_path, body: str, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, body + "\n")
    message = str(info.value)
    assert "\n" not in message
    assert message == f"{tmp_path / 'accounts.toml'}: {field}: {words}" or (
        message.startswith(f"{tmp_path / 'accounts.toml'}: {field}: ") and words in message), message


def test_harness_emulate_refuses_a_bad_entry_in_one_line(tmp_path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(HEAD + 'events = [{ title = "x", when = "soon" }]\n')
    bad = subprocess.run([sys.executable, "-m", "harness", "emulate", "--accounts", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0, bad.stderr
    assert f"{path}: account[1].events[1].when: 'soon'" in bad.stderr


def test_the_demo_accounts_carry_some_of_each() -> None:
    from harness.emulator.accounts import DEMO_ACCOUNTS

    accounts = {a.address: a for a in load_accounts(DEMO_ACCOUNTS)}
    alice = accounts["alice@outlook.com"]
    assert len(alice.mail) >= 3 and len(alice.contacts) >= 3 and len(alice.events) >= 2
    assert alice.apps and alice.gamerscore > 0 and {f.network for f in alice.feeds} == {"twitter", "linkedin"}
