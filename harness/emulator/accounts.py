"""The emulated Microsoft-account service.

It holds accounts, checks passwords, and sends two-step-verification access
codes: by text message through the emulated mobile network (to the modem
whose SIM holds the number on file) and by e-mail: to a mail server over LMTP
(``harness.emulator.mail_out``), or into a local Maildir, the inbox a lab can
give the harness.
"""

from __future__ import annotations

import mailbox
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable


from harness.emulator.account_data import DATA_KEYS, Contact, Event, Feed, Mail, parse_data
from harness.emulator.mail_out import compose
from harness.emulator.sms import SmsNetwork
from harness.errors import ConfigError
from harness.tomlfile import read_toml, reject_unknown_keys

DEMO_ACCOUNTS = Path(__file__).with_name("demo_accounts.toml")

#: Who access-code texts come from (Microsoft's short code).
CODE_SENDER = "69525"
CODE_DIGITS = 7
#: Access-code texts by the account's language: (sender, text). As the real service does, a localised
#: text comes from the alphanumeric sender "Microsoft"; outside the GSM 7-bit alphabet it travels in UCS2,
#: and past 70 characters in two parts (the Russian one's code straddles them).
CODE_TEXTS = {
    "en": (CODE_SENDER, "Use {code} as Microsoft account security code"),
    "ru": ("Microsoft", "Используйте код безопасности учетной записи Майкрософт для входа: {code}. "
                        "Никому не сообщайте этот код."),
}
_ACCOUNT_KEYS = {"address": str, "password": str, "two_step": bool, "phone": str, "email": str, "language": str}


@dataclass
class Account:
    """One Microsoft account as the service knows it."""

    address: str
    password: str
    two_step: bool = False
    phone: str | None = None
    email: str | None = None
    #: The language of the texts the service sends (a key of CODE_TEXTS).
    language: str = "en"
    #: What the account syncs to a phone and unlocks on it (``account_data``).
    mail: list[Mail] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    apps: list[str] = field(default_factory=list)
    gamerscore: int = 0
    feeds: list[Feed] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """Everything but the password (for the control socket and logs)."""
        return {"address": self.address, "two_step": self.two_step, "phone": self.phone, "email": self.email,
                "language": self.language}


@dataclass
class Backup:
    """What 'back up now' stored in the cloud: one phone's apps and files, kept under the account that made it."""

    apps: list[str]
    files: dict[str, bytes]
    taken_at: float = field(default_factory=time.time)
    serial: str = ""


def mask_phone(number: str | None) -> str:
    return "••••" + (number or "")[-2:] if number else "(none)"


def mask_email(address: str | None) -> str:
    if not address or "@" not in address:
        return "(none)"
    user, domain = address.split("@", 1)
    return f"{user[:2]}*****@{domain}"


def load_accounts(path: str | Path) -> list[Account]:
    """Read a TOML file of ``[[account]]`` tables; one-line errors name the field."""
    path = Path(path)
    data = read_toml(path)
    reject_unknown_keys(path, data, ("account",), kind=" ([[account]] tables hold the accounts)")
    tables = data.get("account")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(path, "account", "missing: add at least one [[account]] table")
    accounts = []
    seen: dict[str, str] = {}
    for i, table in enumerate(tables, 1):  # positions count from 1, as the inventory's do
        where = f"account[{i}]"
        reject_unknown_keys(path, table, [*_ACCOUNT_KEYS, *DATA_KEYS], where)
        data = parse_data(path, where, table)
        table = {k: v for k, v in table.items() if k not in DATA_KEYS}
        for key, value in table.items():
            if not isinstance(value, _ACCOUNT_KEYS[key]):
                raise ConfigError(path, f"{where}.{key}", f"expected {_ACCOUNT_KEYS[key].__name__}, got {type(value).__name__}")
        for key in ("address", "password"):
            if key not in table:
                raise ConfigError(path, f"{where}.{key}", "missing")
        if "@" not in table["address"]:
            raise ConfigError(path, f"{where}.address", "not an e-mail address")
        if table["address"].lower() in seen:
            raise ConfigError(path, f"{where}.address", f"duplicate address {table['address']!r} (also {seen[table['address'].lower()]})")
        seen[table["address"].lower()] = where
        if table.get("language", "en") not in CODE_TEXTS:
            raise ConfigError(path, f"{where}.language", f"{table['language']!r}: expected one of {', '.join(CODE_TEXTS)}")
        account = Account(**table, **data)
        if account.two_step and not (account.phone or account.email):
            raise ConfigError(path, f"{where}.two_step", "two-step verification needs a phone or email on file")
        accounts.append(account)
    return accounts


