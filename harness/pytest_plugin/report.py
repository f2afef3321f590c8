"""What a failed test leaves in its report: artifacts folder, last screenshot, recognised screen, console tail.

The evidence is gathered within a short deadline of its own, so a dead handset
does not hold the report; the console tail is masked like the console log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.pytest_plugin import stash

#: What a failure hook may spend on a last screenshot: evidence, not a second wait for a dead handset.
EVIDENCE_SECONDS = 3.0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    art = item.stash.get(stash.ARTIFACTS, None)
    if art is None or report.when not in ("setup", "call"):
        return
    if report.when == "call" or report.failed:
        item.user_properties.append(("artifacts", str(art.dir)))
    if not report.failed:
        return
    lines = [f"artifacts: {art.dir}"]
    flow = item.stash.get(stash.FLOW, None)
    screenshot = _last_screenshot(item, art)
    if screenshot:
        lines.append(f"last screenshot: {screenshot}")
        item.user_properties.append(("screenshot", str(screenshot)))
    if flow is not None and flow.last is not None:
        lines.append(f"recognised screen: {flow.last.screen} (score {flow.last.score:.3f})")
        item.user_properties.append(("screen", flow.last.screen))
    console_log = art.path("console.log")
    if console_log.exists():
        from harness.secrets import redact

        tail = console_log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        lines.append("console log (tail):")
        lines += ["    " + redact(line) for line in tail]
    report.sections.append(("handset", "\n".join(lines)))
    _html_extras(item, report, screenshot)


def _last_screenshot(item: pytest.Item, art: Any) -> Path | None:
    from harness.deadline import within

    device = item.stash.get(stash.DEVICE, None)
    if device is not None:
        try:
            with within(EVIDENCE_SECONDS):
                image = device.handset.screenshot()
            recording = item.stash.get(stash.RECORDING, None)
            if recording is not None:  # the last frame of the test's video too
                recording.add_frame(image)
            return art.save_screenshot(image, "at-failure")
        except Exception:
            pass
    return art.last_screenshot


def _html_extras(item: pytest.Item, report: Any, screenshot: Path | None) -> None:
    if screenshot is None or not item.config.pluginmanager.hasplugin("html"):
        return
    try:
        import base64

        import pytest_html  # type: ignore[import-not-found]
    except ImportError:
        return
    extras = getattr(report, "extras", [])
    extras.append(pytest_html.extras.png(base64.b64encode(Path(screenshot).read_bytes()).decode()))
    report.extras = extras
