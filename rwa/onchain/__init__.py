"""Typed wrappers over the deployed contracts: one module per contract, each a thin class around web3."""
