"""An AT-command modem driver (3GPP TS 27.005/27.007) that reads access codes sent by SMS."""

from harness.modem.at import CmeError, CmsError, ModemError, ModemGarbled, Sms
from harness.modem.modem import GsmModem, ModemTimeout

__all__ = ["CmeError", "CmsError", "ModemError", "ModemGarbled", "Sms", "GsmModem", "ModemTimeout"]
