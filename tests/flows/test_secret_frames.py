"""No frame a run keeps shows a secret: a phone that hangs with the access code typed in its field leaves a
timeout frame and an error's evidence frame, and neither shows the code's digits, while the phone's own
screen does (read by OCR from a fresh screenshot: what a person would see)."""

from __future__ import annotations

import re
import time
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from harness.accounts import Credentials
from harness.cli.evidence import keep_evidence
from harness.errors import HarnessError
from harness.flows import FlowRunner, sign_in_during_setup
from harness.secrets import Secret
from harness.vision import find_target
from harness.vision.field_text import field_box, read_field

#: The phone starts where set-up asks for an account: the set-up pages before add nothing here but time.
pytestmark = [pytest.mark.profile("lumia-930"),
              pytest.mark.emulator(animation_ms=0, signin_delay=0.2, screen="keep_your_life_in_sync")]


class _HangsAfterTheCode:
    """The handset, but once an access code (digits) is typed it takes no more taps: a phone that hung there."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.hung, self.hung_at = inner, False, 0.0

    def screenshot(self) -> np.ndarray:
        return self.inner.screenshot()

    def tap(self, x: int, y: int) -> None:
        if not self.hung:
            self.inner.tap(x, y)

    def text(self, text: "str | Secret") -> None:
        if isinstance(text, Secret) and text.reveal().isdigit():
            self.hung, self.hung_at = True, time.time()  # (before typing: what is kept from now on may show it)
        self.inner.text(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _shows(code: str, frame: np.ndarray, point: tuple[float, float]) -> list[str]:
    """What OCR reads in the code's field when it reads most of ``code`` there (a digit or two may be misread:
    5 read as 9), else nothing."""
    box = field_box(frame, (round(point[0]), round(point[1])))
    readings = [] if box is None else read_field(frame, box, only="0123456789")
    return [r for r in readings if SequenceMatcher(None, r, code).ratio() >= 0.7]


def test_frames_kept_while_the_code_is_in_its_field_do_not_show_it(flow, emulator_control, sms_codes,
                                                                    artifacts) -> None:
    emulator_control.call("add_account", address="veil@outlook.com", password="veil-pass-1", two_step=True,
                          phone="+15550100", email="veil.inbox@example.com")
    handset = _HangsAfterTheCode(flow.handset)
    run = FlowRunner(handset, flow.library, artifacts, timeout=6, scale=flow.scale)  # type: ignore[arg-type]
    with pytest.raises(HarnessError) as failed:
        sign_in_during_setup(run, Credentials.of("veil@outlook.com", "veil-pass-1"), sms_codes)
    assert handset.hung, f"the flow ended before the code was typed: {failed.value}"
    evidence = keep_evidence(artifacts, handset, failed.value)
    code = re.search(r"\d{7}", next(m["body"] for m in emulator_control.call("outbox")["messages"]
                                    if m["to"] == "+15550100")).group(0)

    shown = handset.screenshot()  # the phone itself still shows the code in its field
    rec = flow.library.classify(shown)[0]
    assert rec is not None and rec.screen == "two_step_code", rec
    point = find_target(rec, "field:code")
    assert _shows(code, shown, point), f"OCR cannot read {code} on the phone's own screen"

    # the frames kept since the code was typed: the wait's timeout frame and the error's evidence at least
    kept = sorted(p for p in artifacts.dir.rglob("*.png") if p.stat().st_mtime >= handset.hung_at - 1)
    assert any(p.name.startswith("timeout-") for p in kept) and Path(evidence) in kept, (evidence, kept)
    for path in kept:
        frame = np.asarray(Image.open(path).convert("RGB"))
        if frame.shape != shown.shape:
            continue
        assert not _shows(code, frame, point), f"{path.name} shows the access code"
