"""Deploying contracts and sending transactions, with reverts surfacing as decoded custom errors."""

from __future__ import annotations

import functools
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import BlockIdentifier, TxParams, TxReceipt, Wei

from rwa.chain import Chain
from rwa.compile import Build, load_build
from rwa.errors import ChainError, ContractRevertError
from rwa.reverts import ErrorDecoder, revert_data

EMBEDDED_GAS_LIMIT = 25_000_000
"""The gas sent with a transaction on the embedded chain when none is given (its blocks hold 30M)."""


@functools.lru_cache(maxsize=8)
def _decoder_for(key: str) -> ErrorDecoder:
    return ErrorDecoder(art.abi for art in load_build().artifacts.values())


def decoder(build: Build | None = None) -> ErrorDecoder:
    return _decoder_for((build or load_build()).key)


def reraise_revert(exc: BaseException, contract: str = "") -> None:
    """Raise ``ContractRevertError`` for ``exc`` if it is a revert; otherwise return and let the caller re-raise."""
    data = revert_data(exc)
    if data is not None:
        raise decoder().decode(data, contract) from None


def contract_at(chain: Chain, name: str, address: str) -> Contract:
    contract = chain.w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_build()[name].abi)
    assert isinstance(contract, Contract)
    return contract


def deploy(chain: Chain, name: str, *args: Any, sender: str | None = None, gas: int | None = None) -> Contract:
    """Deploy the project's contract ``name`` with constructor ``args``; returns the bound contract."""
    art = load_build()[name]
    factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    params: TxParams = {"from": sender or chain.accounts[0].address}
    if gas is not None:
        params["gas"] = gas
    try:
        tx_hash = factory.constructor(*args).transact(params)
    except Exception as exc:
        reraise_revert(exc, name)
        raise
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or not receipt.get("contractAddress"):
        raise ChainError(f"deploying {name} failed in transaction {tx_hash.hex()}")
    return contract_at(chain, name, str(receipt["contractAddress"]))


def send(fn: ContractFunction, sender: str, gas: int | None = None, value: int = 0) -> TxReceipt:
    """Send ``fn`` from ``sender`` and wait for its receipt; a revert raises ``ContractRevertError``.

    Without ``gas`` the node estimates it, which surfaces a revert before anything is sent. With an explicit
    ``gas`` (fast on the embedded chain) a failed receipt is re-run as a call at its block to decode the reason.
    """
    w3 = fn.w3
    if gas is None and isinstance(w3.provider, EthereumTesterProvider):
        # py-evm estimates by bisection, re-running the call ~20 times; on the embedded chain a limit near the
        # block's is as safe (a revert refunds what is unused, and is decoded below) and several times faster
        gas = EMBEDDED_GAS_LIMIT
    params: TxParams = {"from": sender}
    if value:
        params["value"] = Wei(value)
    if gas is not None:
        params["gas"] = gas
    name = getattr(fn, "address", "")
    try:
        tx_hash = fn.transact(params)
    except Exception as exc:
        reraise_revert(exc, str(name))
        raise
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        try:
            fn.call({"from": sender}, block_identifier=receipt["blockNumber"] - 1)
        except Exception as exc:
            reraise_revert(exc, str(name))
            raise
        raise ContractRevertError("OutOfGasOrUnknown", {"tx": tx_hash.hex(), "gas": gas}, b"", str(name))
    return receipt


def call(fn: ContractFunction, sender: str | None = None, block: BlockIdentifier = "latest") -> Any:
    """A view call at ``block`` whose revert is decoded like a transaction's."""
    try:
        return fn.call({"from": sender} if sender else None, block_identifier=block)
    except Exception as exc:
        reraise_revert(exc, str(getattr(fn, "address", "")))
        raise
