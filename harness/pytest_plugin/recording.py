"""Each test's video and timeline: frames recorded while it runs, kept by ``--record``, ``timeline.html`` at its end.

The ``artifacts`` fixture starts the recording and ends it (``start``,
``finish``); the ``flow`` fixture hands the recorder its frames; this
module's report hook writes the failure into the step log (on the clock of
the timeline), notes which phase failed (so ``--record failures`` keeps the
video), gives JUnit the timeline's path as a property and links it from a
pytest-html report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.pytest_plugin import stash
from harness.pytest_plugin.options import option

#: Longest failure text put in the step log (the report has the whole of it).
FAILURE_CHARS = 2000


def record_mode(config: pytest.Config) -> str:
    """``--record`` (or the ini's ``record``), ``failures`` when neither says."""
    return option(config, "record") or "failures"


def start(item: pytest.Item, art: Any) -> Any:
    """This test's recording (its recorder is None under ``--record never``); the timeline's file is claimed now."""
    from harness.timeline.run import RunRecording

    recording = RunRecording(art, record_mode(item.config), title=item.nodeid)
    item.stash[stash.RECORDING] = recording
    return recording


def finish(item: pytest.Item) -> None:
    """Keep or drop the video, then write the timeline: every step, log line and frame the test left."""
    recording = item.stash.get(stash.RECORDING, None)
    if recording is not None:
        recording.close(failed=item.stash.get(stash.FAILED, False))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    art = item.stash.get(stash.ARTIFACTS, None)
    recording = item.stash.get(stash.RECORDING, None)
    if art is None or recording is None or report.when not in ("setup", "call"):
        return
    if report.failed:
        item.stash[stash.FAILED] = True
        text = call.excinfo.exconly() if call.excinfo is not None else report.longreprtext
        art.record("failure", when=report.when, error=text[:FAILURE_CHARS])
    if report.when == "call" or report.failed:
        item.user_properties.append(("timeline", str(recording.timeline)))
        _html_link(item, report, Path(recording.timeline))


def _html_link(item: pytest.Item, report: Any, timeline: Path) -> None:
    """A link to the timeline in the pytest-html report, relative to the report's folder where it can be."""
    if not item.config.pluginmanager.hasplugin("html"):
        return
    try:
        import pytest_html  # type: ignore[import-not-found]
    except ImportError:
        return
    html_path = getattr(item.config.option, "htmlpath", None)
    href = str(timeline.resolve())
    if html_path:
        try:
            href = os.path.relpath(timeline.resolve(), Path(html_path).resolve().parent)
        except ValueError:  # another drive
            pass
    extras = getattr(report, "extras", [])
    extras.append(pytest_html.extras.url(href, name="timeline"))
    report.extras = extras
