"""The chain layer: one interface (:mod:`rwa.chain.interface`: ``Chain`` and ``connect``) over two backends, the
embedded chain (:mod:`rwa.chain.embedded`) and any JSON-RPC node (:mod:`rwa.chain.rpc`); sends, views and their
decoded reverts (:mod:`rwa.chain.tx`, :mod:`rwa.chain.reverts`). Import what you need from its modules: this package
imports nothing itself, so reaching one module does not load web3.py for another."""
