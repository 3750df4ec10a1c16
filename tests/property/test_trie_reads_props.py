"""The view calls' trie reads (``rwa.chain.embedded_views.NodeCachedTrie``, decoded nodes kept by hash) answer exactly
what
py-trie's own reads answer: present and absent keys, keys sharing long prefixes (extension nodes, nodes small
enough to be embedded in their parent), deletions, and every older root of a trie that kept changing while the
decoded nodes were shared between them. A missing node is reported as py-trie reports it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.exceptions import MissingTrieNode
from trie.hexary import HexaryTrie

from rwa.chain.embedded_views import NodeCachedTrie

# 32-byte keys, as the state tries' hashed keys, from four byte values only: keys share long prefixes
KEYS = st.lists(st.sampled_from([0x00, 0x01, 0x10, 0xFF]), min_size=32, max_size=32).map(bytes)
VALUES = st.binary(min_size=1, max_size=40)
CHANGES = st.lists(st.tuples(KEYS, st.one_of(st.none(), VALUES)), min_size=1, max_size=60)


@given(changes=CHANGES, probes=st.lists(KEYS, max_size=20))
@settings(max_examples=150, deadline=None)
def test_cached_reads_equal_py_tries_at_every_root(changes: list[tuple[bytes, bytes | None]], probes: list[bytes]
                                                   ) -> None:
    db: dict[bytes, bytes] = {}
    trie = HexaryTrie(db)
    roots: list[tuple[bytes, dict[bytes, bytes]]] = []
    content: dict[bytes, bytes] = {}
    for key, value in changes:  # None deletes the key
        if value is None:
            del trie[key]
            content.pop(key, None)
        else:
            trie[key] = value
            content[key] = value
        roots.append((trie.root_hash, dict(content)))
    keys = {k for k, _ in changes} | set(probes)
    for root, expected in roots:
        cached, plain = NodeCachedTrie(db, root_hash=root), HexaryTrie(db, root_hash=root)
        for key in keys:
            assert cached.get(key) == plain.get(key) == expected.get(key, b"")
            assert cached[key] == cached.get(key)


def test_a_missing_node_is_reported_as_py_trie_reports_it() -> None:
    db: dict[bytes, bytes] = {}
    trie = HexaryTrie(db)
    for i in range(40):
        trie[bytes([i]) * 32] = b"value %d" % i
    root = trie.root_hash
    del db[root]
    for reader in (NodeCachedTrie(db, root_hash=root), HexaryTrie(db, root_hash=root)):
        with pytest.raises(MissingTrieNode) as missing:
            reader.get(bytes([7]) * 32)
        assert missing.value.missing_node_hash == root
