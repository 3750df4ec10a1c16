"""No module of the package outside ``rwa/chain/`` asks which backend it holds: it imports no backend module, names
no backend class, and calls no method a backend has that the :class:`rwa.chain.interface.Chain` front does not
(read from the source, at any depth of its code)."""

from __future__ import annotations

import ast
from pathlib import Path

from rwa.chain import tx
from rwa.chain.embedded import EmbeddedBackend, EmbeddedProvider, FastEmbeddedBackend
from rwa.chain.embedded_direct import DirectNode
from rwa.chain.interface import Backend, Chain
from rwa.chain.rpc import RpcBackend, Web3Backend

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rwa"
CHAIN = PACKAGE / "chain"

BACKEND_MODULES = frozenset({"rwa.chain.backend", "rwa.chain.embedded", "rwa.chain.embedded_direct",
                             "rwa.chain.embedded_views", "rwa.chain.embedded_logs", "rwa.chain.rpc"})
BACKEND_CLASSES = (Backend, Web3Backend, RpcBackend, EmbeddedBackend, FastEmbeddedBackend, DirectNode,
                   EmbeddedProvider)
GENERIC = frozenset({"open", "flush"})
"""Backend methods whose names are also those of files and streams everywhere: not told apart by name."""


def _public(owner: object) -> set[str]:
    return {n for n in dir(owner) if not n.startswith("_")}


def backend_only() -> set[str]:
    """The names a backend (or the fast path under it) answers to that the Chain front and :mod:`rwa.chain.tx` do
    not: ``backend`` itself, ``direct``, ``py_evm_chain``, ``forget_head``, ..."""
    names = set().union(*(_public(c) for c in BACKEND_CLASSES)) | {"backend", "direct"}
    return names - _public(Chain) - _public(tx) - GENERIC


def _outside() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if CHAIN not in p.parents)


def _violations(path: Path, forbidden_names: set[str], forbidden_attributes: set[str]) -> list[str]:
    found = []
    where = path.relative_to(ROOT) if ROOT in path.parents else path.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            targets = {module} | {f"{module}.{a.name}" for a in node.names}
            found += [f"{where}:{node.lineno} imports {t}" for t in sorted(targets & BACKEND_MODULES)]
            found += [f"{where}:{node.lineno} imports {a.name}" for a in node.names if a.name in forbidden_names]
        elif isinstance(node, ast.Import):
            found += [f"{where}:{node.lineno} imports {a.name}" for a in node.names if a.name in BACKEND_MODULES]
        elif isinstance(node, ast.Name) and node.id in forbidden_names:
            found.append(f"{where}:{node.lineno} names {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in forbidden_attributes | forbidden_names:
            found.append(f"{where}:{node.lineno} uses .{node.attr}")
    return found


def test_the_backend_only_names_are_what_the_front_hides() -> None:
    only = backend_only()
    assert {"backend", "direct", "py_evm_chain", "forget_head", "add_keys", "default_gas_limit"} <= only
    assert not only & {"nonce", "send_raw", "wait_for_receipt", "account", "now", "time_travel", "get_logs"}


def test_no_module_outside_the_chain_package_asks_which_backend_it_holds() -> None:
    names = {c.__name__ for c in BACKEND_CLASSES} | {"direct_node", "takes_back_reverted", "ChainStateLog"}
    wrong = [v for path in _outside() for v in _violations(path, names, backend_only())]
    assert wrong == []


def test_the_walk_catches_each_kind_of_violation(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from rwa.chain.embedded import FastEmbeddedBackend\n"
        "from rwa.chain import rpc\n"
        "import rwa.chain.embedded_direct\n"
        "def f(chain):\n"
        "    if isinstance(chain.backend, FastEmbeddedBackend):\n"
        "        return chain.backend.direct.py_evm_chain\n"
    )
    names = {c.__name__ for c in BACKEND_CLASSES}
    hits = {v.split(" ", 1)[1] for v in _violations(sample, names, backend_only())}
    assert hits == {"imports rwa.chain.embedded", "imports FastEmbeddedBackend", "imports rwa.chain.rpc",
                    "imports rwa.chain.embedded_direct", "names FastEmbeddedBackend", "uses .backend",
                    "uses .direct", "uses .py_evm_chain"}
