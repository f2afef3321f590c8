"""Test accounts by role, from the environment or a secrets file (never from test source)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


from harness.errors import ConfigError
from harness.tomlfile import read_toml, reject_unknown_keys
from harness.secrets import Secret

@dataclass(frozen=True)
class Credentials:
    """A Microsoft account to sign in with; the password never prints.

    ``phone`` and ``email`` are what the account has on file for two-step
    verification, when the lab knows them: a flow then checks at once that
    the access code goes where the harness can read it.
    """

    address: str
    password: Secret
    phone: str | None = None
    email: str | None = None

    @classmethod
    def of(cls, address: str, password: str | Secret, phone: str | None = None,
           email: str | None = None) -> "Credentials":
        return cls(address, password if isinstance(password, Secret) else Secret(password), phone or None,
                   email or None)



DEMO_SECRETS = Path(__file__).resolve().parent / "emulator" / "demo_secrets.toml"


def load_secrets_file(path: str | Path) -> dict[str, Credentials]:
    """``[account.ROLE]`` tables with ``address`` and ``password`` (and optionally ``phone``/``email`` on file)."""
    path = Path(path)
    data = read_toml(path)
    roles = data.get("account")
    if not isinstance(roles, dict):
        raise ConfigError(path, "account", "missing: add [account.ROLE] tables")
    out = {}
    for role, table in roles.items():
        reject_unknown_keys(path, table, ("address", "password", "phone", "email"), f"account.{role}")
        for key in ("address", "password"):
            if not isinstance(table.get(key), str):
                raise ConfigError(path, f"account.{role}.{key}", "missing or not a string")
        for key in ("phone", "email"):
            if key in table and not isinstance(table[key], str):
                raise ConfigError(path, f"account.{role}.{key}", "not a string")
        out[role] = Credentials(table["address"], Secret(table["password"]), table.get("phone"), table.get("email"))
    return out


def load_accounts(secrets_file: str | Path | None = None, environ: dict[str, str] | None = None) -> dict[str, Credentials]:
    """Roles from the secrets file (``HARNESS_SECRETS`` or the given path), overridden by the environment."""
    env = os.environ if environ is None else environ
    path = secrets_file or env.get("HARNESS_SECRETS")
    accounts = load_secrets_file(path) if path else {}
    for key, value in env.items():
        if key.startswith("HARNESS_ACCOUNT_"):
            role = key[len("HARNESS_ACCOUNT_"):].lower()
            password = env.get(f"HARNESS_PASSWORD_{role.upper()}")
            if password is None:
                raise ConfigError("(environment)", f"HARNESS_PASSWORD_{role.upper()}", f"missing for {key}")
            accounts[role] = Credentials(value, Secret(password))
    return accounts
