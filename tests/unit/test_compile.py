"""Compilation: artifacts, the cache, compiler choice, large outputs and compile errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import solcx

from rwa.build.compile import Build, _satisfies, compile_contracts, find_compiler
from rwa.errors import CompileError, ToolchainError


def test_build_has_every_artifact_part(build: Build) -> None:
    art = build["TestStablecoin"]
    assert art.source == "contracts/test/TestStablecoin.sol"
    assert any(item.get("name") == "mint" for item in art.abi)
    assert art.bytecode and art.deployed_bytecode and len(art.deployed_bytecode) < len(art.bytecode)
    metadata = json.loads(art.metadata)
    assert metadata["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert metadata["settings"]["evmVersion"] == "cancun"
    assert "mint(address,uint256)" in art.userdoc["methods"]
    assert "title" in art.devdoc


def test_unchanged_tree_recompiles_nothing(build: Build) -> None:
    first = compile_contracts()  # compiles on a fresh checkout: the project's build is the one the package ships
    again = compile_contracts()
    assert again.from_cache
    assert again.key == first.key and again.source_hash == first.source_hash == build.source_hash
    assert again["TestStablecoin"].bytecode == build["TestStablecoin"].bytecode


def _project(tmp_path: Path, source: str, name: str = "A.sol") -> Path:
    contracts = tmp_path / "contracts"
    contracts.mkdir(parents=True, exist_ok=True)
    (contracts / name).write_text(source)
    return contracts


def test_changed_source_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_BUILD_DIR", str(tmp_path / "build"))
    contracts = _project(tmp_path, "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract A {}\n")
    first = compile_contracts(contracts)
    assert not first.from_cache and "A" in first.artifacts
    assert compile_contracts(contracts).from_cache
    (contracts / "A.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract A { uint256 public x; }\n"
    )
    changed = compile_contracts(contracts)
    assert not changed.from_cache and changed.key != first.key


def test_syntax_error_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_BUILD_DIR", str(tmp_path / "build"))
    contracts = _project(
        tmp_path, "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n\ncontract B {\n  uint x\n}\n", "B.sol"
    )
    with pytest.raises(CompileError) as info:
        compile_contracts(contracts)
    assert str(info.value).startswith("contracts/B.sol:6: ParserError: Expected ';'")


def test_cli_compile_error_exits_1_with_one_line(tmp_path: Path) -> None:
    contracts = _project(
        tmp_path, "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract C { function }\n", "C.sol"
    )
    env = {**os.environ, "RWA_BUILD_DIR": str(tmp_path / "build")}
    done = subprocess.run(
        [sys.executable, "-m", "rwa.cli.main", "compile", "--contracts", str(contracts)],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: contracts/C.sol:3: ParserError")


def test_output_over_one_megabyte_arrives_whole(tmp_path: Path) -> None:
    """All OpenZeppelin parts the project uses, with every output: the front must not truncate it."""
    source = "\n".join(
        [
            "// SPDX-License-Identifier: MIT",
            "pragma solidity ^0.8.24;",
            'import "@openzeppelin/contracts/token/ERC20/ERC20.sol";',
            'import "@openzeppelin/contracts/access/AccessControl.sol";',
            'import "@openzeppelin/contracts/utils/cryptography/EIP712.sol";',
            'import "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";',
            'import "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";',
            'import "@openzeppelin/contracts/utils/ReentrancyGuard.sol";',
            'import "@openzeppelin/contracts/utils/Pausable.sol";',
        ]
    )
    root = Path(__file__).resolve().parents[2]
    binary, _ = find_compiler()
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"Big.sol": {"content": source}},
            "settings": {
                "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
                "outputSelection": {"*": {"*": ["*"], "": ["ast"]}},
            },
        },
        base_path=str(root),
        allow_paths=[str(root)],
        solc_binary=binary,
    )
    size = len(json.dumps(output))
    assert size > 1_000_000
    erc20 = [name for name in output["contracts"] if name.endswith("@openzeppelin/contracts/token/ERC20/ERC20.sol")]
    assert len(erc20) == 1 and "ERC20" in output["contracts"][erc20[0]]
    assert all(c["evm"]["bytecode"]["object"] is not None for c in output["contracts"][erc20[0]].values())


@pytest.mark.parametrize(
    ("version", "pragma", "ok"),
    [
        ("0.8.30", "^0.8.24", True),
        ("0.8.20", "^0.8.24", False),
        ("0.9.0", "^0.8.24", False),
        ("0.8.30", ">=0.8.20 <0.9.0", True),
        ("0.8.30", "0.8.29", False),
    ],
)
def test_pragma_check(version: str, pragma: str, ok: bool) -> None:
    assert _satisfies(version, pragma) is ok


def test_rwa_solc_wins_and_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RWA_SOLC", str(tmp_path / "no-such-solc"))
    with pytest.raises(ToolchainError, match="RWA_SOLC"):
        find_compiler()
    front = Path(__file__).resolve().parents[2] / "rwa" / "build" / "_solc_front" / "solc"
    monkeypatch.setenv("RWA_SOLC", str(front))
    path, version = find_compiler()
    assert path == str(front) and version.startswith("0.8.30")


def test_native_solc_on_path_is_preferred_when_its_version_fits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A `solc` on PATH is used when it satisfies the pragma, and passed over when it does not."""
    front = Path(__file__).resolve().parents[2] / "rwa" / "build" / "_solc_front" / "solc"
    fake = tmp_path / "bin" / "solc"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec {front} \"$@\"\n")
    fake.chmod(0o755)
    monkeypatch.delenv("RWA_SOLC", raising=False)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    assert find_compiler({"A.sol": "pragma solidity ^0.8.24;"})[0] == str(fake)
    assert find_compiler({"A.sol": "pragma solidity ^0.8.31;"})[0] == str(front)


def test_no_two_custom_errors_share_a_selector_with_different_arguments(build: Build) -> None:
    """Revert decoding is by selector across every ABI: a clash would name the wrong arguments."""
    from eth_utils.crypto import keccak

    seen: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    for art in build.artifacts.values():
        for item in art.abi:
            if item.get("type") != "error":
                continue
            types = ",".join(p["type"] for p in item["inputs"])
            selector = keccak(text=f"{item['name']}({types})")[:4]
            entry = (item["name"], tuple(p["name"] for p in item["inputs"]))
            assert seen.setdefault(selector, entry) == entry, (art.name, entry, seen[selector])
