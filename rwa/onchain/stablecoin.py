"""The stablecoin the pool pays in: any ERC-20, and ``TestStablecoin`` (6 decimals, owner-mintable) on dev chains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from web3 import Web3
from web3.types import BlockIdentifier

from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.onchain.base import ContractWrapper, create

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

TEST_NAME = "Test USD"
TEST_SYMBOL = "tUSD"
TEST_DECIMALS = 6
"""``TestStablecoin.decimals()``: a deal issued against it must state ``decimals = 6``."""


class Stablecoin(ContractWrapper):
    """An ERC-20 stablecoin; amounts are integers in its smallest unit (6 decimals for ``TestStablecoin``).

    Bound with ``TestStablecoin``'s ABI, a superset of ERC-20's."""

    CONTRACT = "TestStablecoin"

    @classmethod
    def deploy_test(cls, chain: Chain, owner: str, *, force: bool = False, gas: int | None = None,
                    batch: Batch | None = None) -> Stablecoin:
        """Deploy ``TestStablecoin`` owned (and mintable) by ``owner``.

        Refuses on a chain that is not a local development chain: a mintable "stablecoin" on a public network would
        be a worthless token anyone might mistake for money. ``force=True`` overrides, e.g. for a testnet rehearsal.
        """
        if not chain.is_dev and not force:
            raise InputError(
                f"refusing to deploy TestStablecoin on chain {chain.chain_id}, which is not a local development "
                "chain: pass the real stablecoin's address, or force it for a testnet rehearsal"
            )
        contract = create(chain, "TestStablecoin", TEST_NAME, TEST_SYMBOL, owner, sender=owner, gas=gas, batch=batch)
        return cls(chain, contract)

    def mint(self, to: str, amount: int, *, sender: str, gas: int | None = None) -> None:
        """Mint ``amount`` to ``to`` (``TestStablecoin`` only; ``sender`` must be its owner)."""
        self._send(self.contract.functions.mint(Web3.to_checksum_address(to), amount), sender, gas, 200_000)

    def approve(self, spender: str, amount: int, *, sender: str, gas: int | None = None) -> None:
        self._send(
            self.contract.functions.approve(Web3.to_checksum_address(spender), amount), sender, gas, 100_000
        )

    def transfer(self, to: str, amount: int, *, sender: str, gas: int | None = None) -> None:
        self._send(self.contract.functions.transfer(Web3.to_checksum_address(to), amount), sender, gas, 100_000)

    def balance_of(self, holder: str, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.balanceOf(Web3.to_checksum_address(holder)), block))

    def allowance(self, owner: str, spender: str) -> int:
        fn = self.contract.functions.allowance(Web3.to_checksum_address(owner), Web3.to_checksum_address(spender))
        return int(self._call(fn))

    def total_supply(self) -> int:
        return int(self._call(self.contract.functions.totalSupply()))

    def decimals(self) -> int:
        return int(self._call(self.contract.functions.decimals()))
