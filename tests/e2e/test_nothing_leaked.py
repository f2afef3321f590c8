"""Nothing lost, nothing leaked: a canary password and its access code appear in no artifact or report."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

from harness.accounts import Credentials
from harness.flows import sign_in_during_setup


def _all_bytes(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_canary_password_and_code_never_reach_artifacts(flow, emulator_control, sms_codes, artifacts, device) -> None:
    canary = "canary-" + secrets.token_hex(8)
    emulator_control.call("add_account", address="canary@outlook.com", password=canary, two_step=True,
                          phone="+15550100", email="canary.inbox@example.com")
    result = sign_in_during_setup(flow, Credentials.of("canary@outlook.com", canary), sms_codes)
    assert result.two_step and result.final_screen == "start"
    code = next(m["body"] for m in emulator_control.call("outbox")["messages"] if m["to"] == "+15550100")
    code = re.search(r"\d{7}", code).group(0)
    files = _all_bytes(artifacts.dir)
    assert any(p.suffix == ".png" for p in files) and (artifacts.dir / "steps.jsonl").exists()
    for path, data in files.items():
        assert canary.encode() not in data, f"the password leaked into {path}"
        assert code.encode() not in data, f"the access code leaked into {path}"


def test_failure_report_junit_and_html_carry_evidence_but_no_secret(tmp_path) -> None:
    """A failing sign-in in a separate pytest run: the reports name the screen and the artifacts, never the password.

    The pytest-html report shows the screenshot taken at the failure inline.
    """
    canary = "canary-" + secrets.token_hex(8)
    test_file = tmp_path / "test_fails.py"
    test_file.write_text(textwrap.dedent("""
        import pytest
        from harness.flows import sign_in_during_setup

        @pytest.mark.account("canary")
        def test_wrong_password(flow, account):
            sign_in_during_setup(flow, account)
    """))
    junit = tmp_path / "junit.xml"
    art = tmp_path / "artifacts"
    html = tmp_path / "report.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env.update(HARNESS_ACCOUNT_CANARY="alice@outlook.com", HARNESS_PASSWORD_CANARY=canary)
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(test_file),
                          f"--junitxml={junit}", f"--html={html}", "--self-contained-html",
                          f"--artifacts={art}", "--emulator-option=animation_ms=0",
                          "--emulator-option=signin_delay=0.2"],
                         capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
    assert "recognised screen: wrong_password" in out.stdout and "last screenshot:" in out.stdout
    xml = junit.read_text()
    assert 'name="artifacts"' in xml and 'name="screenshot"' in xml and "wrong_password" in xml
    assert canary not in out.stdout + out.stderr and canary not in xml
    screenshot = Path(re.search(r'name="screenshot" value="([^"]+)"', xml).group(1))
    page = html.read_text()
    assert base64.b64encode(screenshot.read_bytes()).decode() in page, "the failure screenshot is not inline in the HTML"
    assert "recognised screen: wrong_password" in page and canary not in page
    for path, data in _all_bytes(art).items():
        assert canary.encode() not in data, f"the password leaked into {path}"
