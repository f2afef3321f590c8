"""The vocabulary of the page table: what a page shows and where its buttons go.

A page of the emulated handset is data (``harness.emulator.pages.PAGES``):
a header, a title, a list of parts drawn top to bottom, and for each tappable
widget the place a tap on it leads. ``draw`` lays a page out with the
``PageBuilder``; the UI state machine supplies the phone's state (typed
fields and the values named in texts); the parts only the phone's state can
list are functions of the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Union

from harness.emulator.layout import ITEM_SIZE, PageBuilder


class PageState(Protocol):
    """What the drawing of a page reads from the phone (``PhoneUI`` provides it)."""

    fields: dict[str, str]
    focus: str | None

    def values(self) -> Mapping[str, str]:
        """The values a text may name as ``{name}`` (the account's address, the OS version ...)."""


# ---------------------------------------------------------------------- parts
@dataclass(frozen=True)
class Text:
    """A paragraph; ``{name}`` in it is filled from the phone's state."""

    text: str
    dim: bool = False

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.text(self.text.format_map(state.values()) if "{" in self.text else self.text, dim=self.dim)


@dataclass(frozen=True)
class Field:
    """A labelled text box; its widget id is ``field:WID`` and it shows what was typed into it."""

    wid: str
    label: str
    secret: bool = False

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.field(f"field:{self.wid}", self.label, state.fields.get(self.wid, ""), secret=self.secret,
                focused=state.focus == self.wid)


@dataclass(frozen=True)
class Item:
    """A list entry a tap can reach."""

    wid: str
    text: str
    size: int = ITEM_SIZE
    selected: bool = False

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.item(self.wid, self.text, size=self.size, selected=self.selected)


@dataclass(frozen=True)
class Buttons:
    """The row of buttons at the bottom of the page, as (widget id, label); the first is the primary one."""

    buttons: tuple[tuple[str, str], ...]

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.buttons(*self.buttons)


@dataclass(frozen=True)
class InlineButton:
    """A button in the flow of the page, under the text above it."""

    wid: str
    text: str
    primary: bool = False

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.inline_button(self.wid, self.text, primary=self.primary)


@dataclass(frozen=True)
class Logo:
    """The boot splash."""

    text: str

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.logo(self.text)


@dataclass(frozen=True)
class Tiles:
    """Start-screen tiles, as (widget id, label)."""

    tiles: tuple[tuple[str, str], ...]

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.tiles(list(self.tiles))


@dataclass(frozen=True)
class Arrow:
    """The round 'all apps' arrow of Start."""

    wid: str

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.arrow(self.wid)


@dataclass(frozen=True)
class AppBar:
    """The application bar at the bottom: round icon buttons (widget id, icon) and the '...' that opens labels."""

    buttons: tuple[tuple[str, str], ...]

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.app_bar(self.buttons, expanded=bool(getattr(state, "app_bar_open", False)))


@dataclass(frozen=True)
class Pivot:
    """Pivot headers in place of a title ("system | applications" in Settings): ``active`` and the others dimmed."""

    active: str
    others: tuple[str, ...]

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.pivot(self.active, self.others)


@dataclass(frozen=True)
class Gap:
    """Extra space above the next part, in view pixels."""

    pixels: float

    def draw(self, b: PageBuilder, state: PageState) -> None:
        b.y += self.pixels


@dataclass(frozen=True)
class Section:
    """Parts only the phone's state can list (its accounts, its apps): ``fill(phone, builder)`` draws them."""

    fill: Callable[[Any, PageBuilder], None]

    def draw(self, b: PageBuilder, state: PageState) -> None:
        self.fill(state, b)


@dataclass(frozen=True)
class When:
    """Parts shown while ``holds(phone)`` is true, and others while it is not."""

    holds: Callable[[Any], bool]
    then: tuple["Part", ...]
    otherwise: tuple["Part", ...] = ()

    def draw(self, b: PageBuilder, state: PageState) -> None:
        for part in (self.then if self.holds(state) else self.otherwise):
            part.draw(b, state)


Part = Union[Text, Field, Item, Buttons, InlineButton, Logo, Tiles, Arrow, AppBar, Pivot, Gap, Section, When]


# ---------------------------------------------------------------------- where a tap goes
@dataclass(frozen=True)
class Go:
    """Show ``screen``; ``push=False`` leaves no way back to this page; ``ctx`` is remembered for later pages."""

    screen: str
    push: bool = True
    ctx: tuple[tuple[str, str], ...] = ()


def go(screen: str, push: bool = True, **ctx: str) -> Go:
    return Go(screen, push, tuple(ctx.items()))


@dataclass(frozen=True)
class Do:
    """Run the UI's action ``name`` (it decides where to go: checks, accounts, timers)."""

    name: str


Tap = Union[Go, Do]


# ---------------------------------------------------------------------- a page
@dataclass(frozen=True)
class PageSpec:
    """One screen: what it shows and where each of its widgets leads.

    ``taps`` maps a widget id to where a tap on it goes; a key ``prefix:*``
    stands for every widget id ``prefix:...`` (one per account, say).
    """

    header: str | None = None
    title: str | None = None
    parts: tuple[Part, ...] = ()
    taps: Mapping[str, Tap] = field(default_factory=dict)
    focus: str | None = None   # the field that has the keyboard when the page opens
    enter: str | None = None   # the button the keyboard's enter key presses
    back: bool = True          # the back key leaves this page (not from roots and progress screens)
    history: bool = True       # the page is a place to go back to (transient ones are not)

    def tap(self, wid: str) -> Tap | None:
        """Where a tap on ``wid`` goes, if anywhere."""
        if wid in self.taps:
            return self.taps[wid]
        prefix, sep, _ = wid.partition(":")
        return self.taps.get(f"{prefix}:*") if sep else None


def draw(spec: PageSpec, b: PageBuilder, state: PageState) -> None:
    """Lay out a page from its spec, top to bottom."""
    if spec.header is not None:
        b.header(spec.header)
    if spec.title is not None:
        b.title(spec.title.format_map(state.values()) if "{" in spec.title else spec.title)
    for part in spec.parts:
        part.draw(b, state)



def check_table(pages: Mapping[str, PageSpec], has_action: Callable[[str], bool]) -> None:
    """A ``LookupError`` for the first tap that goes to an unknown screen or runs an unknown action."""
    for screen, spec in pages.items():
        for wid, target in spec.taps.items():
            if isinstance(target, Go) and target.screen not in pages:
                raise LookupError(f"page {screen}: a tap on {wid} goes to unknown screen {target.screen!r}")
            if isinstance(target, Do) and not has_action(target.name):
                raise LookupError(f"page {screen}: a tap on {wid} runs unknown action {target.name!r}")
