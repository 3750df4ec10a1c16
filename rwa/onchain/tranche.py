"""Typed wrapper over ``TrancheToken``: a compliant ERC-20 tranche that pays its holders stablecoin (ERC-2222)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier, TxReceipt

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.onchain.base import ContractWrapper, HasAddress, Role, create, to_address
from rwa.onchain.registry import BATCH_SIZE, ComplianceRegistry

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

CLAIMABLE_BATCH = 1_000
"""Holders per ``claimableOf`` or ``claimsDue`` call: at most about 11k gas each, far below a node's call gas cap
(eth-tester's is ~30M)."""


class Restriction(enum.IntEnum):
    """ERC-1404 restriction codes (``contracts/interfaces/IComplianceRegistry.sol``); 0 means the move succeeds."""

    SUCCESS = 0
    SENDER_NOT_ALLOWED = 1
    RECEIVER_NOT_ALLOWED = 2
    SENDER_KYC_EXPIRED = 3
    RECEIVER_KYC_EXPIRED = 4
    SENDER_FROZEN = 5
    RECEIVER_FROZEN = 6
    PAUSED = 7
    INSUFFICIENT_BALANCE = 8
    ZERO_ADDRESS = 9
    SPENDER_RESTRICTED = 10


@dataclass(frozen=True)
class Position:
    """One holder in one tranche, as a claim needs it: read together at one block."""

    balance: int
    claimable: int
    withdrawn: int
    claim_restriction: Restriction

    @property
    def known(self) -> bool:
        """The holder holds the tranche or has been paid by it."""
        return self.balance > 0 or self.withdrawn > 0


class TrancheToken(ContractWrapper):
    """One deployed tranche (senior or junior); every transaction names its ``sender`` explicitly.

    ``gas``, when given, is sent with every transaction instead of an estimate (about twice as fast on the
    embedded chain; a revert is still decoded).
    """

    CONTRACT = "TrancheToken"
    ROLES = (Role.DEFAULT_ADMIN_ROLE, Role.ISSUER_ROLE, Role.AGENT_ROLE, Role.COMPLIANCE_ROLE, Role.DISTRIBUTOR_ROLE)

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        name: str,
        symbol: str,
        stablecoin: str | HasAddress,
        registry: str | HasAddress,
        admin: str | HasAddress,
        *,
        sender: str | None = None,
        gas: int | None = None,
        bind: bool = True,
        batch: Batch | None = None,
    ) -> TrancheToken:
        """Deploy a tranche paying in ``stablecoin``, checking ``registry``; ``admin`` holds DEFAULT_ADMIN_ROLE,
        ISSUER_ROLE and AGENT_ROLE. Grant DISTRIBUTOR_ROLE to the pool once it is deployed.

        With ``bind`` (the default), ``admin``, who must also be the registry's admin, then binds the token to the
        registry and syncs every investor the registry already knows, so the token is usable at once. Without it
        the token knows no investor (every mint and transfer is refused) until that is done."""
        contract = create(
            chain,
            cls.CONTRACT,
            name,
            symbol,
            to_address(stablecoin),
            to_address(registry),
            to_address(admin),
            sender=sender,
            batch=batch,
        )
        token = cls(chain, contract, gas)
        if bind and batch is None:
            reg = ComplianceRegistry.at(chain, registry, gas)
            binder = to_address(admin)
            reg.bind_token(token, sender=binder)
            reg.sync_investors(token, reg.known_investors(), sender=binder)
        return token

    # -- issuance -------------------------------------------------------------------------------------------

    def mint(self, to: str | HasAddress, amount: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.mint(to_address(to), amount), sender)

    def mint_batch(
        self,
        recipients: Sequence[str | HasAddress],
        amounts: Sequence[int],
        *,
        sender: str,
        batch_size: int = BATCH_SIZE,
    ) -> list[TxReceipt]:
        """Mint to many investors, ``batch_size`` per transaction; returns one receipt per batch."""
        if len(recipients) != len(amounts):
            raise InputError(f"mint_batch: {len(recipients)} recipients but {len(amounts)} amounts")
        if batch_size < 1:
            raise InputError(f"mint_batch: batch_size must be at least 1, got {batch_size}")
        addresses = [to_address(r) for r in recipients]
        receipts = []
        for start in range(0, len(addresses), batch_size):
            end = start + batch_size
            fn = self.contract.functions.mintBatch(addresses[start:end], list(amounts[start:end]))
            receipts.append(self._send_estimated(fn, sender))  # estimated: a batch needs far more than one call's gas
        return receipts

    def close_issuance(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.closeIssuance(), sender)

    def issuance_closed(self) -> bool:
        return bool(self._call(self.contract.functions.issuanceClosed()))

    # -- ERC-20 ---------------------------------------------------------------------------------------------

    def transfer(self, to: str | HasAddress, amount: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.transfer(to_address(to), amount), sender)

    def approve(self, spender: str | HasAddress, amount: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.approve(to_address(spender), amount), sender)

    def transfer_from(
        self, from_: str | HasAddress, to: str | HasAddress, amount: int, *, sender: str
    ) -> TxReceipt:
        return self._send(self.contract.functions.transferFrom(to_address(from_), to_address(to), amount), sender)

    def balance_of(self, holder: str | HasAddress) -> int:
        return int(self._call(self.contract.functions.balanceOf(to_address(holder))))

    def total_supply(self, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.totalSupply(), block))

    def allowance(self, owner: str | HasAddress, spender: str | HasAddress) -> int:
        return int(self._call(self.contract.functions.allowance(to_address(owner), to_address(spender))))

    def name(self) -> str:
        return str(self._call(self.contract.functions.name()))

    def symbol(self) -> str:
        return str(self._call(self.contract.functions.symbol()))

    def decimals(self) -> int:
        return int(self._call(self.contract.functions.decimals()))

    # -- agent ----------------------------------------------------------------------------------------------

    def set_wallet_frozen(self, wallet: str | HasAddress, frozen: bool, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.setWalletFrozen(to_address(wallet), frozen), sender)

    def is_wallet_frozen(self, wallet: str | HasAddress) -> bool:
        return bool(self._call(self.contract.functions.isWalletFrozen(to_address(wallet))))

    def forced_transfer(
        self, from_: str | HasAddress, to: str | HasAddress, amount: int, *, sender: str
    ) -> TxReceipt:
        fn = self.contract.functions.forcedTransfer(to_address(from_), to_address(to), amount)
        return self._send(fn, sender)

    def recover_wallet(self, lost: str | HasAddress, new_wallet: str | HasAddress, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.recoverWallet(to_address(lost), to_address(new_wallet)), sender)

    def pause(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.pause(), sender)

    def unpause(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.unpause(), sender)

    def paused(self) -> bool:
        return bool(self._call(self.contract.functions.paused()))

    # -- ERC-1404 -------------------------------------------------------------------------------------------

    def detect_transfer_restriction(self, from_: str | HasAddress, to: str | HasAddress, amount: int) -> Restriction:
        """The code ``transfer(to, amount)`` from ``from_`` meets now; ``Restriction.SUCCESS`` exactly when it
        would succeed."""
        fn = self.contract.functions.detectTransferRestriction(to_address(from_), to_address(to), amount)
        return Restriction(int(self._call(fn)))

    def detect_transfer_from_restriction(
        self, spender: str | HasAddress, from_: str | HasAddress, to: str | HasAddress, amount: int
    ) -> Restriction:
        fn = self.contract.functions.detectTransferFromRestriction(
            to_address(spender), to_address(from_), to_address(to), amount
        )
        return Restriction(int(self._call(fn)))

    def detect_claim_restriction(self, holder: str | HasAddress) -> Restriction:
        return Restriction(int(self._call(self.contract.functions.detectClaimRestriction(to_address(holder)))))

    def detect_mint_restriction(self, to: str | HasAddress) -> Restriction:
        """What a mint to ``to`` would meet now (the offering checks it when a subscription is requested)."""
        return Restriction(int(self._call(self.contract.functions.detectMintRestriction(to_address(to)))))

    def message_for(self, code: int) -> str:
        return str(self._call(self.contract.functions.messageForTransferRestriction(int(code))))

    # -- distributions --------------------------------------------------------------------------------------

    def distribute_funds(self, amount: int, *, sender: str) -> TxReceipt:
        """Credit ``amount`` of stablecoin the ``sender`` (DISTRIBUTOR_ROLE) already sent to the token."""
        return self._send(self.contract.functions.distributeFunds(amount), sender)

    def claim(self, *, sender: str) -> int:
        """Claim everything claimable for ``sender``; returns the stablecoin paid."""
        receipt = self._send(self.contract.functions.claim(), sender)
        return sum(int(e["amount"]) for e in tx.event_args(self.contract, "FundsClaimed", receipt))

    def claimable(self, holder: str | HasAddress) -> int:
        """Stablecoin ``holder`` can claim now, rounded down."""
        return int(self._call(self.contract.functions.claimable(to_address(holder))))

    def total_distributed(self) -> int:
        return int(self._call(self.contract.functions.totalDistributed()))

    def total_claimed(self) -> int:
        return int(self._call(self.contract.functions.totalClaimed()))

    def claimable_of(
        self, holders: Sequence[str | HasAddress], block: BlockIdentifier = "latest", batch: int = CLAIMABLE_BATCH
    ) -> list[int]:
        """``claimable`` of many holders at ``block``, ``batch`` holders a call (a call's gas is capped: one view over
        every holder of a large deal would fail)."""
        return [int(a) for part in self._per_batch("claimableOf", holders, block, batch) for a in part]

    def claims_of(
        self, holders: Sequence[str | HasAddress], block: BlockIdentifier = "latest", batch: int = CLAIMABLE_BATCH
    ) -> list[tuple[int, Restriction]]:
        """What each of ``holders`` can claim at ``block`` and the restriction its claim meets there
        (``claimsDue``), ``batch`` holders a call."""
        return [(int(a), Restriction(int(c))) for amounts, codes in self._per_batch("claimsDue", holders, block, batch)
                for a, c in zip(amounts, codes, strict=True)]

    def _per_batch(self, view: str, holders: Sequence[str | HasAddress], block: BlockIdentifier, batch: int
                   ) -> list[Any]:
        """The view ``view`` of a list of holders, called on ``batch`` of them at a time, its results in order."""
        addresses = [to_address(h) for h in holders]
        fn = getattr(self.contract.functions, view)
        return [self._call(fn(addresses[start : start + batch]), block) for start in range(0, len(addresses), batch)]

    def account_of(self, holder: str | HasAddress) -> ContractFunction:
        """The one view behind :class:`Position` (``accountOf``), to read alone or in a batch with others."""
        return self.contract.functions.accountOf(to_address(holder))

    @staticmethod
    def position_of(value: Sequence[Any]) -> Position:
        """A :class:`Position` from the result of :meth:`account_of`."""
        balance, claimable, withdrawn, code = value
        return Position(int(balance), int(claimable), int(withdrawn), Restriction(int(code)))

    def withdrawn_of(self, holder: str | HasAddress) -> int:
        return int(self._call(self.contract.functions.withdrawnOf(to_address(holder))))

    def points_remainder(self) -> int:
        return int(self._call(self.contract.functions.pointsRemainder()))

    def carried_dust_down(self) -> int:
        """The carried remainder in whole stablecoin units, rounded down."""
        return int(self._call(self.contract.functions.carriedDustDown()))

    def points_per_share(self) -> int:
        return int(self._call(self.contract.functions.pointsPerShare()))

    def points_correction_of(self, holder: str | HasAddress) -> int:
        return int(self._call(self.contract.functions.pointsCorrectionOf(to_address(holder))))

    def investor_record_of(self, investor: str | HasAddress) -> tuple[bool, int, bool]:
        """``(allowed, kyc_expiry, registry_frozen)``: the registry's record of ``investor`` as pushed here."""
        allowed, kyc_expiry, frozen = self._call(self.contract.functions.investorRecordOf(to_address(investor)))
        return bool(allowed), int(kyc_expiry), bool(frozen)

    def stablecoin(self, block: BlockIdentifier = "latest") -> str:
        return str(self._call(self.contract.functions.stablecoin(), block))

    def registry(self, block: BlockIdentifier = "latest") -> str:
        return str(self._call(self.contract.functions.registry(), block))
