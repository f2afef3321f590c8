"""A screen library compiled for one working scale: every crop as an ink template, and the signature tables.

A frame's working scale follows from its resolution (an integer shrink
factor, see ``harness.vision.features``), so the library is compiled once
per working scale met (a handset keeps its resolution) and kept.

The *signature* ranks the whole library at once: every anchor of every
screen is cut into a small grid of cells (``GRID``); a frame's cell means at
the places where the anchors should be come out of its integral image in one
numpy gather, and each anchor's normalised correlation with its recorded
cells is a row-wise dot product. No per-anchor Python work per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.vision.definitions import LAYOUT_SCALE, Box, ScreenDefinition, Target
from harness.vision.features import DETAIL_SCALE, Frame, box_sums, crop_ink

#: Cells (rows, columns) each anchor is cut into for the signature; an anchor taller than wide (a list's rows) is cut
#: the other way round, so that its cells follow its rows, not the shapes of the words in them.
GRID = (2, 6)
SHARED_LOOK = 0.8           # an anchor correlating this well with another screen's at its place is shared ...
SHARED_WEIGHT = 0.25        # ... and weighs this much in a screen's score
SHARED_SCALE = 0.75         # pixels per view pixel at which two anchors are compared to say they are one
SHARED_NEAR_VIEW = 13       # view pixels apart at most, for two anchors to be at one place
LAYOUT_CELL_VIEW = 16       # view pixels per side of a layout cell
LAYOUT_SPLIT = 0.55         # the layout above this share of the height keeps to the top edge, below it to the bottom
LAYOUT_FULL = 0.5           # a layout whose ignore regions (the phone's data) leave less of the page than this weighs less


@dataclass
class Template:
    """A crop's ink map, where it was recorded (working pixels) and which edge of the screen it keeps to."""

    ink: np.ndarray
    x: int
    y: int
    align: str
    std: float = 0.0

    def __post_init__(self) -> None:
        self.std = float(self.ink.std())

    @property
    def w(self) -> int:
        return self.ink.shape[1]

    @property
    def h(self) -> int:
        return self.ink.shape[0]

    def expected_y(self, frame_view_h: float, rec_view_h: float, working_scale: float) -> int:
        """Where it should be on a screen of another height (800 vs 853 view pixels)."""
        if self.align == "bottom":
            return round(self.y + (frame_view_h - rec_view_h) * working_scale)
        if self.align == "center":
            return round(self.y + (frame_view_h - rec_view_h) / 2 * working_scale)
        return self.y


def template(crop: np.ndarray, region: Box, rec_scale: float, rec_view_h: float, working_scale: float,
             align: str | None = None) -> Template:
    ink_map = crop_ink(crop, rec_scale, working_scale)
    if align is None:
        align = "bottom" if region.y / rec_scale > rec_view_h * 0.55 else "top"
    return Template(ink_map, round(region.x / rec_scale * working_scale), round(region.y / rec_scale * working_scale), align)


