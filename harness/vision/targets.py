"""Finding a recognised screen's tap targets in a frame: near where they were recorded, or searched over a
region (a list) and checked where found at DETAIL_SCALE, where glyphs count; a text field in the box found
under its label (or under where its label was recorded)."""

from __future__ import annotations

import cv2
import numpy as np

from harness.vision.compiled import Screen, Template
from harness.vision.features import DETAIL_SCALE, Frame
from harness.vision.field_text import Fields

TARGET_SCORE = 0.72         # a target searched over a wide region (a list) must correlate this well ...
TARGET_NEAR_SCORE = 0.55    # ... one looked for near where it was recorded, this well
TARGET_CLOSE_SCORE = 0.40   # ... or this well within TARGET_CLOSE_VIEW view pixels of its place
TARGET_CLOSE_VIEW = 8
DETAIL_SCORE = 0.78         # ... and (searched over a region) this well where it was found, at DETAIL_SCALE
TARGET_BAND_VIEW = 90       # view pixels above and below its recorded place a target is looked for
DRIFT_PENALTY = 0.01       # correlation a target near its place loses per view pixel away from it
CANDIDATES = 4              # places a target searched over a region may be checked at (best first)
FIELD = "field:"            # a target so named is a text field, recorded by its label with the offset to its box
FIELD_DRIFT_VIEW = 20       # with no field box seen, a label found further than this from its place is not taken
FIELD_MOVE_VIEW = 45        # a field's box further than this from its place is another field (8.1: 97 apart)


def find_targets(frame: Frame, c: Screen) -> dict[str, tuple[float, float]]:
    """Where each target of the recognised screen ``c`` is in the frame (device pixels); absent ones left out."""
    d = c.definition
    ws = frame.working_scale
    out: dict[str, tuple[float, float]] = {}
    fh = frame.ink.shape[0]
    for target, t, search in c.targets:
        if search is not None:
            k = ws / d.scale
            x0, y0 = round(search.x * k), round(search.y * k)
            x1, y1 = round((search.x + search.w) * k) - t.w, round((search.y + search.h) * k) - t.h
            if search.y + search.h >= d.height - 2:
                y1 = fh - t.h  # a search down to the bottom follows the frame's own bottom
            found = _search(frame, t.ink, t.std, c.details[target.name], (x0, y0, x1, y1))
        else:
            y = t.expected_y(frame.view_height, c.rec_view_h, ws)
            band = round(TARGET_BAND_VIEW * ws)
            found = _near(frame, t, t.x, y, band) or _near_detail(frame, c.details[target.name], t.x, y, band)
        to_device = frame.scale / ws
        point = None
        if found is not None:
            point = _tap_point(found, t, target.offset, to_device, frame.scale / d.scale)
        if target.name.startswith(FIELD) and search is None:  # a text field, found by its label: tap in its box
            recorded = _tap_point((t.x, t.expected_y(frame.view_height, c.rec_view_h, ws)), t, target.offset,
                                  to_device, frame.scale / d.scale)
            point = _in_field(frame, point, recorded)
        if point is not None:
            out[target.name] = point
    return out


def _tap_point(at: tuple[int, int], t: Template, offset: tuple[int, int], to_device: float, per_recorded: float
               ) -> tuple[float, float]:
    """The tap point (device pixels) of a template found with its corner at ``at`` (working pixels): its centre
    plus the target's offset (recorded pixels)."""
    return (round((at[0] + t.w / 2) * to_device + offset[0] * per_recorded, 1),
            round((at[1] + t.h / 2) * to_device + offset[1] * per_recorded, 1))


