"""The sign-in flows read the screen: the masked number on the two-step screen must be the modem's, and the account
settings must show the account signed in. What is read comes from the handset's frames (ADB), never the emulator."""

from __future__ import annotations

import json

import pytest

from harness.accounts import Credentials
from harness.flows import CodeUnreachable, sign_in_after_setup
from harness.flows import FlowError
from harness.flows.on_screen import check_signed_in
from harness.flows.signin import finish_setup_without_account

ocr = pytest.importorskip("harness.vision.ocr")
try:
    ocr.tessdata_dir("eng")
    import tesserocr  # noqa: F401
except (ocr.OcrUnavailable, ImportError) as exc:  # pragma: no cover - scripts/setup installs both
    pytest.skip(f"needs Tesseract (apt-get install tesseract-ocr-eng; pip install tesserocr): {exc}", allow_module_level=True)

FAST = pytest.mark.emulator(animation_ms=0, signin_delay=0.2, boot_time=0.3)


def _reads(flow) -> list[dict]:
    events = [json.loads(line) for line in (flow.artifacts.dir / "steps.jsonl").read_text().splitlines()]
    return [e for e in events if e["kind"] == "read"]


@pytest.mark.profile("lumia-520", "lumia-930")
@pytest.mark.theme("light", "dark")
@FAST
def test_the_flow_reads_the_masked_number_and_the_signed_in_account(flow, account, sms_codes) -> None:
    if not account.phone:
        pytest.skip("the secrets file gives no phone on file for the primary account")
    finish_setup_without_account(flow)
    result = sign_in_after_setup(flow, account, sms_codes)
    assert result.two_step and result.final_screen == "account_settings"
    reads = _reads(flow)
    digits = [r["digits"] for r in reads if r.get("what") == "masked phone number"]
    # the two-step screen shows the last two digits of the number on file (a Windows Phone masks the rest)
    assert digits == ["".join(c for c in account.phone if c.isdigit())[-2:]], reads
    assert [r["address"] for r in reads if r.get("what") == "signed-in account"] == [account.address], reads
    # the same screen, checked for another account, is refused naming what it shows
    with pytest.raises(FlowError, match=f"signed in as mallory@outlook.com, but account_settings does not say so: it shows {account.address}"):
        check_signed_in(flow, flow.last, Credentials.of("mallory@outlook.com", "not-hers"))


@pytest.mark.profile("lumia-520")
@pytest.mark.theme("light")
@pytest.mark.emulator(animation_ms=0, signin_delay=0.2, boot_time=0.3, modem_number="+15550187")
def test_a_code_that_the_screen_says_goes_to_another_number_fails_before_it_is_sent(flow, account, sms_codes) -> None:
    """The lab did not say which number is on file: the flow reads it off the screen (ending 00, not the modem's 87)."""
    if not account.phone or account.phone.endswith("87"):
        pytest.skip("needs the primary account's number on file to differ from +15550187")
    unknown_number = Credentials.of(account.address, account.password)
    finish_setup_without_account(flow)
    with pytest.raises(CodeUnreachable) as failed:
        sign_in_after_setup(flow, unknown_number, sms_codes)
    message = str(failed.value)
    assert f"ending {''.join(c for c in account.phone if c.isdigit())[-2:]} (on file for {account.address})" in message and "+15550187" in message, message
    assert "two_step_code" not in [s.screen for s in flow.steps]  # no code was asked for
