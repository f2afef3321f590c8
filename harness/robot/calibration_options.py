"""What a calibration run may do and how long it may take: its heights, steps, waits and limits.

Kept apart from the run (``calibration.py``) and what it sees (``calibration_views.py``), which both read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CalibrationOptions:
    """``hover_z``: a height clear of the phone and its holder (machine mm); ``near``: roughly where the phone
    lies (bed mm; default the middle of the travel); ``target``: the screen target to tap (default its first)."""

    hover_z: float = -20.0
    near: tuple[float, float] | None = None
    target: str | None = None
    step_mm: float = 0.5
    press_mm: float = 0.5
    raise_mm: float = 12.0
    settle_s: float = 1.0
    #: How long the phone may take to show a touch once the stylus lifts (beyond the camera's own delay): a
    #: step of the touch search waits that long for the screen to change before going a step lower.
    response_s: float = 0.4
    #: How long a change that must come (the verifying tap, the back key) may take to show in the camera: a
    #: loaded host or a slow phone is not a failed calibration (the touch search waits only ``settle_s`` a step).
    expect_s: float = 8.0
    settle_frames: int = 1
    #: Start the touch search this far above the camera's glass estimate (None: from the hover height; a
    #: search that starts under the glass is seen by its first step registering, and starts again from hover)
    search_above_mm: float | None = 4.0
    #: ... and go at most this far under it before searching from the hover height instead.
    search_below_mm: float = 4.0
    max_residual_px: float = 12.0
    grid: int = 5
    timeout: float = 300.0