@dataclass
class Screen:
    """One screen definition at one working scale."""

    definition: ScreenDefinition
    anchors: list[Template]
    targets: list[tuple[Target, Template, Box | None]]
    details: dict[str, np.ndarray]  # target crops at DETAIL_SCALE
    areas: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: how much the whole-page layout weighs against the anchors: less the more of the page is the phone's data
    layout_weight: float = 1.0
    #: per anchor, the anchors of other screens at its place that show something else there: (screen, anchor)
    #: indices into the compiled library (what tells this screen from those: harness.vision.contest)
    rivals: list[list[tuple[int, int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.areas = np.array([float(t.w * t.h) for t in self.anchors])
        self.weights = np.ones(len(self.anchors))
        self.rivals = [[] for _ in self.anchors]

    @property
    def rec_view_h(self) -> float:
        return self.definition.height / self.definition.scale


def compile_screen(d: ScreenDefinition, working_scale: float, details: dict[str, np.ndarray] | None = None) -> Screen:
    view_h = d.height / d.scale
    anchors = [template(a.image, a.region, d.scale, view_h, working_scale, a.align) for a in d.anchors]
    # a target marked only by its label has no template: OCR finds it when a flow asks (find_target)
    targets = [(t, template(t.image, t.region, d.scale, view_h, working_scale), t.search) for t in d.targets
               if t.image is not None]
    if details is None:
        details = {t.name: crop_ink(t.image, d.scale, DETAIL_SCALE) for t in d.targets if t.image is not None}
    return Screen(d, anchors, targets, details)


def _grid(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, ...]:
    """Corners (x0, y0, x1, y1), each (n, rows*cols), of the GRID cells of n boxes (transposed for tall boxes)."""
    wide, tall = _cut(x, y, w, h, *GRID), _cut(x, y, w, h, *GRID[::-1])
    upright = (h > w)[:, None]
    return tuple(np.where(upright, t, c) for c, t in zip(wide, tall))


def _cut(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, ...]:
    fx = np.linspace(0.0, 1.0, cols + 1)
    fy = np.linspace(0.0, 1.0, rows + 1)
    xs = x[:, None] + np.round(w[:, None] * fx[None, :]).astype(np.int64)  # (n, cols+1)
    ys = y[:, None] + np.round(h[:, None] * fy[None, :]).astype(np.int64)  # (n, rows+1)
    x0 = np.repeat(xs[:, None, :-1], rows, 1).reshape(len(x), -1)
    x1 = np.repeat(xs[:, None, 1:], rows, 1).reshape(len(x), -1)
    y0 = np.repeat(ys[:, :-1, None], cols, 2).reshape(len(x), -1)
    y1 = np.repeat(ys[:, 1:, None], cols, 2).reshape(len(x), -1)
    return x0, y0, x1, y1


def _normalised(cells: np.ndarray) -> np.ndarray:
    centred = cells - cells.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=1, keepdims=True))
    return np.where(norm > 1e-9, centred / np.maximum(norm, 1e-9), 0.0)


class Compiled:
    """The whole library at one working scale, with the tables the signature needs."""

    def __init__(self, definitions: list[ScreenDefinition], working_scale: float,
                 details: dict[str, dict[str, np.ndarray]]) -> None:
        self.working_scale = working_scale
        self.screens = [compile_screen(d, working_scale, details.get(d.name)) for d in definitions]
        self.place_of = {id(c): i for i, c in enumerate(self.screens)}  # a screen's index (Screen.__eq__ compares arrays)
        shared: dict[tuple, Template] = {}  # an anchor several screens record alike is one Template: found once a frame
        for s in self.screens:
            s.anchors = [shared.setdefault((t.ink.tobytes(), t.ink.shape, t.x, t.y, t.align), t) for t in s.anchors]
        _weigh_shared(self.screens, round(SHARED_NEAR_VIEW * working_scale))
        anchors = [(i, t) for i, s in enumerate(self.screens) for t in s.anchors]
        self.owner = np.array([i for i, _ in anchors])
        self.ax = np.array([t.x for _, t in anchors])
        self.aw = np.array([t.w for _, t in anchors])
        self.ah = np.array([t.h for _, t in anchors])
        self.align = np.array([{"top": 0.0, "center": 0.5, "bottom": 1.0}[t.align] for _, t in anchors])
        self.ay = np.array([t.y for _, t in anchors], float)
        self.rec_view_h = np.array([self.screens[i].rec_view_h for i, _ in anchors])
        self.weights = np.concatenate([s.weights for s in self.screens])
        self.areas = np.concatenate([s.areas for s in self.screens])
        self.area_total = np.bincount(self.owner, self.areas, len(self.screens))
        cells = []
        for _, t in anchors:  # each template's own cell means, from its own integral image
            s = np.zeros((t.h + 1, t.w + 1))
            s[1:, 1:] = t.ink.cumsum(0).cumsum(1)
            corners = _grid(np.array([0]), np.array([0]), np.array([t.w]), np.array([t.h]))
            cells.append(box_sums(s, *corners)[0] / np.maximum(1, (corners[2] - corners[0]) * (corners[3] - corners[1]))[0])
        self.cells = _normalised(np.array(cells))
        self._places: dict[float, tuple[np.ndarray, ...]] = {}
        self.layout = Layouts(self.screens, working_scale)
        self.layout_weights = np.array([s.layout_weight for s in self.screens])

    def anchor_ys(self, view_height: float) -> np.ndarray:
        """Where every anchor should be (top edge, working pixels) on a frame ``view_height`` view pixels tall."""
        return np.round(self.ay + (view_height - self.rec_view_h) * self.align * self.working_scale).astype(np.int64)

    def signature(self, sums: np.ndarray, cover_sums: np.ndarray, view_height: float) -> tuple[np.ndarray, np.ndarray]:
        """Every anchor's correlation with the frame at its place (cells, no search), and its covered share."""
        key = round(view_height, 1)
        if key not in self._places:
            ys = self.anchor_ys(view_height)
            corners = _grid(self.ax, ys, self.aw, self.ah)
            area = np.maximum(1, (corners[2] - corners[0]) * (corners[3] - corners[1]))
            self._places = {key: (corners, area, ys)} if len(self._places) > 8 else {**self._places, key: (corners, area, ys)}
        corners, area, ys = self._places[key]
        frame_cells = _normalised(box_sums(sums, *corners) / area)
        scores = (frame_cells * self.cells).sum(axis=1)
        covered = box_sums(cover_sums, self.ax, ys, self.ax + self.aw, ys + self.ah) / (self.aw * self.ah)
        return scores, covered


def _weigh_shared(screens: list[Screen], near: int) -> None:
    """An anchor that another screen shows at the same place (a header such as MICROSOFT ACCOUNT) weighs
    SHARED_WEIGHT: it says which family a screen is of, not which member. Compared at SHARED_SCALE, where
    two titles of other words differ (at the working level any two short titles are alike). An anchor of another
    screen at the same place that shows something else there is a rival of it (``Screen.rivals``)."""
    fine = {(id(c), i): crop_ink(a.image, c.definition.scale, SHARED_SCALE)
            for c in screens for i, a in enumerate(c.definition.anchors)}
    for c in screens:
        for i, a in enumerate(c.anchors):
            for k, other in enumerate(screens):
                if other is c:
                    continue
                for j, b in enumerate(other.anchors):
                    if abs(a.y - b.y) > near or abs(a.x - b.x) > near or b.align != a.align:
                        continue
                    fa, fb = fine[(id(c), i)], fine[(id(other), j)]
                    h, w = min(fa.shape[0], fb.shape[0]), min(fa.shape[1], fb.shape[1])
                    x, y = fa[:h, :w], fb[:h, :w]
                    if x.std() > 1e-6 and y.std() > 1e-6 and float(np.corrcoef(x.ravel(), y.ravel())[0, 1]) > SHARED_LOOK:
                        c.weights[i] = SHARED_WEIGHT
                    else:
                        c.rivals[i].append((k, j))


class Layouts:
    """Every screen's layout picture as a grid of cells (mean ink), for whole-page comparisons of all screens at
    once: the top part keeps to the top edge, the rest to the bottom edge (a taller screen has more space
    between them). Cells under an ignore region (the status bar) are left out."""

    def __init__(self, screens: list[Screen], working_scale: float) -> None:
        self.cell = c = max(2, round(LAYOUT_CELL_VIEW * working_scale))
        self.working_scale = working_scale
        self.index = [i for i, s in enumerate(screens) if s.definition.layout is not None]
        geometry: dict[tuple[int, int, int], list[int]] = {}
        self.cells: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for i in self.index:
            d = screens[i].definition
            ink_map = crop_ink(np.dstack([d.layout] * 3), LAYOUT_SCALE, working_scale)
            h, w = ink_map.shape
            cols, split = w // c, round(h * LAYOUT_SPLIT / c)
            below = (h - split * c) // c
            top = ink_map[:split * c, :cols * c].reshape(split, c, cols, c).mean(axis=(1, 3))
            bottom = ink_map[h - below * c:, :cols * c].reshape(below, c, cols, c).mean(axis=(1, 3))
            keep = np.ones((split + below, cols), bool)
            k = working_scale / d.scale
            for g in d.ignore:  # cells touching an ignored region
                ys = np.arange(split + below) * c
                ys[split:] = h - below * c + np.arange(below) * c
                rows = (ys + c > g.y * k) & (ys < (g.y + g.h) * k)
                xs = np.arange(cols) * c
                keep[np.ix_(rows, (xs + c > g.x * k) & (xs < (g.x + g.w) * k))] = False
            screens[i].layout_weight = min(1.0, float(keep.mean()) / LAYOUT_FULL)
            self.cells[i] = (np.concatenate([top, bottom]).ravel(), keep.ravel())
            geometry.setdefault((h, split, below), []).append(i)
        self.groups = [(h, split, below, members) for (h, split, below), members in geometry.items()]
        self._cache: dict[tuple[int, int, int, int], tuple[np.ndarray, ...]] = {}

    def scores(self, frame: Frame, hidden: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every screen's layout correlation with the frame over the cells not covered, the share of its
        cells that were compared, and the share of its layout's contrast those cells hold (NaN, 0 and 0 for
        screens without a layout)."""
        corr, shown, content = np.full(n, np.nan), np.zeros(n), np.zeros(n)
        c = self.cell
        fw = frame.sums.shape[1] - 1
        blocks: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}  # cells of the frame, made once

        def block(y0: int, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
            if (y0, rows, cols) not in blocks:
                blocks[y0, rows, cols] = _cells(frame, y0, rows, cols, c, hidden)
            return blocks[y0, rows, cols]

        for h, split, below, members in self.groups:
            cols = min(len(self.cells[members[0]][0]) // (split + below), fw // c)
            tables = self._tables(h, split, below, members, cols)
            dy = round(frame.view_height * self.working_scale) - h
            # the bottom part follows the frame's bottom edge; on a screen of another height a page centred
            # on it (a logo) moves half as far, and one longer than the screen (tiles) is cut off at the bottom:
            # each is tried, the best counts
            shifts = [block(top_dy, split, cols) + block(h - below * c + bottom_dy, below, cols)
                      for top_dy, bottom_dy in {(0, dy), (dy // 2, dy // 2), (0, 0)}]
            f = np.stack([np.concatenate([ft, fb]) for ft, _, fb, _ in shifts], axis=1)
            u = np.stack([np.concatenate([_ones(ut, ft), _ones(ub, fb)]) for ft, ut, fb, ub in shifts], axis=1)
            for r, seen, held in _masked_corr(f, u, tables):
                better = ~(corr[members] >= r) & ~np.isnan(r)
                corr[members] = np.where(better, r, corr[members])
                shown[members] = np.where(better, seen, shown[members])
                content[members] = np.where(better, held, content[members])
        return corr, shown, content

    def alike(self, frame: Frame, hidden: float, i: int) -> dict[int, float]:
        """How alike screen ``i``'s recorded page is to every other of its geometry over the cells both keep and
        the frame shows (not covered): the correlation of the two layouts there, whatever the frame holds. Two
        pages alike there cannot be told apart by the frame's layout (their words differ, not their places)."""
        group = next((g for g in self.groups if i in g[3]), None)
        if group is None:
            return {}
        h, split, below, members = group
        c = self.cell
        cols = min(len(self.cells[members[0]][0]) // (split + below), (frame.sums.shape[1] - 1) // c)
        dy = round(frame.view_height * self.working_scale) - h
        (ft, ut), (fb, ub) = (_cells(frame, 0, split, cols, c, hidden),
                              _cells(frame, h - below * c + dy, below, cols, c, hidden))
        u = np.concatenate([_ones(ut, ft), _ones(ub, fb)])
        keep, kt = self._tables(h, split, below, members, cols)[:2]
        t = np.divide(kt, keep, out=np.zeros_like(kt), where=keep > 0)
        me = members.index(i)
        out = {}
        for m, k in enumerate(members):
            mask = keep[me] * keep[m] * u > 0
            if k == i or mask.sum() < 4:
                continue
            a, b = t[me][mask], t[m][mask]
            if a.std() > 1e-6 and b.std() > 1e-6:
                out[k] = float(np.corrcoef(a, b)[0, 1])
        return out

    def _tables(self, h: int, split: int, below: int, members: list[int], cols: int) -> tuple[np.ndarray, ...]:
        """A group's cell tables for ``cols`` columns (kept, kept*t, kept*t*t, and the sums of each over all
        cells), made once."""
        key = (h, split, below, cols)
        if key not in self._cache:
            t = np.array([self.cells[i][0].reshape(split + below, -1)[:, :cols].ravel() for i in members])
            keep = np.array([self.cells[i][1].reshape(split + below, -1)[:, :cols].ravel() for i in members]).astype(float)
            kt, ktt = keep * t, keep * t * t
            self._cache[key] = (keep, kt, ktt, keep.sum(axis=1), kt.sum(axis=1), ktt.sum(axis=1))
        return self._cache[key]


def _ones(u: np.ndarray | None, f: np.ndarray) -> np.ndarray:
    return np.ones_like(f) if u is None else u


def _cells(frame: Frame, y0: int, rows: int, cols: int, c: int, hidden: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The mean ink of ``rows`` x ``cols`` cells of side c whose first row starts at ``y0`` (strided views of the
    integral image, no gather), and which of them are compared: inside the frame and not covered (1.0/0.0;
    None when all are)."""
    fh = frame.sums.shape[0] - 1
    i = np.arange(rows)
    inside = np.flatnonzero((y0 + i * c >= 0) & (y0 + (i + 1) * c <= fh))
    f = np.zeros((rows, cols))
    if not inside.size:
        return f.ravel(), np.zeros(rows * cols)
    a, b = int(inside[0]), int(inside[-1]) + 1
    top = y0 + a * c
    d = frame.sums[top:top + (b - a) * c + 1:c, :cols * c + 1:c]
    f[a:b] = (d[1:, 1:] - d[:-1, 1:] - d[1:, :-1] + d[:-1, :-1]) / (c * c)
    if not frame.any_cover and b - a == rows:
        return f.ravel(), None
    u = np.zeros((rows, cols))
    if frame.any_cover:
        k = frame.cover_sums[top:top + (b - a) * c + 1:c, :cols * c + 1:c].astype(np.int64)
        u[a:b] = (k[1:, 1:] - k[:-1, 1:] - k[1:, :-1] + k[:-1, :-1]) / (c * c) <= hidden
    else:
        u[a:b] = 1.0
    return f.ravel(), u.ravel()


def _masked_corr(f: np.ndarray, u: np.ndarray, tables: tuple[np.ndarray, ...]
                 ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each column of the frame's cells ``f`` (a placement of the page), the correlation with each screen's
    cells over the cells it keeps and the frame shows (``u``'s column: inside, not covered), the share of kept
    cells compared, and the share of the screen's contrast (squared deviations from its mean) they hold: two
    pages nearly blank where a cover leaves them visible correlate well and say nothing. The products are three
    matrix products, one per table, with every placement's columns at once (half the time of a product per
    column)."""
    keep, kt, ktt, kept, kt_all, ktt_all = tables
    k = f.shape[1]
    uf = u * f
    by_keep = keep @ np.concatenate([u, uf, uf * f], axis=1)
    by_kt = kt @ np.concatenate([u, uf], axis=1)
    ktt_u = ktt @ u
    whole = ktt_all - kt_all ** 2 / np.maximum(kept, 1.0)
    out = []
    for j in range(k):
        n = by_keep[:, j]
        count = np.maximum(n, 1.0)
        mean_f, mean_t = by_keep[:, k + j] / count, by_kt[:, j] / count
        cov = by_kt[:, k + j] / count - mean_t * mean_f
        var_f = by_keep[:, 2 * k + j] / count - mean_f ** 2
        var_t = ktt_u[:, j] / count - mean_t ** 2
        r = cov / np.sqrt(np.maximum(var_f * var_t, 1e-12))
        r[var_f < 1e-6] = 0.0  # a blank frame where the screen has a layout: not this screen
        r[var_t < 1e-6] = np.nan  # the screen's own cells compared are blank: its layout says nothing here
        held = np.clip(var_t * count / np.maximum(whole, 1e-12), 0.0, 1.0)
        out.append((r, n / np.maximum(kept, 1.0), held))
    return out
