"""Where the project's files live: the root (contracts/, node_modules/, build/) and the local state folder."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The folder holding ``contracts/`` and ``package.json``.

    ``RWA_ROOT`` wins; otherwise the nearest such folder at or above the working directory; otherwise the checkout
    this package was installed from (an editable install).
    """
    env = os.environ.get("RWA_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "contracts").is_dir() and (candidate / "package.json").is_file():
            return candidate
    return _PACKAGE_DIR.parent


def contracts_dir() -> Path:
    return project_root() / "contracts"


def build_dir() -> Path:
    return Path(os.environ.get("RWA_BUILD_DIR") or project_root() / "build")


def node_modules() -> Path:
    return Path(os.environ.get("RWA_NODE_MODULES") or project_root() / "node_modules")


def state_dir() -> Path:
    """Local records of this checkout: the embedded chain, deployment manifests, ledgers."""
    return Path(os.environ.get("RWA_HOME") or Path.cwd() / ".rwa")
