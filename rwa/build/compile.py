"""Reproducible Solidity builds through py-solc-x's ``compile_standard``, and the build the package ships.

The compiler is chosen in this order: the path in ``RWA_SOLC``; a native ``solc`` on PATH whose version satisfies
the sources' pragma; the npm ``solc`` (solcjs) through the project's own Node front (``rwa/build/_solc_front/solc``).
Artifacts are cached under ``build/<key>/``, where the key hashes the sources, the settings, the versions the lock
file pins of the compiler and OpenZeppelin, and the compiler's exact version: an unchanged tree recompiles nothing.

The package ships a build of the project's contracts in ``rwa/build/artifacts/`` (:data:`SHIPPED`), written by
``rwa compile --update-shipped`` and committed, so an installed wheel deploys with no checkout, Node or compiler.
:func:`load_build` uses it wherever no ``contracts/`` is at hand, and in a checkout whenever the sources hash as the
shipped build says it was compiled from; a checkout whose sources changed compiles them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from rwa.build.store import Artifact, Build, read_build, write_build
from rwa.errors import CompileError, ToolchainError
from rwa.paths import build_dir, contracts_dir, node_modules, project_root

__all__ = [
    "SHIPPED",
    "Artifact",
    "Build",
    "compile_contracts",
    "find_compiler",
    "load_build",
    "ship_build",
    "shipped_mismatch",
    "source_hash",
]

EVM_VERSION = "cancun"
"""Pinned: solc 0.8.31+ defaults to osaka, which the embedded py-evm chain does not run."""

OPTIMIZER_RUNS = 200
_FRONT = Path(__file__).resolve().parent / "_solc_front" / "solc"
SHIPPED = Path(__file__).resolve().parent / "artifacts"
"""The build the package ships: every contract of ``contracts/``, compiled by the compiler the lock file pins."""
PINNED_PACKAGES = ("solc", "@openzeppelin/contracts")
"""The npm packages a build depends on: the compiler and the library the contracts import."""
_OUTPUTS = [
    "abi",
    "metadata",
    "devdoc",
    "userdoc",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.methodIdentifiers",
]


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


def _pins() -> dict[str, str]:
    """The version and integrity hash the lock file pins for each of :data:`PINNED_PACKAGES` (none without one):
    the other packages of the lock file do not change a build."""
    lock = project_root() / "package-lock.json"
    try:
        packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {}) if lock.is_file() else {}
    except (OSError, ValueError) as exc:
        raise ToolchainError(f"{lock}: not a readable lock file ({exc}); restore it from git") from exc
    pins = {}
    for name in PINNED_PACKAGES:
        entry = packages.get(f"node_modules/{name}") or {}
        pins[name] = f"{entry.get('version', '')} {entry.get('integrity', '')}".strip()
    return pins


def source_hash(sources: dict[str, str], settings: dict[str, Any] | None = None,
                pins: dict[str, str] | None = None) -> str:
    """What a build is compiled from, hashed: the sources by name, the compiler settings and the pinned packages."""
    digest = hashlib.sha256()
    digest.update(json.dumps(settings if settings is not None else _settings(), sort_keys=True).encode())
    digest.update(json.dumps(pins if pins is not None else _pins(), sort_keys=True).encode())
    for name, text in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def _cache_key(hashed_sources: str, version: str) -> str:
    return hashlib.sha256(f"{version}\0{hashed_sources}".encode()).hexdigest()[:24]


def _compiler_label(binary: str) -> str:
    """How a build names its compiler: the project's front by its place in the package, another by its path."""
    return "rwa/build/_solc_front/solc (npm solc)" if Path(binary).resolve() == _FRONT.resolve() else binary


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
    hashed = source_hash(sources, settings)
    key = _cache_key(hashed, version)
    out = build_dir() / key
    if not force:
        cached = read_build(out)
        if cached is not None:
            return cached

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
    build = Build(key=key, compiler=_compiler_label(binary), compiler_version=version, artifacts=artifacts,
                  from_cache=False, source_hash=hashed)
    write_build(out, build)
    return build


# -- the shipped build ----------------------------------------------------------------------------------------

_FIELDS = ("source", "abi", "bytecode", "deployed_bytecode", "metadata", "devdoc", "userdoc")
_COMPILER_FIELDS = {"bytecode", "deployed_bytecode", "metadata"}
"""What another compiler version compiles differently from the same sources."""
_UPDATE = "run `rwa compile --update-shipped` and commit rwa/build/artifacts/"


def _project_sources() -> dict[str, str] | None:
    """The checkout's contract sources; None where there is no checkout (an installed wheel)."""
    root = contracts_dir()
    if not root.is_dir() or not any(root.rglob("*.sol")):
        return None
    return _read_sources(root)


def shipped_mismatch(build: Build) -> str | None:
    """Why the shipped build is not ``build`` (a build of the project's contracts), in one line; None when it is.

    Compiled by another compiler version, only what that version cannot change is compared (which contracts, their
    sources, ABIs and NatSpec); by the same version, every part of every artifact."""
    shipped = read_build(SHIPPED)
    if shipped is None:
        return f"the package ships no build in {SHIPPED}: {_UPDATE}"
    if shipped.source_hash != build.source_hash:
        return (f"the build shipped in {SHIPPED} was compiled from other sources (hash {shipped.source_hash[:12]}, "
                f"the contracts here hash {build.source_hash[:12]}): {_UPDATE}")
    if set(shipped.artifacts) != set(build.artifacts):
        return f"the build shipped in {SHIPPED} names other contracts than contracts/ compiles to: {_UPDATE}"
    same_compiler = shipped.compiler_version == build.compiler_version
    fields = [f for f in _FIELDS if same_compiler or f not in _COMPILER_FIELDS]
    differ = sorted(
        f"{name}.{field}"
        for name, art in build.artifacts.items()
        for field in fields
        if getattr(art, field) != getattr(shipped.artifacts[name], field)
    )
    if differ:
        return f"the build shipped in {SHIPPED} differs from this compile in {', '.join(differ[:5])}: {_UPDATE}"
    return None


def ship_build(build: Build) -> Path:
    """Make ``build`` (a build of the project's contracts) the one the package ships; returns its folder."""
    write_build(SHIPPED, build)
    return SHIPPED


_BUILD: Build | None = None


def load_build() -> Build:
    """The project's build, once per process: the shipped one where there is no checkout or where the checkout's
    sources are the ones it was compiled from; otherwise the checkout's contracts compiled (once per tree, thanks to
    the cache)."""
    global _BUILD
    if _BUILD is None:
        _BUILD = _project_build()
    return _BUILD


def _project_build() -> Build:
    shipped = read_build(SHIPPED)
    sources = _project_sources()
    if sources is None:
        if shipped is None:
            raise ToolchainError(f"no contracts/ folder at {project_root()} and no build shipped in {SHIPPED}: "
                                 "run from a checkout of the project, or reinstall the package")
        return shipped
    if shipped is not None and shipped.source_hash == source_hash(sources):
        return shipped
    return compile_contracts()
