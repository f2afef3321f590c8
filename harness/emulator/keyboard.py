"""The on-screen keyboard of a Windows Phone 8.1 handset (the SIP), as the emulated UI lays it out.

It rises over the lower part of the page when a text field is tapped (the
field takes focus) and goes when the back key is pressed, a tap lands on the
page outside it, or the page changes; while it is up, a tap on a key types
into the focused field. Two pages of keys, as on an 8.1 phone: letters
(qwerty rows, shift, backspace; ``&123``, comma, space, full stop, enter)
and symbols (digits and punctuation, ``abcd`` back). Shift holds for one
letter; the symbol page stays until ``abcd`` is tapped. The layout is data
here and drawn by the renderer; nothing outside the emulator reads it (a
host finds the keys on the screen, as it would on a real phone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.emulator.layout import VIEW_WIDTH, PageBuilder, Rect, Widget

#: The letter page and the symbol page, top three rows (the fourth row is the same on both).
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
SYMBOL_ROWS = ("1234567890", "@#$%&*-+()", "=!'\":;/?")
#: Height of one row of keys and of the whole keyboard, in view pixels.
ROW_HEIGHT = 74
KEYBOARD_HEIGHT = 4 * ROW_HEIGHT + 16
#: Inset of a key inside its cell (the gap between keys is twice this), in view pixels.
INSET = 3
LETTER_SIZE = 28
MODE_SIZE = 20


@dataclass
class KeyboardState:
    """What the keyboard shows: up or not, shifted, which page."""

    up: bool = False
    shift: bool = False
    symbols: bool = False

    def hide(self) -> None:
        self.up, self.shift, self.symbols = False, False, False


def keyboard_top(view_height: int) -> float:
    """Where the keyboard's band starts, in view pixels from the top."""
    return view_height - KEYBOARD_HEIGHT


def _rows(state: KeyboardState) -> list[list[tuple[str, str, float]]]:
    """Each row as (widget id, label, width in key units); ten units across."""
    top = SYMBOL_ROWS if state.symbols else LETTER_ROWS
    shown = (lambda ch: ch.upper()) if state.shift and not state.symbols else (lambda ch: ch)
    rows: list[list[tuple[str, str, float]]] = [[(f"key:{ch}", shown(ch), 1.0) for ch in row] for row in top[:2]]
    third = [(f"key:{ch}", shown(ch), 1.0) for ch in top[2]]
    if state.symbols:
        rows.append(third + [("key:backspace", "", 10.0 - len(third))])
    else:
        side = (10.0 - len(third)) / 2
        rows.append([("key:shift", "", side)] + third + [("key:backspace", "", side)])
    rows.append([("key:mode", "abcd" if state.symbols else "&123", 1.5), ("key:,", ",", 1.0), ("key:space", "", 5.0),
                 ("key:.", ".", 1.0), ("key:enter", "", 1.5)])
    return rows


def draw_keyboard(b: PageBuilder, state: KeyboardState) -> None:
    """Add the keyboard's band and keys to a laid-out page while it is up (last, so it covers the page)."""
    if not state.up:
        return
    top = keyboard_top(b.view_height)
    unit = VIEW_WIDTH / 10
    # Under everything: a tap on the page outside the keyboard (and outside any widget) closes it.
    b.page.widgets.insert(0, Widget("backdrop", Rect(0, 0, VIEW_WIDTH, b.view_height), id="page"))
    # The band catches taps on the gaps between keys: they type nothing and do not reach the page below.
    b.page.widgets.append(Widget("keyboard", Rect(0, top, VIEW_WIDTH, KEYBOARD_HEIGHT), id="keyboard"))
    for r, row in enumerate(_rows(state)):
        width = sum(units for _, _, units in row)
        x = (VIEW_WIDTH - width * unit) / 2
        y = top + 8 + r * ROW_HEIGHT
        for wid, label, units in row:
            special = len(wid) != 5 and wid != "key:space"  # shift, backspace, the page key, enter
            rect = Rect(x + INSET, y + INSET, units * unit - 2 * INSET, ROW_HEIGHT - 2 * INSET)
            b.page.widgets.append(Widget("key", rect, label, id=wid, sub=wid[4:],
                                         size=MODE_SIZE if wid == "key:mode" else LETTER_SIZE,
                                         dim=special,
                                         selected=wid == "key:shift" and state.shift))
            x += units * unit


def press_key(state: KeyboardState, name: str) -> tuple[str, str]:
    """What a tap on key ``name`` does: ("text", chars), ("delete", ""), ("enter", "") or ("", "") for a mode key."""
    if name == "shift":
        state.shift = not state.shift
        return "", ""
    if name == "mode":
        state.symbols, state.shift = not state.symbols, False
        return "", ""
    if name == "backspace":
        return "delete", ""
    if name == "enter":
        return "enter", ""
    if name == "space":
        return "text", " "
    char = name.upper() if state.shift and not state.symbols else name
    state.shift = False
    return "text", char


def keyboard_tap(ui: Any, wid: str) -> bool:
    """Act on a tap the keyboard owns (a text field, a key, a gap between keys, the page outside the keyboard);
    False for any other.

    ``ui`` is the phone's UI: its ``keyboard`` state, and ``text``, ``delete`` and ``enter`` as for ADB input.
    """
    if wid.startswith("field:"):  # the field takes focus and the keyboard rises
        ui.focus = wid.split(":", 1)[1]
        ui.keyboard.up = True
    elif wid == "page":
        ui.keyboard.hide()
    elif wid.startswith("key:"):
        what, chars = press_key(ui.keyboard, wid[4:])
        if what == "text":
            ui.text(chars)
        elif what == "delete":
            ui.delete()
        elif what == "enter":
            ui.enter()
    elif wid != "keyboard":
        return False
    return True
