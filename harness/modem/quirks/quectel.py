"""Quectel (EC25/EG25/BG96): URCs go to the "usbat" port unless told to come to ours.

``AT+QURCCFG="urcport","usbmodem"`` sends +CMTI/+CMT to the modem port the
harness reads; status reports are announced in one storage and kept in
another, so all three +CPMS memories are set to one storage.
"""

from harness.modem.quirks import Profile

PROFILE = Profile(
    "quectel", makers=("quectel",),
    setup=('AT+QURCCFG="urcport","usbmodem"',),
    urcs=("+QIND:", "+QUSIM:", "+QSTAT:", "+QCSQ:", "POWERED DOWN"),
    storages=("SM", "ME", "MT"),
    restart=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1"),
)
