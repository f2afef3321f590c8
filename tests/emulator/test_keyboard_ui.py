"""The on-screen keyboard of the emulated 8.1 handset: it rises when a field is tapped, covers the lower part of
the page, types what its keys say (shift for one letter, the symbol page until abcd) and goes with the back key,
a tap on the page outside it, or a new page; ADB text keeps typing into the focused field."""

from __future__ import annotations

from ui_rig import BOB, Rig


def _ids(rig: Rig) -> set[str]:
    return {w.id for w in rig.ui.page(800).widgets if w.id}


def _tap_keys(rig: Rig, *keys: str) -> None:
    for key in keys:
        rig.tap(f"key:{key}")


def test_a_tapped_field_raises_the_keyboard_over_the_next_button_and_its_keys_type() -> None:
    rig = Rig()
    rig.ui.go("account_email")
    assert not any(i.startswith("key:") for i in _ids(rig)), "the keyboard is up before a field was tapped"
    rig.tap("field:email")
    page = rig.ui.page(800)
    keys = {w.id: w.rect for w in page.widgets if w.id and w.id.startswith("key:")}
    assert {"key:q", "key:p", "key:a", "key:l", "key:z", "key:m", "key:shift", "key:backspace", "key:mode",
            "key:space", "key:enter", "key:,", "key:."} <= set(keys)
    nxt = page.widget("next")
    assert nxt is not None and page.hit(*nxt.rect.center).id != "next", "the next button is not covered"
    assert min(r.y for r in keys.values()) > 400, "the keyboard is not on the lower part of the screen"
    _tap_keys(rig, "shift", "b", "o", "b", "mode", "@", "mode", "o", "shift", "x")
    assert rig.ui.fields["email"] == "Bob@oX"
    _tap_keys(rig, "backspace", "backspace", "space", "mode", "1", "&", "-", "=", "?", "mode", ",", ".")
    assert rig.ui.fields["email"] == "Bob@ 1&-=?,."
    rig.ui.text("!")  # ADB input text types into the focused field, keyboard up or not
    assert rig.ui.fields["email"].endswith(".!")


def test_back_and_a_tap_outside_close_the_keyboard_and_enter_presses_the_page_button() -> None:
    rig = Rig()
    rig.ui.go("account_email")
    rig.tap("field:email")
    rig.ui.back()
    assert rig.ui.screen == "account_email" and "key:q" not in _ids(rig), "back left the page or kept the keyboard"
    rig.tap("field:email")
    rig.tap("page")  # the page outside the keyboard and its fields
    assert "key:q" not in _ids(rig) and "next" in _ids(rig)
    rig.tap("field:email")
    rig.ui.text(BOB)
    rig.tap("keyboard")  # a gap between keys types nothing
    assert rig.ui.fields["email"] == BOB
    rig.tap("key:enter")
    assert rig.ui.screen == "account_password" and "key:q" not in _ids(rig), "a new page keeps the keyboard"
