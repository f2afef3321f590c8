"""Screen recognition: the screen library, the OpenCV matcher, waiting for screens, tap targets."""

from harness.vision.definitions import DEFAULT_LIBRARY, ScreenDefinition, load_definition
from harness.vision.matcher import Recognition, ScreenLibrary, find_target
from harness.vision.wait import ScreenTimeout, wait_for_screen

__all__ = ["DEFAULT_LIBRARY", "ScreenDefinition", "load_definition", "Recognition", "ScreenLibrary", "find_target",
           "ScreenTimeout", "wait_for_screen"]
