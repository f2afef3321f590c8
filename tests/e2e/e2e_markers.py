"""The end-to-end suite runs every flow on three profiles (480x800, 720x1280, 1080x1920) in both themes,
with animations and toasts on. On a rack, pass --handset URIs instead and the same tests drive real phones."""

from __future__ import annotations

import pytest

E2E_MARKERS = [
    pytest.mark.profile("lumia-520", "lumia-1320", "lumia-930"),
    pytest.mark.theme("dark", "light"),
    pytest.mark.emulator(toasts=1, toast_interval=4, animation_ms=150, signin_delay=0.4, boot_time=0.6),
]
