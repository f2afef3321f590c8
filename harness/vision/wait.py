"""Waiting for a screen: stable (not mid-animation), recognised, one of the expected ones."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

import cv2
import numpy as np
from PIL import Image

from harness.deadline import within
from harness.errors import HarnessTimeout
from harness.vision.features import Frame, to_gray, working_factor
from harness.vision.matcher import Guess, Recognition, ScreenLibrary

#: Mean grey difference (0..255, working pixels; of each block's signed mean) under which two frames count as the same.
STABLE_DIFF = 1.5
#: Two frames also differ when more than MOVED_SHARE of their BLOCK x BLOCK working-pixel blocks differ by
#: MOVED_BLOCK grey levels on average: a page turning between two pages alike (a light-theme e-mail page into the
#: password page) moves every line of text a little, under STABLE_DIFF over the whole frame, while a camera's noise
#: spreads evenly (1.2 in its worst block against 1.0 overall, seen) and a caret or a busy indicator is a block or two
BLOCK = 16
MOVED_BLOCK = 6.0
MOVED_SHARE = 0.02
#: The most of a block's mean difference taken for noise (a webcam in dim light: 2-4 grey levels; more is a change)
NOISE_CAP = 4.0


class ScreenTimeout(HarnessTimeout):
    """The expected screen did not show in time; names the best guess and the saved screenshot."""

    def __init__(self, expected: list[str], guess: Guess | None, timeout: float, screenshot: Path | None,
                 stable: bool) -> None:
        self.expected_screens = expected
        self.guess = guess
        self.screenshot = screenshot
        self.stable = stable
        if guess is None:
            seen = "no screenshot"
        else:
            seen = f"best guess {guess.screen} (score {guess.score:.2f}){'' if stable else ', screen never stable'}"
            if stable:  # why it was not taken: the runner-up, and the anchors that failed
                seen += f" [{guess.why()}]"
        super().__init__(" or ".join(expected), seen, timeout, screenshot)


def _save(image: np.ndarray, folder: str | Path | None, label: str) -> Path:
    from harness.artifacts import new_file
    from harness.secret_frames import veiled

    directory = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="harness-wait-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = new_file(directory, f"timeout-{label}-{time.strftime('%H%M%S')}.png")  # never over an earlier one
    image = veiled(image, directory)  # a secret typed on the page shown is not kept (harness.secret_frames)
    Image.fromarray(np.ascontiguousarray(image[:, :, :3])).save(path, format="PNG")
    return path


def wait_for_screen(handset: Any, names: str | Iterable[str], timeout: float = 20.0, library: ScreenLibrary | None = None,
                    artifacts_dir: str | Path | None = None, scale: float | None = None, interval: float = 0.08,
                    since: float | None = None) -> Recognition:
    """Screenshots until two in a row match and the frame is one of ``names``; ScreenTimeout otherwise.

    A page seen moving is taken once it has been still for ``SETTLE_SHARE`` of the time it moved; ``since`` (a
    ``time.monotonic()`` instant: the tap that set it moving) says when that began if it was moving already at the
    wait's first look.

    ``timeout`` is the handset's: loading the library (without ``library``, the shipped one, kept per process)
    and compiling it for a resolution met for the first time happen off its clock (at load 25 that alone took
    longer than a 2 s wait)."""
    expected = [names] if isinstance(names, str) else list(names)
    library = library or ScreenLibrary.shared()
    return _wait(handset, expected, library, timeout, artifacts_dir, scale, interval, since)


#: time a wait allows past its deadline for the screenshots under way (the frames that decide it; a camera handset's
#: first one after a move waits for the stylus to rest, 2-3 s on a loaded host): the whole wait ends by then
SCREENSHOT_GRACE = 5.0
#: share of the time a wait saw the page move that the page must then stay still before it is taken. A page turn
#: eases out: its last fifth moves less than a pixel (a 1.5 s turn on a 480-wide page looks settled 0.3 s before it
#: ends), and a phone takes no input until the turn is over, so a tap there is lost; a person waits a beat too
SETTLE_SHARE = 0.5


def _alike(a: np.ndarray, b: np.ndarray) -> bool:
    """Two grey frames (int16) show the same: little change overall and in nearly every block, over the noise.

    A camera's sensor noise and its JPEG blocks differ in every frame of a page at rest: two such frames of a
    text-heavy page differ by 1.6-2.2 grey levels on average (bench seeds with noise sigma 2-3.5), over
    STABLE_DIFF, while their differences in each 16x16 block average out to nearly nothing. So the change overall
    is the blocks' signed mean differences (a fade, a page drawn anew: every pixel of a block moves one way), and
    a block moved when its mean absolute difference exceeds the frame's noise (the median block's, at most
    NOISE_CAP: most of a page is still even mid-turn) by MOVED_BLOCK. A handset's own screenshots have no
    noise: there the median block's difference is 0."""
    diff = a - b
    rows, cols = diff.shape[0] // BLOCK * BLOCK, diff.shape[1] // BLOCK * BLOCK
    if not rows or not cols:
        return float(np.abs(diff).mean()) < STABLE_DIFF
    cut = diff[:rows, :cols].reshape(rows // BLOCK, BLOCK, cols // BLOCK, BLOCK)
    if float(np.abs(cut.mean(axis=(1, 3))).mean()) >= STABLE_DIFF:
        return False
    blocks = np.abs(cut).mean(axis=(1, 3))
    noise = min(float(np.median(blocks)), NOISE_CAP)
    return float((blocks >= noise + MOVED_BLOCK).mean()) <= MOVED_SHARE


def same_picture(a: np.ndarray, b: np.ndarray, scale: float) -> bool:
    """Two frames, or the same region cut from two frames (device pixels, ``scale`` per view pixel), show the same
    picture by the rule a wait uses: a camera never sends the same pixels twice, so equality proves nothing."""
    if a.shape != b.shape:
        return False
    k = working_factor(scale)
    size = (max(1, a.shape[1] // k), max(1, a.shape[0] // k))
    grey = [cv2.resize(to_gray(x), size, interpolation=cv2.INTER_AREA).astype(np.int16) for x in (a, b)]
    return _alike(grey[0], grey[1])


class _Looks:
    """What the frames of one wait say of the page, in one state: ``still`` is None until two looks were compared
    (stability needs two; on a loaded host one camera screenshot can take longer than a short wait allows, so a wait
    past its deadline still takes the second), then whether the newest is alike the one before; ``moved`` is when the
    page was first and last seen moving. It is ``settled`` once still for SETTLE_SHARE of the time it moved."""

    def __init__(self, since: float | None = None) -> None:
        self.since = since                          # when what moves the page began, if the caller knows
        self.previous: np.ndarray | None = None
        self.previous_at = 0.0
        self.still: bool | None = None
        self.moved: tuple[float, float] | None = None  # (the look before the first change, the first after the latest)

    def add(self, small: np.ndarray, top: int, at: float) -> None:
        """Take the newest frame (grey, working size), looked at ``at``."""
        previous, self.previous = self.previous, small
        if previous is not None:
            first = self.still is None
            self.still = previous.shape == small.shape and _alike(small[top:], previous[top:])
            if not self.still:  # moving since the look before; since before this wait, if that was its first look
                began = self.previous_at if not first or self.since is None else min(self.previous_at, self.since)
                self.moved = (self.moved[0] if self.moved else began, at)
        self.previous_at = at

    def settled(self, now: float) -> bool:
        """Still, and for SETTLE_SHARE of the time it was seen moving (at once when this wait saw no move)."""
        if not self.still:
            return False
        if self.moved is None:
            return True
        began, ended = self.moved
        return now - ended >= SETTLE_SHARE * (ended - began)


def _wait(handset: Any, expected: list[str], library: ScreenLibrary, timeout: float,
          artifacts_dir: str | Path | None, scale: float | None, interval: float,
          since: float | None = None) -> Recognition:
    deadline = time.monotonic() + timeout
    looks = _Looks(since)
    guess: Guess | None = None
    image: np.ndarray | None = None
    previous_image: np.ndarray | None = None
    frame: Frame | None = None
    while True:
        started = time.monotonic()
        try:
            # a handset that stops answering ends the wait too, not a minute later: by the deadline and its grace
            with within(max(0.0, deadline + SCREENSHOT_GRACE - started)):
                image = handset.screenshot()
        except HarnessTimeout:
            if frame is None or time.monotonic() < deadline:
                raise  # no frame yet, or a handset gone silent before the deadline: its own error says so
            # a slow handset's look cut off by the grace: the wait ends on what the frame before it showed
            path = _save(previous_image, artifacts_dir, "-or-".join(expected)[:60])
            raise ScreenTimeout(expected, guess or library.best_guess(frame), timeout, path, bool(looks.still)) from None
        frame = Frame(image, scale)
        if not library.is_compiled(frame.working_scale):  # a one-off per resolution: not the handset's time
            compiling = time.monotonic()
            library.compiled(frame.working_scale)
            deadline += time.monotonic() - compiling
        top = int(34 * frame.working_scale)  # the status bar clock may tick; it never decides stability
        looks.add(frame.gray.astype(np.int16), top, time.monotonic())
        now = time.monotonic()
        if looks.still:
            rec, guess = library.classify(frame)
            if rec is not None and rec.screen in expected and (looks.settled(now) or now >= deadline):
                return rec
        now = time.monotonic()
        previous_image = image
        # past the deadline: a second look while the grace lasts if the page is not judged still or moving yet (a
        # camera's first look after a move waits for the stylus to rest; the next is quick), no more; a look the
        # grace cuts off ends the wait above
        if now >= deadline and (looks.still is not None or now + interval >= deadline + SCREENSHOT_GRACE):
            if guess is None:
                guess = library.best_guess(frame)
            path = _save(image, artifacts_dir, "-or-".join(expected)[:60])
            raise ScreenTimeout(expected, guess, timeout, path, bool(looks.still))
        time.sleep(interval)
