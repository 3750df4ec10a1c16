"""The deployment manifest: where a deal's contracts live and what they were built from.

Written atomically (temp file + rename) by the issuer; read by every later command (publish, distribute, claim,
status, replay). ``progress`` records each completed issuance step so that a run that died halfway resumes.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from rwa.errors import InputError
from rwa.paths import state_dir

MANIFEST_FORMAT = "rwa-deployment/1"


def default_manifest_path() -> Path:
    return Path(os.environ.get("RWA_DEPLOYMENT") or state_dir() / "deployment.json")


class Roles(BaseModel):
    admin: str
    issuer: str
    servicer: str
    agent: str
    reporters: list[str]
    threshold: int
    fee_recipient: str = ""


class Manifest(BaseModel):
    """What a deployment is. Contract names are the keys of ``contracts``:
    ``stablecoin``, ``registry``, ``oracle``, ``senior``, ``junior``, ``pool``."""

    format: str = MANIFEST_FORMAT
    chain_id: int
    network: str = Field(description="'embedded' or the JSON-RPC URL used at issuance")
    deployment_block: int
    deployment_block_hash: str = Field(default="", description="tells apart chains reset to the same addresses")
    deal_file: str
    deal_hash: str
    compiler_version: str
    contracts: dict[str, str] = Field(default_factory=dict)
    abi_hashes: dict[str, str] = Field(default_factory=dict)
    roles: Roles
    senior_size: int
    junior_size: int
    progress: list[str] = Field(default_factory=list)
    complete: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError:
            raise InputError(f"deployment has no {name!r} contract; has {sorted(self.contracts)}") from None


def load_manifest(path: Path) -> Manifest:
    if not path.is_file():
        raise InputError(f"no deployment manifest at {path}: run `rwa issue --deal FILE` first or pass --deployment")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON deployment manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{path}: not a deployment manifest (format is not {MANIFEST_FORMAT!r})")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: {field}: {first['msg']}") from None


def save_manifest(manifest: Manifest, path: Path) -> None:
    """Write atomically: a reader sees the old manifest or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest.model_dump(), fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
