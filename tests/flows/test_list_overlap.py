"""Where one screenful of a list ends and the next begins by the readings alone (``list_scroll.new_entries``, used
when the move between them was not measured surely), with the readings a camera gave: a dim line read whole on one
screenful and half washed out by glare on the next must not list the inbox's mails twice over, and a list whose
senders repeat is not taken for an overlap by its senders alone."""

from __future__ import annotations

from harness.flows.list_scroll import Entry, new_entries
from harness.vision.definitions import Box

AT = Box(0, 0, 10, 10)


def entries(*pairs: tuple[str, str]) -> list[Entry]:
    return [Entry(title, sub, AT) for title, sub in pairs]


def test_an_overlap_read_otherwise_on_the_second_screenful_is_not_listed_twice() -> None:
    # lumia-630 light, bench 12: two of the four mails in both screenfuls were read differently on each
    seen = entries(("Contoso Travel", "Check in now"), ("Bob Smith", "Re: Lunch on Friday?"),
                   ("Windows Phone Store", "Your receipt"), ("Petrova", "Photos"), ("Outlook.com", "Welcome en)"),
                   ("Fabrikam Bank", "Your statement is ready"), ("Dave Jones", "Book ciub: December pick"),
                   ("Xbox", "New achievements unlocked"))
    page = entries(("Outlook.com Team", "Weicome to Outlook.com"), ("Fabrikam Bank", "Your statement is ready"),
                   ("Dave Jones", "Book club: December pick"), ("Xbox", "°° i locked"), ("Carol White", "Quarterly"),
                   ("OneDrive", "Your photos are backed up"), ("Bob Smith", "Lunch on Friday?"),
                   ("Contoso Travel", "Your trip to Lisbon"))
    assert [e.title for e in new_entries(seen, page)] == ["Carol White", "OneDrive", "Bob Smith", "Contoso Travel"]


def test_senders_that_repeat_with_other_subjects_are_new_mail() -> None:
    seen = entries(("Newsletter", "Issue 1"), ("Newsletter", "Issue 2"), ("Newsletter", "Issue 3"))
    page = entries(("Newsletter", "Issue 4 is out"), ("Newsletter", "Sale ends today"),
                   ("Newsletter", "Your weekly digest"), ("Newsletter", "Issue 7"))
    assert len(new_entries(seen, page)) == 4


def test_an_overlap_read_alike_is_dropped_and_a_page_with_none_is_kept() -> None:
    seen = entries(("Bob Smith", "Lunch"), ("Carol White", "Report"))
    assert new_entries(seen, entries(("Carol White", "Report"), ("Dave Jones", "Book club"))) == \
        entries(("Dave Jones", "Book club"))
    assert new_entries(seen, entries(("Dave Jones", "Book club"))) == entries(("Dave Jones", "Book club"))
