"""The build the package ships (``rwa/build/artifacts/``): compiled from the contracts here, what the compiler makes of
them, the one the project loads, and `rwa compile` refusing a tree it was not compiled from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rwa.build.compile as compile_module
from rwa.build.compile import SHIPPED, compile_contracts, shipped_mismatch, source_hash
from rwa.build.store import Build, read_build
from rwa.paths import contracts_dir
from tests.support.deals import ROOT

REGENERATE = "rwa compile --update-shipped"


def _shipped() -> Build:
    shipped = read_build(SHIPPED)
    assert shipped is not None, f"no build in {SHIPPED}: run `{REGENERATE}` and commit it"
    return shipped


def _contract_sources(root: Path) -> dict[str, str]:
    return {p.relative_to(root.parent).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*.sol"))}


def test_the_shipped_build_is_compiled_from_the_contracts_here() -> None:
    shipped = _shipped()
    here = source_hash(_contract_sources(contracts_dir()))
    assert shipped.source_hash == here, (
        f"contracts/ changed since {SHIPPED} was written: run `{REGENERATE}` and commit rwa/build/artifacts/"
    )


def test_the_shipped_build_is_what_the_compiler_makes_of_them() -> None:
    assert shipped_mismatch(compile_contracts()) is None


def test_the_project_loads_the_shipped_build_when_its_sources_match(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")  # no compiler, no node: nothing is compiled
    build = compile_module._project_build()
    assert build.key == _shipped().key and build.artifacts.keys() == _shipped().artifacts.keys()


def test_without_a_checkout_the_shipped_build_is_loaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RWA_ROOT", str(tmp_path))  # no contracts/ there
    monkeypatch.setenv("PATH", "")
    build = compile_module._project_build()
    assert build.source_hash == _shipped().source_hash
    assert build["LeasePool"].bytecode and build["TestStablecoin"].abi


def test_a_changed_contract_is_compiled_and_rwa_compile_says_the_shipped_build_is_stale(tmp_path: Path) -> None:
    """A checkout whose contracts changed: the project compiles them instead of the shipped build, and `rwa compile`
    exits 1 naming the command that regenerates the shipped build (the real one is not touched)."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "contracts", root / "contracts")
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, root / name)
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    token = root / "contracts" / "test" / "TestStablecoin.sol"
    token.write_text(token.read_text(encoding="utf-8") + "\n// a change after the shipped build\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in SHIPPED.iterdir()}
    env = {**os.environ, "RWA_ROOT": str(root), "RWA_BUILD_DIR": str(tmp_path / "build")}
    done = subprocess.run([sys.executable, "-m", "rwa.cli.main", "compile"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: the build shipped in ") and "compiled from other sources" in line
    assert REGENERATE in line
    assert {p.name: p.read_bytes() for p in SHIPPED.iterdir()} == before

    compiled = subprocess.run(
        [sys.executable, "-c", "from rwa.build.compile import load_build; b = load_build(); "
         "print(b.from_cache, b.source_hash)"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=True,
    ).stdout.split()
    assert compiled[1] == source_hash(_contract_sources(root / "contracts")) != _shipped().source_hash
    assert compiled[0] == "True"  # the compile `rwa compile` cached, not the shipped build
