"""Reproducible Solidity builds through py-solc-x's ``compile_standard``.

The compiler is chosen in this order: the path in ``RWA_SOLC``; a native ``solc`` on PATH whose version satisfies
the sources' pragma; the npm ``solc`` (solcjs) through the project's own Node front (``rwa/build/_solc_front/solc``).
Artifacts are cached under ``build/<key>/`` where the key hashes the sources, the settings, the lock file that pins
OpenZeppelin, and the compiler version: an unchanged tree recompiles nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from rwa.errors import CompileError, ToolchainError
from rwa.paths import build_dir, contracts_dir, node_modules, project_root

EVM_VERSION = "cancun"
"""Pinned: solc 0.8.31+ defaults to osaka, which the embedded py-evm chain does not run."""

OPTIMIZER_RUNS = 200
_FRONT = Path(__file__).resolve().parent / "_solc_front" / "solc"
_OUTPUTS = [
    "abi",
    "metadata",
    "devdoc",
    "userdoc",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.methodIdentifiers",
]


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
    """The artifacts of one compilation, with what produced them."""

    key: str
    compiler: str
    compiler_version: str
    artifacts: dict[str, Artifact]
    from_cache: bool

    def __getitem__(self, name: str) -> Artifact:
        try:
            return self.artifacts[name]
        except KeyError:
            raise ToolchainError(f"no contract named {name!r} in the build; have {sorted(self.artifacts)}") from None


# -- compiler discovery ---------------------------------------------------------------------------------------


def _version_of(binary: str) -> str:
    try:
        return str(solcx.wrapper.get_solc_version(binary, with_commit_hash=True))
    except (OSError, SolcError, subprocess.CalledProcessError) as exc:
        raise ToolchainError(f"cannot run solc at {binary}: {exc}") from exc


_PRAGMA = re.compile(r"pragma\s+solidity\s+([^;]+);")


def _satisfies(version: str, pragma: str) -> bool:
    """A small check for the forms the project uses: ``^x.y.z``, ``>=x.y.z <a.b.c``, ``x.y.z``."""
    have = tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:3])
    for term in pragma.split():
        m = re.fullmatch(r"(\^|>=|<=|>|<|=)?(\d+)\.(\d+)\.(\d+)", term)
        if not m:
            return False
        op, want = m.group(1) or "=", (int(m.group(2)), int(m.group(3)), int(m.group(4)))
        ok = {
            "^": want <= have < (want[0], want[1] + 1, 0) if want[0] == 0 else want <= have < (want[0] + 1, 0, 0),
            ">=": have >= want,
            "<=": have <= want,
            ">": have > want,
            "<": have < want,
            "=": have == want,
        }[op]
        if not ok:
            return False
    return True


def _pragmas(sources: dict[str, str]) -> list[str]:
    return sorted({m.group(1).strip() for text in sources.values() for m in _PRAGMA.finditer(text)})


def find_compiler(sources: dict[str, str] | None = None) -> tuple[str, str]:
    """Return ``(path, version)`` of the compiler to use, in the documented order of preference."""
    env = os.environ.get("RWA_SOLC")
    if env:
        if not Path(env).is_file():
            raise ToolchainError(f"RWA_SOLC={env} is not a file; unset it or point it at a solc binary")
        return env, _version_of(env)
    native = shutil.which("solc")
    if native and Path(native).resolve() != _FRONT.resolve():
        try:
            version = _version_of(native)
        except ToolchainError:
            version = ""
        pragmas = _pragmas(sources or {})
        if version and all(_satisfies(version, p) for p in pragmas):
            return native, version
    if shutil.which("node") is None:
        raise ToolchainError("no solc found: install Node.js and run `npm ci`, or set RWA_SOLC to a solc binary")
    if not (node_modules() / "solc" / "package.json").is_file():
        raise ToolchainError(f"solcjs is not installed in {node_modules()}: run `npm ci` (or `make setup`)")
    return str(_FRONT), _version_of(str(_FRONT))


# -- compilation ----------------------------------------------------------------------------------------------


def _read_sources(root: Path) -> dict[str, str]:
    if not root.is_dir():
        raise ToolchainError(f"no contracts folder at {root}")
    sources = {
        path.relative_to(root.parent).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.sol"))
    }
    if not sources:
        raise ToolchainError(f"no .sol files under {root}")
    return sources


def _settings() -> dict[str, Any]:
    return {
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "evmVersion": EVM_VERSION,
        "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
        "outputSelection": {"*": {"*": _OUTPUTS}},
    }


def _cache_key(sources: dict[str, str], settings: dict[str, Any], version: str) -> str:
    digest = hashlib.sha256()
    digest.update(version.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    lock = project_root() / "package-lock.json"
    if lock.is_file():
        digest.update(lock.read_bytes())
    for name, text in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:24]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def _first_error(errors: list[dict[str, Any]], sources: dict[str, str]) -> str:
    err = next(e for e in errors if e.get("severity") == "error")
    loc = err.get("sourceLocation") or {}
    file = loc.get("file", "<input>")
    text = sources.get(file)
    if text is None and file and (project_root() / file).is_file():
        text = (project_root() / file).read_text(encoding="utf-8")
    line = _line_of(text, int(loc.get("start", 0))) if text is not None else 0
    return f"{file}:{line}: {err.get('type', 'Error')}: {err.get('message', '').strip()}"


def compile_contracts(root: Path | None = None, *, force: bool = False) -> Build:
    """Compile every contract under ``root`` (default ``contracts/``), or load the cached build for this tree."""
    src_root = root or contracts_dir()
    sources = _read_sources(src_root)
    settings = _settings()
    binary, version = find_compiler(sources)
    key = _cache_key(sources, settings, version)
    out = build_dir() / key
    manifest = out / "build.json"
    if manifest.is_file() and not force:
        return _load(manifest, from_cache=True)

    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": settings,
    }
    base = src_root.parent
    try:
        output = solcx.compile_standard(
            standard_input, base_path=str(base), allow_paths=[str(base)], solc_binary=binary
        )
    except SolcError as exc:
        errors = list(getattr(exc, "error_dict", None) or [])
        if any(e.get("severity") == "error" for e in errors):
            raise CompileError(_first_error(errors, sources), errors) from None
        raise CompileError(f"solc failed: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}") from None

    artifacts: dict[str, Artifact] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        if not source_name.startswith(src_root.name + "/"):
            continue  # library contracts (OpenZeppelin) are compiled in but not published as artifacts
        for name, data in contracts.items():
            artifacts[name] = Artifact(
                name=name,
                source=source_name,
                abi=data["abi"],
                bytecode=data["evm"]["bytecode"]["object"],
                deployed_bytecode=data["evm"]["deployedBytecode"]["object"],
                metadata=data["metadata"],
                devdoc=data.get("devdoc", {}),
                userdoc=data.get("userdoc", {}),
            )
    _store(out, key, binary, version, artifacts)
    return Build(key=key, compiler=binary, compiler_version=version, artifacts=artifacts, from_cache=False)


def _store(out: Path, key: str, binary: str, version: str, artifacts: dict[str, Artifact]) -> None:
    """Write the build so that concurrent writers (two processes compiling the same tree at once) and readers never
    meet a half-written file: every file is written under a name of this process's, then renamed into place."""
    out.mkdir(parents=True, exist_ok=True)
    mine = f".{os.getpid()}.tmp"
    for name, art in artifacts.items():
        tmp = out / f"{name}.json{mine}"
        tmp.write_text(json.dumps(art.to_json(), indent=1), encoding="utf-8")
        tmp.replace(out / f"{name}.json")
    manifest = {"key": key, "compiler": binary, "compilerVersion": version, "contracts": sorted(artifacts)}
    tmp = out / f"build.json{mine}"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    tmp.replace(out / "build.json")  # the manifest appears last and atomically: a half-written build is no build


def _load(manifest: Path, *, from_cache: bool) -> Build:
    data = json.loads(manifest.read_text(encoding="utf-8"))
    artifacts = {
        name: Artifact.from_json(json.loads((manifest.parent / f"{name}.json").read_text(encoding="utf-8")))
        for name in data["contracts"]
    }
    return Build(
        key=data["key"],
        compiler=data["compiler"],
        compiler_version=data["compilerVersion"],
        artifacts=artifacts,
        from_cache=from_cache,
    )


_BUILD: Build | None = None


def load_build() -> Build:
    """The project's build, compiled once per process (and once per tree, thanks to the cache)."""
    global _BUILD
    if _BUILD is None:
        _BUILD = compile_contracts()
    return _BUILD