def _in_field(frame: Frame, labelled: tuple[float, float] | None, recorded: tuple[float, float]
              ) -> tuple[float, float]:
    """Where to tap a text field whose label was found at ``labelled`` (its tap point; None: not found) and recorded
    at ``recorded`` (device pixels): in the one-line field box found there. A field's label is small, dim text that
    a camera's glare washes out (its template then sits nowhere, or on the field's border), while the field's box
    stands out. A box holding the recorded place is taken ("Password" once matched "Email address"), else one
    holding the label's point, else the box found near the recorded place (a field spans the page, so it is
    also looked for at its middle and right: a stylus may hover over its left end), else near the label; only
    a box within FIELD_MOVE_VIEW of the place (a label that matched another field's puts its point in that one).
    With no box seen, the label where it lies within FIELD_DRIFT_VIEW of its place, else the place as recorded:
    the page was recognised, and on a frame washed out that far a label found further off was another line (a
    field is the page's own, as a button is; a tap beside it lands on the page and does nothing)."""
    image, scale = frame.image, frame.scale
    if image is None or image.ndim < 2:
        return labelled or recorded
    height, width = image.shape[:2]
    band = TARGET_BAND_VIEW * scale
    top = max(0, round(recorded[1] - 2 * band))
    bottom = min(height, round(recorded[1] + 2 * band))
    if bottom - top < 8:
        return labelled or recorded
    fields: list[Fields] = []  # the strip made ready (shrunk to 480 across, smoothed) once, when first asked

    def box_at(point: tuple[float, float] | None) -> tuple[float, float, float, float] | None:
        if point is None or not top <= point[1] < bottom:
            return None
        if not fields:
            fields.append(Fields(image[top:bottom]))
        box = fields[0].box((round(point[0]), round(point[1] - top)))
        return None if box is None else (box.x, top + box.y, box.w, box.h)

    at_label = box_at(labelled)
    at_recorded = None  # from where it was recorded, else across the row (a stylus over the field's left end)
    for x in (recorded[0], width / 2, 3 * width / 4):
        at_recorded = at_recorded or box_at((x, recorded[1]))

    def holds(box: tuple[float, float, float, float] | None, point: tuple[float, float] | None) -> bool:
        return box is not None and point is not None and box[1] <= point[1] <= box[1] + box[3]

    def near(box: tuple[float, float, float, float] | None) -> bool:  # not the next field down or up the page
        return box is not None and abs(box[1] + box[3] / 2 - recorded[1]) <= FIELD_MOVE_VIEW * scale

    if holds(at_recorded, recorded):  # the page as recorded: its field is there (a label can match another's)
        box, x = at_recorded, (labelled or recorded)[0]  # type: ignore[assignment]
    elif holds(at_label, labelled) and near(at_label):  # the page moved (another profile, a line more above)
        box, x = at_label, labelled[0]  # type: ignore[assignment,index]
    elif near(at_recorded):
        box, x = at_recorded, (labelled or recorded)[0]  # type: ignore[assignment]
    elif near(at_label):
        box, x = at_label, labelled[0]  # type: ignore[assignment,index]
    else:  # no box seen (glare washed a grey field into the page): the label where it agrees with the page
        near_label = labelled is not None and abs(labelled[1] - recorded[1]) <= FIELD_DRIFT_VIEW * scale
        return labelled if near_label else (round(recorded[0], 1), round(recorded[1], 1))  # type: ignore[return-value]
    bx, by, bw, bh = box
    x = min(max(x, bx + bh / 2), bx + bw - bh / 2)
    return round(x, 1), round(by + bh / 2, 1)


def _near(frame: Frame, t: Template, x: int, y: int, band: int) -> tuple[int, int] | None:
    """A target looked for within ``band`` of where it should be: the best correlation, less a little for each
    view pixel away (at the working level a label looks like the line above it; the place it was recorded
    decides between two alike). A weaker match counts only at the very place it was recorded."""
    result, ox, oy = frame.scores(t.ink, t.std, x - band, y - band, x + band, y + band)
    if result.size == 0:
        return None
    ys, xs = np.ogrid[oy:oy + result.shape[0], ox:ox + result.shape[1]]
    away = np.sqrt((xs - x) ** 2 + (ys - y) ** 2) / frame.working_scale
    iy, ix = np.unravel_index(np.argmax(result - DRIFT_PENALTY * away), result.shape)
    found = ox + int(ix), oy + int(iy)
    if result[iy, ix] >= TARGET_NEAR_SCORE:
        return found
    # at its very place (a small label rendered at another resolution correlates less well)
    close = np.where(away <= TARGET_CLOSE_VIEW, result, -1.0)
    iy, ix = np.unravel_index(np.argmax(close), close.shape)
    return (ox + int(ix), oy + int(iy)) if close[iy, ix] >= TARGET_CLOSE_SCORE else None


