"""``ocr.edits``: how many letters two readings are apart, what a page's answer read a letter off is judged by."""

from __future__ import annotations

from hypothesis import given, strategies as st

from harness.vision.ocr import edits

words = st.text(alphabet="abcdeflnorty", max_size=12)


@given(words, words)
def test_edits_are_a_distance_bounded_by_the_lengths(a: str, b: str) -> None:
    d = edits(a, b)
    assert d == edits(b, a)
    assert (d == 0) == (a == b)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))


@given(words, words, words)
def test_edits_obey_the_triangle(a: str, b: str, c: str) -> None:
    assert edits(a, c) <= edits(a, b) + edits(b, c)


@given(words, st.integers(0, 12), st.sampled_from("XYZ"))   # (never in ``words``: a change is a change)
def test_one_letter_changed_added_or_taken_away_is_one_edit(word: str, at: int, letter: str) -> None:
    at = min(at, len(word))
    assert edits(word, word[:at] + letter + word[at:]) == 1
    if word:
        i = min(at, len(word) - 1)
        assert edits(word, word[:i] + word[i + 1:]) == 1
        assert edits(word, word[:i] + letter + word[i + 1:]) == 1


def test_known_distances() -> None:
    assert edits("kitten", "sitting") == 3
    assert edits("toctay", "today") == 2
    assert edits("installing", "installed") == 3
