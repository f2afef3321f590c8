"""SIMCom (SIM800, SIM7600): boot lines "RDY", "SMS DONE", "PB DONE" and network time reports."""

from harness.modem.quirks import Profile

PROFILE = Profile(
    "simcom", makers=("simcom", "sim com"),
    urcs=("SMS DONE", "PB DONE", "*PSUTTZ:", "DST:", "+CTZV:", "+CGEV:"),
    restart=("RDY", "+CFUN: 1", "+CPIN: READY", "SMS DONE"),
)
