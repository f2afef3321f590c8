"""Huawei (E3372, ME909, ...): ^-reports mixed into answers, "COMMAND NOT SUPPORT" instead of ERROR.

``AT^CURC=0`` turns the periodic reports off where the firmware allows; the
driver files them as unsolicited either way.
"""

from harness.modem.quirks import Profile

PROFILE = Profile(
    "huawei", makers=("huawei",),
    setup=("AT^CURC=0",),
    urcs=("^RSSI:", "^HCSQ:", "^MODE:", "^BOOT:", "^SRVST:", "^SIMST:", "^SYSSTART", "^DSFLOWRPT:", "^CEND:",
          "^ORIG:", "^CONF:", "^CONN:", "^NDISSTAT:", "^STIN:", "^ACTIVEBAND:", "^RFSWITCH:"),
    errors=("COMMAND NOT SUPPORT", "TOO MANY PARAMETERS"),
    restart=("^SYSSTART", "+CFUN: 1", "+CPIN: READY", "^SIMST: 1"),
)
