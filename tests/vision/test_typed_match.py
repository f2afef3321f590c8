"""The comparison of a field's OCR readings with the text typed: OCR's confusions are not typing errors, and a
typing error (a key lost, a key taken twice, a neighbouring key hit) is never taken for the text typed.

The readings are made here from what the field shows through a model of OCR on camera frames written from
what Tesseract was seen to do on them (bench seeds 842483, 111167, 997668, 156837, 31337, 520520, 704211, 9001,
both themes): an i read as l or t, an r as t, an l as i or 1, an o as 0, an '@' as B, S, 8 or &, rn as m, a
full stop dropped or a space added, now and then the first letter lost at the field's edge; each reading
errs on its own. The keyboard's neighbours are this file's own (the rows as a person sees them), not the code's.
"""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from harness.vision.typed_match import cost, fold, judge

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
#: What OCR was seen to read a glyph as, through a camera's blur.
OCR_SEEN = {"i": "lt1", "l": "i1I", "r": "t", "t": "r", "o": "0", "0": "o", "@": "BS8&", "e": "c", "c": "e",
            "1": "l", "a": "e"}
READINGS = 9


def _neighbours(ch: str) -> str:
    """Keys beside ``ch`` in its row, and the two of the row below a key of the top row sits over (the second
    row stands half a key in): q over a, w over a and s, ..."""
    out = []
    for r, row in enumerate(ROWS):
        if ch in row:
            i = row.index(ch)
            out += [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r == 0:
                out += [ROWS[1][j] for j in (i - 1, i) if 0 <= j < len(ROWS[1])]
            if r == 1:
                out += [ROWS[0][j] for j in (i, i + 1)]
    return "".join(out)


def _ocr(shown: str, rng: random.Random, slips: float = 0.06) -> str:
    """One reading of a field showing ``shown``."""
    out = []
    for i, ch in enumerate(shown):
        if i == 0 and rng.random() < 0.05:
            continue  # the first glyph lost at the field's edge
        if ch == "." and rng.random() < 0.3:
            continue
        if ch == "r" and i + 1 < len(shown) and shown[i + 1] == "n" and rng.random() < slips:
            out.append("m")
            continue
        if ch == "n" and out and out[-1] == "m" and i > 0 and shown[i - 1] == "r":
            continue
        if ch in OCR_SEEN and rng.random() < slips:
            out.append(rng.choice(OCR_SEEN[ch]))
        else:
            out.append(ch)
        if rng.random() < 0.03:
            out.append(" ")
    return "".join(out)


addresses = st.builds(lambda user, digits, host: f"{user}{digits}@{host}.com",
                      st.text(alphabet="abcdefghijklmnopqrstuvwxyz.", min_size=3, max_size=12).filter(
                          lambda u: u[0] != "." and u[-1] != "." and ".." not in u),
                      st.text(alphabet="0123456789", max_size=4),
                      st.sampled_from(["outlook", "hotmail", "example", "live"]))


@settings(max_examples=40, derandomize=True, deadline=None)
@given(addresses, st.integers(0, 2**32 - 1))
def test_what_was_typed_is_taken_through_ocrs_confusions(typed: str, seed: int) -> None:
    rng = random.Random(seed)
    readings = [_ocr(typed, rng) for _ in range(READINGS)]
    verdict = judge(readings, typed)
    assert verdict.shown, f"{typed!r} not taken from {readings} (closest error {verdict.rival!r}, {verdict.advantage:.2f})"


def _typing_error(typed: str, rng: random.Random) -> str:
    """``typed`` with one typing error: a key lost, a key taken twice, a neighbouring key instead (not a full
    stop: OCR does not tell those, the field's ink does, ``test_field_marks``)."""
    places = [i for i, ch in enumerate(typed) if ch != "."]
    while True:
        i = rng.choice(places)
        how = rng.choice(("lost", "twice", "neighbour"))
        if how == "lost":
            wrong = typed[:i] + typed[i + 1:]
        elif how == "twice":
            wrong = typed[:i] + typed[i] + typed[i:]
        elif _neighbours(typed[i]):
            wrong = typed[:i] + rng.choice(_neighbours(typed[i])) + typed[i + 1:]
        else:
            continue
        if fold(wrong) != fold(typed):
            return wrong


@settings(max_examples=40, derandomize=True, deadline=None)
@given(addresses, st.integers(0, 2**32 - 1))
def test_a_typing_error_is_never_taken_for_what_was_typed(typed: str, seed: int) -> None:
    rng = random.Random(seed)
    shown = _typing_error(typed, rng)
    readings = [_ocr(shown, rng) for _ in range(READINGS)]
    verdict = judge(readings, typed)
    assert not verdict.shown, f"the field shows {shown!r}, taken for {typed!r} from {readings}"


def test_two_typing_errors_and_an_unread_field_are_not_what_was_typed() -> None:
    typed = "irina@outlook.com"
    assert not judge(["irna@outlok.com"] * READINGS, typed).shown
    assert not judge(["irina@outlook.com.au"] * READINGS, typed).shown
    assert not judge(["* tii se 4)"] * READINGS, typed).shown
    assert not judge([""], typed).shown and not judge([], typed).shown and not judge(["x"], "").shown


def test_readings_of_camera_frames() -> None:
    # Bench seed 842483 dark, irina@outlook.com typed right: most ways read the r, some read it as t (a
    # neighbouring key: 'itina' would be a typing error, had most ways read it)
    right = ['irina@outlook.com', 'irina@outlook.com', 'irina@outlook.com', 'irina@outlook.cam', 'irina@outlook.com:',
             'irina@outlook.com', 'irina@outlook.com', 'irina@outlook.com', 'itina@outtlook.com']
    assert judge(right, "irina@outlook.com").shown
    # the same bench with the r typed as t (a neighbour): every way reads it
    assert not judge(['itina@outlook.com'] * 7 + ['irina@outlook.com'] * 2, "irina@outlook.com").shown
    # the same bench, 'o' lost from outlook: the r/t slips of each way do not hide it
    lost = ['itina@outlok.com'] * 5 + ['irina@outlok.com'] * 4
    verdict = judge(lost, "irina@outlook.com")
    assert not verdict.shown and verdict.rival in ("irina@outlokcom", "itina@outlookcom"), verdict
    # an '@' blurred into B or S is read as typed; one not there is a key lost
    assert judge(["alice Soutlook.com", "alice Boutiook. com", "alice@outlook.com"] * 3, "alice@outlook.com").shown
    assert not judge(["alice outlook com", "aliceoutlook.com", "alice outiook.com"] * 3, "alice@outlook.com").shown


def test_ocrs_confusions_cost_less_than_an_edit() -> None:
    assert cost("m", "rn") == cost("rn", "m") < 1 and cost("outiook", "outlook") < 1
    assert cost("outlok", "outlook") == 1 and cost("outlook", "outlook") == 0
    assert fold("Alice @outlook. com") == "alice@outlookcom"
