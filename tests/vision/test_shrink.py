"""A frame's working image is the same pixels whichever way it is shrunk: features.shrink_by takes a box blur for
odd steps (three times faster than OpenCV's generic area path there) and must equal INTER_AREA exactly, since the
screen library's every score was measured on INTER_AREA's pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.vision.features import shrink_by


@settings(max_examples=60, deadline=None)
@given(step=st.sampled_from([2, 3, 4, 5]), w=st.integers(1, 60), h=st.integers(1, 60), extra=st.integers(0, 4),
       seed=st.integers(0, 2**32 - 1), flat=st.booleans())
def test_shrink_by_is_inter_area(step: int, w: int, h: int, extra: int, seed: int, flat: bool) -> None:
    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 256, (h * step + extra, w * step + extra), dtype=np.uint8)
    if flat:  # long runs of one level: the means then sit on exact levels and their neighbours
        grey = (grey // 64 * 64).astype(np.uint8)
    expected = cv2.resize(grey[:h * step, :w * step], (w, h), interpolation=cv2.INTER_AREA)
    assert np.array_equal(shrink_by(grey, step, w, h), expected)


@pytest.mark.parametrize("size", [(480, 800), (540, 960)])  # lumia-520's frame; lumia-930's once halved
def test_shrink_by_three_on_the_profiles_sizes(size: tuple[int, int]) -> None:
    grey = np.random.default_rng(1).integers(0, 256, size[::-1], dtype=np.uint8)
    w, h = size[0] // 3, size[1] // 3
    assert np.array_equal(shrink_by(grey, 3, w, h),
                          cv2.resize(grey[:h * 3, :w * 3], (w, h), interpolation=cv2.INTER_AREA))
