"""Where the glass is, told by how large the phone's screen seems under a stylus at two heights.

A camera sees the stylus tip above the glass as if it were on the glass but
farther from the point under the lens (the nadir): a map from bed mm to
screen pixels fitted from tips seen at a height ``h`` is the true map
scaled about the nadir by ``k = D / (D - h)`` (``D``: the lens above the
glass). The true scale is known (the profile's pixels over the spec-sheet
screen width), so the scales of the maps at two heights ``r`` mm apart give
``k`` for each, hence ``D``, ``h`` and the nadir, and the true map: the
hover height's distance above the glass is found without touching it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.robot.mapping import BedMap

Pair = tuple[float, float]


def unscaled(mm: Sequence[Pair], low: Sequence[Pair], high: Sequence[Pair], raised_mm: float,
             true_px_per_mm: float) -> tuple[BedMap, float | None]:
    """The map on the glass and the lower views' height above it, from tips seen ``raised_mm`` apart in height;
    (the lower views' map, None) when the scales do not grow with height (a lens too far to tell)."""
    m1, m2 = BedMap.fit(mm, low)[0], BedMap.fit(mm, high)[0]
    k1, k2 = m1.px_per_mm / true_px_per_mm, m2.px_per_mm / true_px_per_mm
    if not (k2 > k1 > 0 and 1 / k1 - 1 / k2 > 1e-4):
        return m1, None
    lens = raised_mm / (1 / k1 - 1 / k2)
    height = lens * (1 - 1 / k1)
    a1 = np.asarray(m1.matrix, np.float64)
    a2 = np.asarray(m2.matrix, np.float64)
    system = np.array([[k1, 1 - k1], [k2, 1 - k2]])
    offset = [float(np.linalg.solve(system, np.array([a1[i, 2], a2[i, 2]]))[0]) for i in range(2)]
    linear = (a1[:, :2] / k1 + a2[:, :2] / k2) / 2
    rows = tuple((float(linear[i, 0]), float(linear[i, 1]), offset[i]) for i in range(2))
    return BedMap(rows), height  # type: ignore[arg-type]
