"""The keys that sign for a chain: the development chain's slots, and a node's keys from the environment
(``RWA_PRIVATE_KEYS``) or encrypted keystore files (``RWA_KEYSTORE``). Keys are never read from the project's files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from rwa.errors import InputError

EMBEDDED_ACCOUNTS = 20
DEV_ROLE_SLOTS = 5
"""On a development chain the local keys 0..4 sign as deployer/issuer, servicer, compliance agent, fee recipient and
trustee."""
DEV_REPORTER_SLOT = 10
"""... and the oracle's reporters sign with the keys from this slot on."""


def keys_from_environment() -> list[LocalAccount]:
    """Signing keys for a node: ``RWA_PRIVATE_KEYS`` (comma-separated hex) and/or ``RWA_KEYSTORE`` files.

    ``RWA_KEYSTORE`` is a path-separated list of encrypted keystore JSON files, decrypted with
    ``RWA_KEYSTORE_PASSWORD``. Keys are never read from the project's files.
    """
    accounts: list[LocalAccount] = []
    raw = os.environ.get("RWA_PRIVATE_KEYS", "").strip()
    for i, key in enumerate(k.strip() for k in raw.split(",") if k.strip()):
        try:
            accounts.append(Account.from_key(key))
        except (ValueError, TypeError):
            raise InputError(f"RWA_PRIVATE_KEYS entry {i + 1} is not a 32-byte hex private key") from None
    for path in filter(None, os.environ.get("RWA_KEYSTORE", "").split(os.pathsep)):
        accounts.append(load_keystore(Path(path), os.environ.get("RWA_KEYSTORE_PASSWORD", "")))
    return accounts


def load_keystore(path: Path, password: str, what: str = "keystore", password_env: str = "RWA_KEYSTORE_PASSWORD"
                  ) -> LocalAccount:
    """Decrypt one encrypted keystore file; an unreadable file or a wrong password is one line naming it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{what} {path}: cannot read it ({exc})") from None
    try:
        key = Account.decrypt(data, password)
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{what} {path}: wrong password or not a keystore (set {password_env})") from None
    account: LocalAccount = Account.from_key(key)
    return account


