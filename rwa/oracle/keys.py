"""Reporter keys: encrypted keystores for real deployments, a fixed development set for the embedded chain.

Keystores are eth-account's encrypted JSON (``Account.encrypt``). Their paths come from ``RWA_REPORTER_KEYSTORES``
(a list separated by ``os.pathsep``) or ``--reporter-keystore`` options, the password from ``RWA_REPORTER_PASSWORD``
or ``--reporter-password``. No key is ever written in the project: the development set is taken from the embedded
chain's own funded accounts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from rwa.chain.interface import Chain
from rwa.chain.keys import DEV_REPORTER_SLOT, load_keystore
from rwa.errors import InputError

DEV_REPORTERS = 5
"""How many development reporter keys there are, from ``rwa.chain.keys.DEV_REPORTER_SLOT`` on."""


def dev_reporters(chain: Chain, count: int = DEV_REPORTERS) -> list[LocalAccount]:
    """The development reporter keys: the chain's local accounts from ``DEV_REPORTER_SLOT`` on (``count`` of them).

    On a JSON-RPC development node the chain's own accounts (from its key source) are used at the same slots.
    """
    slots = list(range(DEV_REPORTER_SLOT, DEV_REPORTER_SLOT + count))
    if len(chain.accounts) <= slots[-1]:
        raise InputError(
            f"the chain has {len(chain.accounts)} local keys; development reporters need slots {slots[0]}..{slots[-1]}"
            " (set RWA_REPORTER_KEYSTORES for real reporter keys)"
        )
    return [chain.accounts[i] for i in slots]


def load_reporter_keystores(paths: Sequence[Path], password: str) -> list[LocalAccount]:
    """Decrypt each keystore file; a file that is unreadable or a wrong password is an ``InputError`` naming it."""
    return [load_keystore(Path(p), password, "reporter keystore", "RWA_REPORTER_PASSWORD") for p in paths]


def write_keystore(account: LocalAccount, path: Path, password: str, iterations: int | None = None) -> Path:
    """Encrypt ``account`` into a keystore file (mode 0600); ``iterations`` (pbkdf2) only to make tests fast."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if iterations is None:
        data = Account.encrypt(account.key, password)
    else:
        data = Account.encrypt(account.key, password, kdf="pbkdf2", iterations=iterations)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    return path


def reporter_keys(
    chain: Chain,
    keystores: Sequence[Path] | None = None,
    password: str | None = None,
) -> list[LocalAccount]:
    """Reporter keys for this run: the given keystores, else ``RWA_REPORTER_KEYSTORES``, else on a development
    chain the development set; on any other chain without keystores it is an error."""
    paths = list(keystores or [])
    if not paths:
        paths = [Path(p) for p in os.environ.get("RWA_REPORTER_KEYSTORES", "").split(os.pathsep) if p]
    if paths:
        secret = password if password is not None else os.environ.get("RWA_REPORTER_PASSWORD")
        if secret is None:
            raise InputError("reporter keystores given without a password: set RWA_REPORTER_PASSWORD")
        return load_reporter_keystores(paths, secret)
    if chain.is_dev:
        return dev_reporters(chain)
    raise InputError("no reporter keys: set RWA_REPORTER_KEYSTORES and RWA_REPORTER_PASSWORD")


def select_signers(keys: Sequence[LocalAccount], reporters: Sequence[str], threshold: int) -> list[LocalAccount]:
    """The first ``threshold`` of ``keys`` that are on-chain reporters (by address order); too few is an error."""
    allowed = {r.lower() for r in reporters}
    usable = sorted((k for k in keys if k.address.lower() in allowed), key=lambda k: k.address.lower())
    if len(usable) < threshold:
        raise InputError(
            f"only {len(usable)} of the reporter keys given are authorised on the oracle, threshold is {threshold}"
        )
    return usable[:threshold]