class AccountService:
    """Accounts, sign-in checks, access codes and cloud backups."""

    def __init__(self, accounts: list[Account], sms: SmsNetwork, mail_dir: Path | None = None,
                 mail_to: Callable[[str, EmailMessage], None] | None = None) -> None:
        self._lock = threading.Lock()
        #: Hands mail to a mail server (``mail_out.LmtpSender``); when set, no Maildir is written.
        self.mail_to = mail_to
        self.accounts = {a.address.lower(): a for a in accounts}
        self.sms = sms
        self.mail_dir = mail_dir
        self._codes: dict[str, str] = {}
        self.backups: dict[str, dict[str, Backup]] = {}  # account address -> phone serial -> its last backup
        self.mail_outbox: list[dict[str, Any]] = []

    def find(self, address: str) -> Account | None:
        with self._lock:
            return self.accounts.get(address.strip().lower())

    def add(self, account: Account) -> None:
        with self._lock:
            self.accounts[account.address.lower()] = account

    def check_password(self, address: str, password: str) -> bool:
        account = self.find(address)
        return account is not None and secrets.compare_digest(account.password.encode(), password.encode())

    def send_code(self, address: str, method: str) -> str:
        """Send a fresh access code by ``text`` or ``email``; returns the masked destination."""
        account = self.find(address)
        if account is None:
            raise KeyError(address)
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        with self._lock:
            self._codes[account.address.lower()] = code
        sender, text = CODE_TEXTS.get(account.language, CODE_TEXTS["en"])
        body = text.format(code=code)
        if method == "text":
            if not account.phone:
                raise ValueError("no phone number on file")
            self.sms.send(account.phone, sender, body)
            return mask_phone(account.phone)
        if not account.email:
            raise ValueError("no e-mail address on file")
        self._deliver_mail(account.email, "Microsoft account security code", body)
        return mask_email(account.email)

    def _deliver_mail(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = "Microsoft account team <account-security-noreply@accountprotection.microsoft.com>"
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body + "\n")
        with self._lock:
            self.mail_outbox.append({"to": to, "subject": subject, "sent_at": time.time()})
        if self.mail_to is not None:
            self.mail_to(to, message)
        elif self.mail_dir is not None:
            box = mailbox.Maildir(self.mail_dir / to, create=True)
            box.add(mailbox.MaildirMessage(message))

    def verify_code(self, address: str, code: str) -> bool:
        key = address.strip().lower()
        with self._lock:
            expected = self._codes.get(key)
            if expected is not None and secrets.compare_digest(expected, code.strip()):
                del self._codes[key]
                return True
        return False

    def set_password(self, address: str, password: str) -> None:
        """The account's new password (the Reset your password page); the old one fails from now on."""
        with self._lock:
            self.accounts[address.strip().lower()].password = password

    def receive_mail(self, address: str, sender: str, subject: str, body: str = "") -> Mail:
        """A message arrives in the account's inbox (newer than every one before it); phones see it at their next sync."""
        account = self.find(address)
        if account is None:
            raise KeyError(f"no account {address!r}")
        mail = Mail.arriving(sender, subject, body)
        with self._lock:
            account.mail.append(mail)
        if self.mail_to is not None:  # the account's mailbox is on a mail server too (mail_out): hand it the message
            self.mail_to(account.address, compose(sender, account.address, subject, body))
        return mail

    def mail_for(self, address: str) -> list[Mail]:
        """The account's inbox, newest first (what a sync brings to the phone)."""
        account = self.find(address)
        with self._lock:
            return sorted(account.mail, key=lambda m: -m.seq) if account else []

    def store_backup(self, address: str, backup: Backup) -> None:
        """Keep ``backup`` (made on phone ``backup.serial``) under the account that made it."""
        with self._lock:
            self.backups.setdefault(address.strip().lower(), {})[backup.serial] = backup

    def backup_for(self, address: str, serial: str) -> Backup | None:
        """What a phone signed in to ``address`` can restore: its own backup, else the account's newest one.
        Another account's backups are never offered."""
        with self._lock:
            mine = self.backups.get(address.strip().lower(), {})
            if serial in mine:
                return mine[serial]
            return max(mine.values(), key=lambda b: b.taken_at, default=None)

    def forget_backups(self, serial: str) -> None:
        """Drop every backup phone ``serial`` made (a lab re-flash starts from nothing)."""
        with self._lock:
            for per_phone in self.backups.values():
                per_phone.pop(serial, None)
