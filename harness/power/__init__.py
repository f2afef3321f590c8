"""Power switches: relay boards and USB hub ports behind one small interface."""

from harness.power.base import PowerSwitch, PowerSwitchError
from harness.power.lcus import LcusRelay, lcus_frame
from harness.power.spec import open_switch, parse_switch_spec
from harness.power.uhubctl import UhubctlSwitch

__all__ = ["PowerSwitch", "PowerSwitchError", "LcusRelay", "lcus_frame", "UhubctlSwitch", "open_switch", "parse_switch_spec"]
