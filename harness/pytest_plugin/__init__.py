"""The pytest plugin (entry point ``pytest11``): handsets, screens, modem, accounts and artifacts as fixtures.

With no option, tests run on an emulated handset, so a fresh checkout needs no
hardware. Options can also be set in ``pytest.ini`` / ``pyproject.toml``.
Imports of the heavy layers (OpenCV, ADB) happen inside fixtures, so the
plugin costs nothing in test runs that do not use it.

It is three plugins that pytest registers together through ``pytest_plugins``:
``options`` (command line, ini settings, markers), ``handsets`` (one test per
handset URI and the opened handset), ``fixtures`` (artifacts, screens, modem,
accounts, codes, flow, the emulator's control), ``report`` (what a failed
test leaves in its report), ``places`` (handsets from labgrid places, with
``--lg-coordinator``) and ``recording`` (each test's video and timeline).
"""

pytest_plugins = [
    "harness.pytest_plugin.options",
    "harness.pytest_plugin.handsets",
    "harness.pytest_plugin.fixtures",
    "harness.pytest_plugin.report",
    "harness.pytest_plugin.places",
    "harness.pytest_plugin.recording",
]
