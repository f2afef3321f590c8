"""Step-by-step execution of a flow: wait for a screen, act, log it with its timing and screenshot."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from harness import secret_frames
from harness.artifacts import Artifacts
from harness.errors import HarnessError
from harness.handset import Handset
from harness.secrets import Secret
from harness.vision import Recognition, ScreenLibrary, ScreenTimeout, find_target, wait_for_screen
from harness.vision.keyboard import keyboard_shown

#: Screens that end a sign-in with a failure the handset explains.
FAILURE_SCREENS = ("wrong_password", "unknown_account", "no_network")
#: The least time a page tapped may stay on screen before the tap counts as lost (``FlowRunner.lost_tap_after``).
LOST_TAP_AFTER = 5.0
#: How many times one step taps again a target whose tap looked lost.
LOST_TAPS = 2
#: Share of the frame's height veiled above and below a secret field's middle (a field is 50 of 800 view pixels).
SECRET_ROWS = 0.05


class FlowError(HarnessError):
    """A flow could not go on; names the step, the screen and the screenshot."""

    def __init__(self, message: str, screen: str | None = None, score: float | None = None,
                 screenshot: str | None = None) -> None:
        self.screen, self.score, self.screenshot = screen, score, screenshot
        evidence = f" (screenshot: {screenshot})" if screenshot else ""
        super().__init__(message + evidence)


class SignInFailed(FlowError):
    """The handset showed one of its failure screens (wrong password, unknown account, no network)."""


@dataclass
class Step:
    """One logged step: the screen it saw, what it did, how long it took, its screenshot."""

    index: int
    screen: str
    score: float
    action: str
    seconds: float
    screenshot: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FlowRunner:
    """Runs flow steps against one handset and keeps the record of every step."""

    def __init__(self, handset: Handset, library: ScreenLibrary, artifacts: Artifacts, timeout: float = 20.0,
                 on_step: Callable[[Step], None] | None = None, scale: float | None = None,
                 on_note: Callable[[str], None] | None = None) -> None:
        self.handset = handset
        self.library = library
        self.artifacts = artifacts
        self.timeout = timeout
        self.on_step = on_step
        self.on_note = on_note
        self.scale = scale
        self.steps: list[Step] = []
        self.notes: list[str] = []
        self.last: Recognition | None = None
        self._last_screenshot: str | None = None
        self._touched_since_seen = True  # a tap, key or text went to the handset after the last recognition
        self._slowest_answer = 0.0  # the longest a landed tap left the page tapped on screen, seconds
        self._slowest_poll = 0.0    # the longest a look at an unchanged page took (two screenshots at least)
        self._veils: list[tuple[str, int]] = []  # (screen, veil) of each secret a field of that screen holds

    # ------------------------------------------------------------------ waiting
    def expect(self, *names: str, timeout: float | None = None, failures: bool = True, action: str = "",
               fresh: bool = False) -> Recognition:
        """Wait until the handset shows one of ``names``; a failure screen raises ``SignInFailed``.
        ``fresh``: look at a new frame even when nothing touched the handset since the last one (a list settling)."""
        if not fresh and not self._touched_since_seen and self.last is not None and self.last.screen in names:
            return self.last  # nothing touched the phone since we saw this screen
        started = time.monotonic()
        rec = self._wait(names, timeout or self.timeout, failures)
        return self._seen(rec, names, action or f"saw {rec.screen}", time.monotonic() - started)

    def _wait(self, names: Iterable[str], timeout: float, failures: bool, record: bool = True,
              since: float | None = None) -> Recognition:
        """The next settled screen among ``names`` (and the failure screens); no step is logged."""
        names = list(names)
        wanted = names + ([s for s in FAILURE_SCREENS if s not in names] if failures else [])
        try:
            return wait_for_screen(self.handset, wanted, timeout, library=self.library,
                                   artifacts_dir=self.artifacts.dir, scale=self.scale, since=since)
        except ScreenTimeout as exc:
            if record:
                self.artifacts.record("timeout", expected=names, error=str(exc))
            raise

    def _seen(self, rec: Recognition, names: Iterable[str], action: str, seconds: float, **extra: Any) -> Recognition:
        """Log ``rec`` as this step's screen; a failure screen not among ``names`` raises ``SignInFailed``."""
        names = list(names)
        self.last = rec
        self._touched_since_seen = False
        for screen, token in list(self._veils):  # a secret's field is gone with its page
            if screen != rec.screen:
                secret_frames.release(token)
                self._veils.remove((screen, token))
        self._log_step(rec, action, seconds, **extra)
        if rec.screen in FAILURE_SCREENS and rec.screen not in names:
            raise SignInFailed(f"sign-in failed: the handset shows {rec.screen} (expected {' or '.join(names)})",
                               screen=rec.screen, score=rec.score, screenshot=self._last_screenshot)
        return rec

    @property
    def last_screenshot(self) -> str | None:
        """The screenshot of the last step (evidence for an error a flow raises)."""
        return self._last_screenshot

    def _log_step(self, rec: Recognition, action: str, seconds: float, **extra: Any) -> Step:
        image = getattr(rec, "image", None)
        if image is None:
            image = self.handset.screenshot()
        path = self.artifacts.save_screenshot(image, rec.screen)
        self._last_screenshot = str(path)
        step = Step(len(self.steps) + 1, rec.screen, float(rec.score), action, round(seconds, 3), str(path), extra)
        self.steps.append(step)
        self.artifacts.record("step", index=step.index, screen=step.screen, score=round(step.score, 3),
                              action=step.action, seconds=step.seconds, screenshot=step.screenshot, **extra)
        if self.on_step is not None:
            self.on_step(step)
        return step

    def note(self, text: str) -> None:
        """Say in the step log why the flow takes a turn (e.g. it finishes set-up first); never put a secret here."""
        self.notes.append(text)
        self.artifacts.record("note", after_step=len(self.steps), text=text)
        if self.on_note is not None:
            self.on_note(text)

    # ------------------------------------------------------------------ acting
    def tap(self, rec: Recognition, target: str) -> None:
        try:
            x, y = find_target(rec, target)
        except KeyError:
            raise FlowError(f"screen {rec.screen} has no tap target {target!r}", rec.screen, rec.score,
                            self._last_screenshot) from None
        self.artifacts.record("tap", screen=rec.screen, target=target, x=x, y=y)
        self._touched_since_seen = True
        self.handset.tap(int(round(x)), int(round(y)))

    def tap_at(self, rec: Recognition, point: tuple[float, float], what: str) -> None:
        """Tap a point read from the screen rather than a library target (an entry OCR found in a list)."""
        x, y = (int(round(v)) for v in point)
        self.artifacts.record("tap", screen=rec.screen, target=what, x=x, y=y)
        self._touched_since_seen = True
        self.handset.tap(x, y)

    def lost_tap_after(self) -> float:
        """How long the handset may go on showing the page tapped before the tap counts as lost (tapped again).

        A tap is lost on a real phone when a toast takes it or it lands as a page turn ends (the phone takes no
        input until then); it is not lost while the phone is slow to answer. So this grows with the handset
        seen so far: at least ``LOST_TAP_AFTER``, twice the longest a landed tap left the old page on screen,
        and four looks of the slowest (a camera that takes seconds per frame sees a change seconds late).
        """
        return max(LOST_TAP_AFTER, 2 * self._slowest_answer, 2 * self._slowest_poll)

    def advance(self, screen: str | Iterable[str], target: str, then: Iterable[str], timeout: float | None = None,
                failures: bool = True, retry_after: float | None = None) -> Recognition:
        """On ``screen``, tap ``target`` and wait for one of ``then``, all within ``timeout``.

        The tap counts as lost only while the handset goes on showing ``screen``, settled, for ``retry_after``
        seconds (default: ``lost_tap_after()``) since it; then it is tapped again (at most ``LOST_TAPS`` times).
        A page turning, a screen in between (signing in) or a slow camera is waited for, never tapped twice.
        """
        screens = [screen] if isinstance(screen, str) else list(screen)
        then = list(then)
        if self.last is not None and self.last.screen in screens:
            rec = self.last
        else:
            rec = self.expect(*screens, failures=failures)
        total = timeout or self.timeout
        started = time.monotonic()
        deadline = started + total
        self.tap(rec, target)
        tapped_at, taps, action, shown_for = started, 1, f"tapped {target} on {rec.screen}", 0.0
        while True:
            poll = time.monotonic()
            try:
                if poll < deadline:
                    seen = self._wait([*then, *screens], deadline - poll, failures, record=False, since=tapped_at)
                else:  # the page tapped is still there at the deadline: the last look names what was seen
                    seen = self._wait(then, 0.0, failures, record=False)
            except ScreenTimeout as exc:
                self.artifacts.record("timeout", expected=then, error=str(exc))
                raise ScreenTimeout(then, exc.guess, total, exc.screenshot, exc.stable) from None
            now = time.monotonic()
            if seen.screen not in screens or seen.screen in then:
                self._slowest_answer = max(self._slowest_answer, shown_for)
                return self._seen(seen, then, action, now - started)
            self._slowest_poll = max(self._slowest_poll, now - poll)
            shown_for = now - tapped_at  # the page tapped, settled and still on screen this long after the tap
            if shown_for >= (retry_after or self.lost_tap_after()) and taps <= LOST_TAPS and now < deadline:
                self.artifacts.record("lost_tap", screen=seen.screen, target=target, seconds=round(shown_for, 2))
                self.tap(seen, target)
                action = f"tapped {target} again on {seen.screen} (still there {shown_for:.1f}s after the tap before)"
                tapped_at, taps, shown_for = time.monotonic(), taps + 1, 0.0

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        """Swipe in device pixels (scroll a list, turn a pivot); the next ``expect`` looks again."""
        self.artifacts.record("swipe", x1=x1, y1=y1, x2=x2, y2=y2)
        self._touched_since_seen = True
        self.handset.swipe(x1, y1, x2, y2, duration_ms)

    def press(self, key: str) -> None:
        """Press a hardware key (back, start, search, power)."""
        self.artifacts.record("key", key=key)
        self._touched_since_seen = True
        self.handset.key(key)

    def type_into(self, rec: Recognition, field: str, value: str | Secret, clear: int = 0) -> None:
        """Tap a text field, see the keyboard rise (the phone took the tap), type; secrets are never recorded, and
        no frame kept shows one: while it is typed, its field and the keyboard under it are veiled in every frame
        the run keeps, then its field until the flow sees another screen (``harness.secret_frames``)."""
        secret = isinstance(value, Secret)
        place = self._field_rows(rec, field) if secret else None
        typing = secret_frames.hold(self.artifacts.dir, place and place(True)) if secret else None
        try:
            self.tap(rec, field)
            self._keyboard_risen(rec, field)
            for _ in range(clear):
                self.handset.key("delete")
            self._touched_since_seen = True
            self.handset.text(value)  # a Secret stays one down to the transport, so no error can show it
        finally:
            if secret:  # typed in full or in part, the field may show it from now on
                self._veils.append((rec.screen, secret_frames.hold(self.artifacts.dir, place and place(False))))
            secret_frames.release(typing)
        self.artifacts.record("type", screen=rec.screen, field=field, chars=len(value.reveal()) if secret else len(value),
                              value="[secret]" if secret else value)
        self.close_keyboard(rec.screen)

    def _field_rows(self, rec: Recognition, field: str) -> Callable[[bool], secret_frames.Region] | None:
        """The rows of ``field`` on ``rec``'s frame as a veil (given True: and all under them); None when its place
        is not known (then the whole frame is veiled)."""
        try:
            _, y = find_target(rec, field)
        except (KeyError, HarnessError):  # no place for it (nor OCR to find it by its label): nothing is kept
            return None
        height = rec.image.shape[0] if rec.image is not None else self.handset.screenshot().shape[0]
        return lambda below: secret_frames.band(y, SECRET_ROWS * height, height, below)

    def _keyboard_risen(self, rec: Recognition, field: str) -> None:
        """Wait for the keyboard a tapped field raises; no keyboard for ``lost_tap_after()``: the tap was lost (a
        page turn ending takes no input), so tap the field again. Text typed with no field focused is lost."""
        started = time.monotonic()
        deadline, tapped_at, taps = started + self.timeout, started, 1
        while not keyboard_shown(frame := self.handset.screenshot()):
            now = time.monotonic()
            if now >= deadline or (taps > LOST_TAPS and now - tapped_at >= self.lost_tap_after()):
                path = self.artifacts.save_screenshot(frame, f"{rec.screen}-no-keyboard")
                raise FlowError(f"tapped {field} on {rec.screen} {taps} times, but no on-screen keyboard rose within "
                                f"{now - started:.0f} s", rec.screen, rec.score, str(path))
            if now - tapped_at >= self.lost_tap_after() and taps <= LOST_TAPS:
                self.artifacts.record("lost_tap", screen=rec.screen, target=field, seconds=round(now - tapped_at, 2))
                self.tap(rec, field)
                tapped_at, taps = time.monotonic(), taps + 1
            time.sleep(0.05)

    def close_keyboard(self, screen: str, timeout: float = 10.0) -> None:
        """Close the on-screen keyboard when a fresh frame shows it, as a person does with the back key.

        An 8.1 phone's keyboard rises when a field is tapped and covers the lower part of the page, a page's
        next button among it; a tap there would type a letter. No keyboard shown: nothing is pressed.
        """
        if not keyboard_shown(self.handset.screenshot()):
            return
        self.press("back")
        self.artifacts.record("keyboard", screen=screen, action="closed with the back key")
        deadline = time.monotonic() + timeout
        while keyboard_shown(frame := self.handset.screenshot()):
            if time.monotonic() > deadline:
                path = self.artifacts.save_screenshot(frame, f"{screen}-keyboard")
                raise FlowError(f"the on-screen keyboard still covers {screen} {timeout:.0f} s after the back key",
                                screen, None, str(path))
