"""What sets one vendor's modem apart from another's, as lab modems answer (``--modem-vendor``).

Each profile holds the identification strings, the storages and their
power-up choice, the +CNMI forms it takes, its boot lines and its habits:
Quectel's URCs on its "usbat" port and its status reports announced in "SM"
but kept in "SR"; Huawei's ^RSSI/^MODE/^HCSQ lines and "COMMAND NOT SUPPORT";
Cinterion's refusal of ME storage and of a 5th +CNMI parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

VENDORS = ("generic", "quectel", "huawei", "simcom", "cinterion")


@dataclass(frozen=True)
class Vendor:
    name: str
    manufacturer: str
    model: str
    revision: str
    imei: str
    #: ATI's lines (V.250 6.1.3): manufacturer, model, revision as the vendor prints them.
    ati: tuple[str, ...]
    #: The memories +CPMS=? offers for <mem1>, <mem2>, <mem3>.
    memories: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
    #: The memories selected at power-up (received messages go to the third).
    default_memories: tuple[str, str, str]
    #: AT+CNMI=? and the number of parameters it takes.
    cnmi_ranges: tuple[str, ...]
    cnmi_default: tuple[int, ...]
    #: Lines after power-up or a restart (27.007 does not name them; every vendor has its own).
    boot: tuple[str, ...]
    #: What an unknown command gets instead of ERROR (Huawei: "COMMAND NOT SUPPORT").
    unknown: str = "ERROR"
    #: Quectel: a second AT port ("usbat") that gets URCs unless AT+QURCCFG="urcport" says otherwise.
    urc_port: bool = False
    #: Quectel: SMS-STATUS-REPORTs kept in "SR" but announced in this memory.
    report_announced_in: str | None = None
    #: Huawei: ^RSSI/^HCSQ/^MODE reports (AT^CURC switches them).
    caret_reports: bool = False
    capacity: int = 30
    operator: str = "Harness Mobile"


_CNMI5 = ("(0-3)", "(0-3)", "(0,2)", "(0-2)", "(0,1)")

PROFILES: dict[str, Vendor] = {
    "generic": Vendor(
        "generic", "HARNESS", "GSM MODEM", "HM-1.0", "490154203237518",
        ("HARNESS", "GSM MODEM", "Revision: HM-1.0"),
        (("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME")), ("SM", "SM", "SM"),
        _CNMI5, (0, 0, 0, 0, 0), ("RDY", "+CFUN: 1", "+CPIN: READY", "SMS Ready")),
    "quectel": Vendor(
        "quectel", "Quectel", "EC25", "EC25EFAR06A06M4G", "867698041234561",
        ("Quectel", "EC25", "Revision: EC25EFAR06A06M4G"),
        (("SM", "ME", "SR"), ("SM", "ME", "SR"), ("SM", "ME", "SR")), ("ME", "ME", "ME"),
        ("(0-2)", "(0-3)", "(0,2)", "(0-2)", "(0,1)"), (2, 1, 0, 0, 0),
        ("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"),
        urc_port=True, report_announced_in="SM", capacity=255),
    "huawei": Vendor(
        "huawei", "huawei", "E3372", "22.200.15.00.00", "866958021234564",
        ("Manufacturer: huawei", "Model: E3372", "Revision: 22.200.15.00.00", "IMEI: 866958021234567",
         "+GCAP: +CGSM,+DS,+ES"),
        (("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME")), ("SM", "SM", "SM"),
        ("(0,1,2)", "(0,1,2,3)", "(0,2)", "(0,1,2)", "(0,1)"), (0, 0, 0, 0, 0),
        ("^SYSSTART", "+CFUN: 1", "+CPIN: READY", "^SIMST: 1", "^SRVST: 2"),
        unknown="COMMAND NOT SUPPORT", caret_reports=True, capacity=255),
    "simcom": Vendor(
        "simcom", "SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "LE20B04SIM7600M22", "862636051234563",
        ("Manufacturer: SIMCOM INCORPORATED", "Model: SIMCOM_SIM7600E-H", "Revision: LE20B04SIM7600M22",
         "IMEI: 862636051234561", "+GCAP: +CGSM"),
        (("SM", "ME", "SR"), ("SM", "ME"), ("SM", "ME")), ("ME", "ME", "ME"), ("(0-2)", "(0-3)", "(0,2)", "(0-2)", "(0,1)"), (2, 1, 0, 0, 0),
        ("RDY", "+CPIN: READY", "SMS DONE", "PB DONE")),
    "cinterion": Vendor(
        "cinterion", "Cinterion", "EHS6", "REVISION 03.001", "358735041234567",
        ("Cinterion", "EHS6", "REVISION 03.001"),
        (("SM", "SR"), ("SM",), ("SM",)), ("SM", "SM", "SM"),
        ("(0,1,2,3)", "(0,1,2,3)", "(0,2,3)", "(0,2)"), (0, 0, 0, 0),
        ("^SYSSTART", "+CFUN: 1", "+CPIN: READY"), capacity=30),
}


def vendor(name: str) -> Vendor:
    """The profile for ``name``; ValueError naming the choices."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"modem vendor {name!r}: expected one of {', '.join(VENDORS)}") from None