def _near_detail(frame: Frame, fine: np.ndarray, x: int, y: int, band: int) -> tuple[int, int] | None:
    """The same look near its place at DETAIL_SCALE, for a small target (a field's label) that the working level
    shrinks to a few pixels, on a profile whose layout puts it a little off its recorded place (480x800 vs
    1080x1920: "Password" sits 15 view pixels higher). Only asked when the working level found nothing."""
    ws = frame.working_scale
    th, tw = fine.shape
    if th < 4 or tw < 4 or float(fine.std()) < 1e-6:
        return None
    vx, vy = max(0.0, (x - band) / ws), max(0.0, (y - band) / ws)
    span = 2 * band / ws
    window = frame.detail(vx, vy, tw / DETAIL_SCALE + span, th / DETAIL_SCALE + span)
    if window.shape[0] < th or window.shape[1] < tw:
        return None
    result = np.nan_to_num(cv2.matchTemplate(window, fine, cv2.TM_CCOEFF_NORMED))
    ys, xs = np.ogrid[:result.shape[0], :result.shape[1]]
    away = np.sqrt((vx + xs / DETAIL_SCALE - x / ws) ** 2 + (vy + ys / DETAIL_SCALE - y / ws) ** 2)
    iy, ix = np.unravel_index(np.argmax(result - DRIFT_PENALTY * away), result.shape)
    if result[iy, ix] < DETAIL_SCORE:
        return None
    return round((vx + ix / DETAIL_SCALE) * ws), round((vy + iy / DETAIL_SCALE) * ws)


def _search(frame: Frame, tpl: np.ndarray, std: float, fine: np.ndarray, box: tuple[int, int, int, int]
            ) -> tuple[int, int] | None:
    """A target searched over a region (a list): the best places on the working level, best first, each
    checked at DETAIL_SCALE where its glyphs count (a list holds many lines alike at the working level)."""
    result, ox, oy = frame.scores(tpl, std, *box)
    if result.size == 0:
        return None
    th, tw = tpl.shape
    for _ in range(CANDIDATES):
        _, best, _, loc = cv2.minMaxLoc(result)
        if not best >= TARGET_SCORE:
            return None
        x, y = ox + loc[0], oy + loc[1]
        if _check_detail(frame, fine, x, y):
            return x, y
        result[max(0, loc[1] - th // 2):loc[1] + th // 2 + 1, max(0, loc[0] - tw // 2):loc[0] + tw // 2 + 1] = -1.0
    return None


def _check_detail(frame: Frame, tpl: np.ndarray, x: int, y: int) -> bool:
    """A target found on the working level, checked where it was found at DETAIL_SCALE, where its glyphs
    count: at the working level "attention required" and "up to date" are both a short grey line."""
    pad = 6  # view pixels around the place found (and the working level's rounding)
    ws = frame.working_scale
    vx, vy = x / ws - pad, y / ws - pad
    th, tw = tpl.shape
    window = frame.detail(vx, vy, tw / DETAIL_SCALE + 2 * pad, th / DETAIL_SCALE + 2 * pad)
    if window.shape[0] < th or window.shape[1] < tw or float(tpl.std()) < 1e-6:
        return True  # at the frame's edge: the working level's answer stands
    result = cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)
    return float(np.nan_to_num(result).max()) >= DETAIL_SCORE
