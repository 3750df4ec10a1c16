"""A build on disk: one JSON file per contract and a ``build.json`` that names them, written so that a reader never
meets half of it. The compile cache (``build/<key>/``) and the artifacts the package ships
(``rwa/build/artifacts/``) are two folders of this one format."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rwa.errors import ToolchainError

MANIFEST = "build.json"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    metadata: str
    devdoc: dict[str, Any]
    userdoc: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "metadata": self.metadata,
            "devdoc": self.devdoc,
            "userdoc": self.userdoc,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(
            name=data["name"],
            source=data["source"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            metadata=data["metadata"],
            devdoc=data["devdoc"],
            userdoc=data["userdoc"],
        )


@dataclass(frozen=True)
class Build:
    """The artifacts of one compilation, with what produced them.

    ``source_hash`` hashes what the artifacts were compiled from (the sources, the settings, the pinned compiler
    and library packages); ``key`` adds the compiler's exact version to it."""

    key: str
    compiler: str
    compiler_version: str
    artifacts: dict[str, Artifact]
    from_cache: bool
    source_hash: str = ""

    def __getitem__(self, name: str) -> Artifact:
        try:
            return self.artifacts[name]
        except KeyError:
            raise ToolchainError(f"no contract named {name!r} in the build; have {sorted(self.artifacts)}") from None


def write_build(folder: Path, build: Build) -> None:
    """Write ``build`` into ``folder`` so that concurrent writers (two processes compiling the same tree at once) and
    readers never meet a half-written file: every file is written under a name of this process's, then renamed into
    place, the manifest last. Contract files of an earlier build that this one lacks are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    mine = f".{os.getpid()}.tmp"
    for name, art in build.artifacts.items():
        tmp = folder / f"{name}.json{mine}"
        tmp.write_text(json.dumps(art.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(folder / f"{name}.json")
    manifest = {
        "key": build.key,
        "sourceHash": build.source_hash,
        "compiler": build.compiler,
        "compilerVersion": build.compiler_version,
        "contracts": sorted(build.artifacts),
    }
    tmp = folder / f"{MANIFEST}{mine}"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)  # the manifest appears last and atomically: a half-written build is no build
    for stale in folder.glob("*.json"):
        if stale.name != MANIFEST and stale.stem not in build.artifacts:
            stale.unlink(missing_ok=True)


def read_build(folder: Path, *, from_cache: bool = True) -> Build | None:
    """The build in ``folder``; None when it holds none (no manifest)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        artifacts = {
            name: Artifact.from_json(json.loads((folder / f"{name}.json").read_text(encoding="utf-8")))
            for name in data["contracts"]
        }
        return Build(
            key=data["key"],
            compiler=data["compiler"],
            compiler_version=data["compilerVersion"],
            artifacts=artifacts,
            from_cache=from_cache,
            source_hash=data.get("sourceHash", ""),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ToolchainError(
            f"{folder}: not a readable build ({exc}); delete it, or run `rwa compile --force`"
        ) from exc
