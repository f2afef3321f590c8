"""Where the data that ships with the package lives: device profiles and the screen library.

The repository keeps them at the top, ``device_profiles/`` and ``fixtures/screens/``
(its public layout); ``harness/data/`` links to them and the wheel carries copies
there. So a checkout, an editable install and a wheel install all find them
through the package, whatever the current directory is.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped(name: str) -> Path:
    """The folder ``harness/data/NAME`` of the installed package, resolved to where its files really are."""
    return Path(str(files("harness").joinpath("data", name))).resolve()


#: The shipped device profiles (``device_profiles/`` in a checkout).
PROFILES_DIR = shipped("device_profiles")
#: The shipped screen library (``fixtures/screens/`` in a checkout).
SCREENS_DIR = shipped("screens")
