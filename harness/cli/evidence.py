"""The last frame of a failed run: what the handset showed when a flow ended in an error.

A ``SignInFailed`` keeps the screenshot of its failure screen, and a flow error its step's; other errors (a
field that does not show what was typed, a transport that failed mid-step) would leave no frame of the
screen they ended on. So the run keeps one: the frame the error carries (a ``TextNotTyped`` holds the frame
of the field it read), else one more screenshot, taken within ``EVIDENCE_SECONDS`` on a thread of its own: a
hung handset must not hang the error path, and the original error is still the one reported.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

#: How long the error path waits for one last screenshot.
EVIDENCE_SECONDS = 5.0


def _screenshot_within(handset: Any, seconds: float) -> tuple[np.ndarray | None, str]:
    """(frame, "") from ``handset.screenshot()`` when it answers within ``seconds``, else (None, why not)."""
    got: dict[str, Any] = {}

    def take() -> None:
        try:
            got["frame"] = handset.screenshot()
        except Exception as exc:  # noqa: BLE001 -- evidence is best effort; the run's own error is reported
            got["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    worker = threading.Thread(target=take, name="evidence-screenshot", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return None, f"the handset gave no screenshot within {seconds:g}s"
    if "frame" in got and isinstance(got["frame"], np.ndarray):
        return got["frame"], ""
    return None, f"the screenshot failed ({got.get('error', 'no frame')})"


def keep_evidence(artifacts: Any, handset: Any, exc: BaseException, seconds: float = EVIDENCE_SECONDS) -> str:
    """Save the frame of the screen ``exc`` ended on into ``artifacts`` (a numbered PNG, never over another
    file); return its path, or a few words saying why there is none. Never raises."""
    label = f"error-{type(exc).__name__}"
    try:
        if getattr(exc, "screenshot", None):
            return str(exc.screenshot)  # type: ignore[attr-defined]
        frame = getattr(exc, "frame", None)
        if isinstance(frame, np.ndarray):
            path = artifacts.save_screenshot(frame, label)
            box = getattr(exc, "box", None)
            if box is not None:  # the field itself, at the frame's own pixels
                artifacts.save_screenshot(frame[box.y:box.y + box.h, box.x:box.x + box.w], f"{label}-field")
            return str(path)
        frame, why = _screenshot_within(handset, seconds)
        if frame is None:
            return f"no screenshot: {why}"
        return str(artifacts.save_screenshot(frame, label))
    except Exception as error:  # noqa: BLE001 -- a full disk must not hide the run's own error
        return f"no screenshot: {type(error).__name__}: {error}"
