"""The JSON-RPC backend: any node at an http(s) URL or an IPC path, asked through web3.py.

:class:`Web3Backend` answers the whole :class:`rwa.chain.interface.Backend` through web3.py's requests, as any node
understands them; :class:`RpcBackend` is it on a node. The embedded chain without its fast path answers the same way
(:class:`rwa.chain.embedded.EmbeddedBackend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import BlockIdentifier, FilterParams, LogReceipt, RPCEndpoint, TxParams, Wei

from rwa.chain.backend import Backend, checksummed
from rwa.chain.reverts import revert_data

DEV_CHAIN_IDS = frozenset({131277322940537, 31337, 1337})
"""eth-tester's chain id and the usual ids of local development nodes (anvil, hardhat, ganache)."""


class Web3Backend(Backend):
    """Every answer through web3.py's requests (``eth_call``, ``eth_getLogs``, ``evm_snapshot``, ...)."""

    def __init__(self, w3: Web3, location: str) -> None:
        self.w3 = w3
        self.location = location
        self._keys: list[LocalAccount] = []

    def add_keys(self, accounts: Sequence[LocalAccount]) -> None:
        known = {a.address for a in self._keys}
        self._keys.extend(a for a in accounts if a.address not in known)
        onion = self.w3.middleware_onion
        if "signer" in onion:
            onion.remove("signer")
        onion.inject(SignAndSendRawMiddlewareBuilder.build(self._keys), "signer", layer=0)

    # -- reads ----------------------------------------------------------------------------------------------------

    def head(self) -> tuple[int, int]:
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), int(block["timestamp"])

    def pending_timestamp(self) -> int:
        return int(self.w3.eth.get_block("pending")["timestamp"])

    def block(self, number: int) -> tuple[bytes, int]:
        block = self.w3.eth.get_block(number)
        return bytes(block["hash"]), int(block["timestamp"])

    def sender_of(self, tx_hash: bytes, number: int) -> str:
        return checksummed(str(self.w3.eth.get_transaction(HexBytes(tx_hash))["from"]))

    def nonce(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))

    def gas_price(self) -> int:
        return int(self.w3.eth.gas_price)

    def code_hash(self, address: str) -> bytes:
        return bytes(keccak(bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))))

    def call(self, to: str | None, data: bytes, sender: str, block: BlockIdentifier = "latest") -> tuple[bool, bytes]:
        params: TxParams = {"from": Web3.to_checksum_address(sender), "data": data}
        if to:
            params["to"] = Web3.to_checksum_address(to)
        try:
            return True, bytes(self.w3.eth.call(params, block_identifier=block))
        except Exception as exc:
            reverted = revert_data(exc)
            if reverted is None:
                raise
            return False, reverted

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] = (),
                 topics: Sequence[Any] = ()) -> list[LogReceipt]:
        query: FilterParams = {"fromBlock": from_block, "toBlock": to_block}
        if addresses:
            query["address"] = [Web3.to_checksum_address(a) for a in addresses]
        if topics:
            query["topics"] = list(topics)
        return list(self.w3.eth.get_logs(query))

    def get_logs_of(self, queries: Sequence[FilterParams]) -> list[list[LogReceipt]]:
        return [list(self.w3.eth.get_logs(query)) for query in queries]

    # -- sends ----------------------------------------------------------------------------------------------------

    def transact(self, sender: str, to: str | None, data: bytes, gas: int | None, value: int = 0) -> bytes:
        """Through web3.py's ``eth_sendTransaction``: signed by the signer middleware when ``sender`` is a local key
        (a development node may sign for its own unlocked accounts)."""
        params: TxParams = {"from": Web3.to_checksum_address(sender), "data": data}
        if to:
            params["to"] = Web3.to_checksum_address(to)
        if value:
            params["value"] = Wei(value)
        if gas is not None:
            params["gas"] = gas
        return bytes(self.w3.eth.send_transaction(params))

    def send_raw(self, raw: bytes) -> bytes:
        return bytes(self.w3.eth.send_raw_transaction(raw))

    def send_raw_unless_reverted(self, raw: bytes) -> bytes | None:
        """The transaction run as a call on the pending state first (one ``eth_call``): a rejection sends nothing."""
        sent = Account.recover_transaction(raw)
        decoded = _decoded(raw)
        ok, _ = self.call(decoded["to"], decoded["data"], sent)
        if not ok:
            return None
        return self.send_raw(raw)

    def receipt(self, tx_hash: bytes, timeout: float) -> Any:
        return self.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout)

    # -- the development clock and snapshots ----------------------------------------------------------------------

    def time_travel(self, timestamp: int) -> None:
        self.w3.provider.make_request(RPCEndpoint("evm_setNextBlockTimestamp"), [timestamp])
        self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    def mine(self) -> None:
        self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    def take_snapshot(self) -> object:
        return self.w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]

    def revert_to(self, snapshot: object) -> None:
        self.w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])

    def close(self) -> None:
        """Nothing is held open: web3.py's HTTP session closes with the process."""


def _decoded(raw: bytes) -> dict[str, Any]:
    """A signed transaction's ``to`` (0x-hex or None) and ``data``: a legacy transaction is an RLP list (nonce, gas
    price, gas, to, value, data, v, r, s), a typed one (EIP-2718) a type byte before its payload."""
    if raw and raw[0] >= 0xC0:
        import rlp

        items = rlp.decode(raw)
        to, data = bytes(items[3]), bytes(items[5])
    else:
        from eth_account.typed_transactions.typed_transaction import TypedTransaction

        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        to, data = bytes(HexBytes(fields.get("to") or b"")), bytes(HexBytes(fields.get("data") or b""))
    return {"to": "0x" + to.hex() if to else None, "data": data}


class RpcBackend(Web3Backend):
    """A JSON-RPC node."""

    kind = "rpc"

    def __init__(self, w3: Web3, location: str, chain_id: int) -> None:
        super().__init__(w3, location)
        self.chain_id = chain_id

    @classmethod
    def open(cls, url: str, timeout: float, chain_id: int) -> RpcBackend:
        """The node at ``url`` (an http(s) URL or an IPC path), which answered ``chain_id`` to its first request
        (:func:`rwa.chain.connect.node_chain_id`): nothing is asked of it here."""
        if url.startswith(("http://", "https://")):
            w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        else:
            w3 = Web3(Web3.IPCProvider(url, timeout=int(timeout)))
        return cls(w3, url, chain_id)

    @property
    def is_dev(self) -> bool:
        return self.chain_id in DEV_CHAIN_IDS

    @property
    def network(self) -> str:
        return self.location
