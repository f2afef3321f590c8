"""A modem that follows 27.005/27.007 and V.250 and nothing else: the profile of every unknown modem."""

from harness.modem.quirks import Profile

PROFILE = Profile("generic", restart=("RDY", "+CFUN: 1", "+CPIN: READY", "SMS Ready"))
