"""Cinterion/Gemalto/Thales (EHS6, PLS8): no ME storage, +CNMI with four parameters, ^SYSSTART at boot."""

from harness.modem.quirks import Profile

PROFILE = Profile(
    "cinterion", makers=("cinterion", "gemalto", "thales", "siemens"),
    urcs=("^SYSSTART", "+CIEV:", "^SBC:", "^SCKS:", "^SIS:"),
    storages=("SM", "MT"),
    cnmi_params=4,
    restart=("^SYSSTART", "+CFUN: 1", "+CPIN: READY"),
)
