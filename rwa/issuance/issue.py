"""Issue a deal: validate, size, deploy registry/oracle/tokens/pool, allow and mint investors, write the manifest.

Every step is recorded in the deployment manifest as it completes (written atomically), so a run that died
halfway resumes where it stopped; a completed deployment of the same deal on the same chain is never issued twice.
Another run of a deal already issued, or being issued, on the chain is found by the deal's mark on-chain
(:func:`deal_marker`), whatever manifest path it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from web3 import Web3

from rwa.build.compile import load_build
from rwa.chain.interface import Chain
from rwa.chain.keys import DEV_REPORTER_SLOT
from rwa.chain.tx import send
from rwa.errors import InputError
from rwa.issuance.resume import StepRunner
from rwa.leverage import Sizing, size_deal
from rwa.leverage.cashflows import contracted_rent
from rwa.model.calendar import clock_length
from rwa.model.deal import Deal, allocate, deal_hash, load_deal
from rwa.model.terms import offering_config, record, reserve_at_close
from rwa.model.units import TRANCHES, Tranche, money_formatter
from rwa.model.waterfall import PoolTerms
from rwa.onchain.base import ContractWrapper
from rwa.onchain.deployment import Manifest, Roles, check_same_chain, load_manifest, save_manifest
from rwa.onchain.stablecoin import TEST_DECIMALS as TEST_STABLECOIN_DECIMALS

if TYPE_CHECKING:
    from rwa.onchain.tranche import TrancheToken


@dataclass(frozen=True)
class Plan:
    """What an issuance will do, before anything is sent."""

    deal: Deal
    deal_path: Path
    sizing: Sizing
    terms: PoolTerms
    allocations: dict[str, dict[str, int]]



def _refuse_bad_investors(deal: Deal, today: date) -> None:
    """What the registry would only refuse after the contracts are deployed: an expired KYC, a jurisdiction that is
    no ISO country (a zero address is refused with the deal file, :func:`rwa.model.deal.checked_address`)."""
    for i, inv in enumerate(deal.investors):
        if inv.kyc_expiry <= today:
            raise InputError(f"deal.investors[{i}].kyc_expiry: {inv.kyc_expiry} is not after today ({today})")
        try:
            jurisdiction_code(inv.jurisdiction)
        except InputError:
            raise InputError(
                f"deal.investors[{i}].jurisdiction: {inv.jurisdiction!r} is not an ISO 3166-1 alpha-2 country code"
            ) from None


def plan_issue(deal_path: Path, today: date | None = None) -> Plan:
    """Validate and size the deal; everything refused here is refused before anything is sent (``--dry-run`` too).

    ``today`` (UTC, default the wall clock's) is what a KYC expiry must be after."""
    deal = load_deal(deal_path)
    if deal.stablecoin_address is None and deal.decimals != TEST_STABLECOIN_DECIMALS:
        raise InputError(
            f"deal.decimals: {deal.decimals}, but the test stablecoin issuance deploys has {TEST_STABLECOIN_DECIMALS}"
            f" decimals: state decimals = {TEST_STABLECOIN_DECIMALS} or set stablecoin_address"
        )
    _refuse_bad_investors(deal, today or datetime.now(UTC).date())
    if deal.offering is not None:
        _refuse_closed_window(deal, int(datetime.now(UTC).timestamp()), "today")
    sizing = size_deal(deal)  # a deal that carries no senior debt is refused there, in one line
    terms = sizing.pool_terms(deal)
    if deal.offering is not None:
        _refuse_unworkable_offering(deal, sizing, terms)
        return Plan(deal=deal, deal_path=deal_path, sizing=sizing, terms=terms, allocations={t: {} for t in TRANCHES})
    allocations = allocate(deal, sizing.senior_size, sizing.junior_size)
    for tranche, size in (("senior", sizing.senior_size), ("junior", sizing.junior_size)):
        total = sum(allocations[tranche].values())
        if total != size:  # allocate() sums exactly; this guards the invariant the pool relies on
            raise InputError(f"investors: {tranche} allocations sum to {total}, the sized tranche is {size}")
    return Plan(deal=deal, deal_path=deal_path, sizing=sizing, terms=terms, allocations=allocations)


def _refuse_closed_window(deal: Deal, now: int, where: str) -> None:
    """An offering whose window is over when it would be deployed could never take a request."""
    offer = deal.offering
    if offer is not None and int(offer.closes.timestamp()) <= now:
        when = datetime.fromtimestamp(now, UTC).isoformat()
        raise InputError(f"deal.offering.closes: {offer.closes.isoformat()} is not after the time {where} ({when}): "
                         "the window would be over before the offering opened; move opens and closes later")


def _refuse_unworkable_offering(deal: Deal, sizing: Sizing, terms: PoolTerms) -> None:
    """What ``DealOffering``'s constructor would refuse, said before anything is sent."""
    offer = deal.offering
    assert offer is not None
    reserve = reserve_at_close(deal, terms)
    costs = sum(c.amount for c in offer.costs)
    if reserve + costs > sizing.senior_size + sizing.junior_size:
        raise InputError(f"deal.offering: the reserve at close ({reserve}) and the costs ({costs}) exceed the two "
                         f"tranches ({sizing.senior_size + sizing.junior_size}): the raise could never pay them")
    for tranche, take_up, size in (("senior", offer.take_up_senior, sizing.senior_size),
                                   ("junior", offer.take_up_junior, sizing.junior_size)):
        if take_up > size:
            raise InputError(f"deal.offering.take_up_{tranche}: {take_up} is more than the {tranche} tranche ({size})")


def _fund_reserve(chain: Chain, deal: Deal, terms: PoolTerms, manifest: Manifest, pool_addr: str,
                  log: Callable[[str], None]) -> None:
    """A private placement's reserve at close, funded by the deployer (the offering's close funds it otherwise).

    Re-running after a crash funds nothing twice: the pool's reserve is 0 until this step, and a test stablecoin
    is minted only for what the deployer is short of."""
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.stablecoin import Stablecoin

    reserve = reserve_at_close(deal, terms)
    money = money_formatter(deal.decimals, deal.currency)
    pool = LeasePool.at(chain, pool_addr)
    if reserve == 0 or pool.reserve_balance() != 0:
        return
    admin = manifest.roles.admin
    usd = Stablecoin.at(chain, manifest.contracts["stablecoin"])
    short = reserve - usd.balance_of(admin)
    if short > 0:
        if deal.stablecoin_address:
            raise InputError(f"deal.stablecoin_address: the deployer {admin} is {money(short)} short of the reserve "
                             f"at close ({money(reserve)}); fund it and re-run to finish the issuance")
        usd.mint(admin, short, sender=admin)  # the test stablecoin of a development chain
    usd.approve(pool_addr, reserve, sender=admin)
    pool.fund_reserve(reserve, sender=admin)
    log(f"funded the reserve at close: {money(reserve)} (the first {deal.financing.reserve_periods} periods' "
        "scheduled senior debt service)")


def _refuse_unfunded_reserve(chain: Chain, deal: Deal, terms: PoolTerms, admin: str) -> None:
    """A private placement on a real stablecoin: the deployer must hold the reserve at close before anything is
    sent."""
    from rwa.onchain.stablecoin import Stablecoin

    if deal.offering is not None or not deal.stablecoin_address:
        return
    reserve = reserve_at_close(deal, terms)
    money = money_formatter(deal.decimals, deal.currency)
    held = Stablecoin.at(chain, Web3.to_checksum_address(deal.stablecoin_address)).balance_of(admin)
    if held < reserve:
        raise InputError(f"deal.stablecoin_address: the deployer {admin} holds {money(held)}, the reserve at close "
                         f"needs {money(reserve)}: fund the deployer first")


def jurisdiction_code(alpha2: str) -> int:
    """The registry's jurisdiction: the ISO 3166-1 numeric code of an alpha-2 code ("SG" -> 702)."""
    import pycountry

    country = pycountry.countries.get(alpha_2=alpha2.upper())
    if country is None:
        raise InputError(f"investors: jurisdiction {alpha2!r} is not an ISO 3166-1 alpha-2 country code")
    return int(country.numeric)


def kyc_timestamp(day: object) -> int:
    return int(datetime.combine(day, time(23, 59, 59), tzinfo=UTC).timestamp())  # type: ignore[arg-type]


def _abi_hashes() -> dict[str, str]:
    build = load_build()
    return {
        name: Web3.keccak(text=str(sorted(str(i) for i in art.abi))).hex()
        for name, art in sorted(build.artifacts.items())
        if name in {"TestStablecoin", "ComplianceRegistry", "RevenueOracle", "TrancheToken", "LeasePool",
                    "DealTimelock", "DealOffering", "TradeSettlement"}
    }


def default_roles(chain: Chain, deal: Deal) -> Roles:
    """Deployer/issuer, servicer, compliance agent, fee recipient and trustee at the first five local keys (the
    deal's trustee when it names one); the deal's N reporters at the keys from slot 10 on, with its threshold M."""
    last = DEV_REPORTER_SLOT + deal.oracle.reporters
    if len(chain.accounts) < last:
        raise InputError(
            f"issuance needs {last} signing keys (four roles, then {deal.oracle.reporters} reporters from slot "
            f"{DEV_REPORTER_SLOT}); have {len(chain.accounts)}: add keys to RWA_PRIVATE_KEYS"
        )
    accts = chain.accounts
    return Roles(
        admin=accts[0].address,
        issuer=accts[0].address,
        servicer=accts[1].address,
        agent=accts[2].address,
        reporters=sorted((a.address for a in accts[DEV_REPORTER_SLOT:last]), key=lambda a: int(a, 16)),
        threshold=deal.oracle.threshold,
        fee_recipient=accts[3].address,
        trustee=deal.governance.trustee or accts[4].address,
        delay_seconds=deal.governance_delay,
    )


def _refuse_or_resume(chain: Chain, out: Path, digest: str) -> Manifest | None:
    if not out.is_file():
        return None
    existing = load_manifest(out)
    check_same_chain(chain, existing, what=f"the deployment in {out}")
    if existing.deal_hash != digest:
        raise InputError(f"{out} was issued from another deal file ({existing.deal_file}); pass another --out")
    if existing.complete:
        pool = existing.contracts.get("pool", "")
        if pool and len(chain.w3.eth.get_code(Web3.to_checksum_address(pool))) > 0:
            raise InputError(f"this deal is already issued on chain {chain.chain_id}: pool {pool} (see {out})")
        raise InputError(f"{out} says the deal is issued but chain {chain.chain_id} has no pool at {pool}")
    return existing


_ROLE_GRANTED = Web3.keccak(text="RoleGranted(bytes32,address,address)").to_0x_hex()


def deal_marker(digest: str) -> bytes:
    """The deal's on-chain mark: its sha256 as an AccessControl role id that the admin holds on the registry.

    The role guards nothing; granting it emits ``RoleGranted`` with the deal's hash as the first indexed topic, so
    an issuance of the deal on a chain is found by one log query on that topic, whatever manifest it wrote."""
    return bytes.fromhex(digest)


def _refuse_issued_on_chain(chain: Chain, digest: str) -> None:
    """Refuse a deal whose mark is already on this chain (another ``--out``, or a run that died halfway)."""
    logs = chain.w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": "latest", "topics": [_ROLE_GRANTED, "0x" + deal_marker(digest).hex()]}
    )
    for entry in logs:
        address = Web3.to_checksum_address(entry["address"])
        if len(chain.w3.eth.get_code(address)) > 0:
            raise InputError(
                f"this deal (sha256 {digest[:12]}...) is already issued on chain {chain.chain_id} (or its issuance "
                f"was interrupted): its registry is {address} (block {entry['blockNumber']}); resume with that run's "
                "--out, or issue another deal"
            )


def _refuse_stablecoin_decimals(chain: Chain, deal: Deal) -> None:
    """The stablecoin named by the deal must exist on this chain and have the deal's decimals."""
    from web3.exceptions import Web3Exception

    from rwa.errors import ContractRevertError
    from rwa.onchain.stablecoin import Stablecoin

    if deal.stablecoin_address is None:
        return  # plan_issue compared the deal with the test stablecoin's TEST_STABLECOIN_DECIMALS
    address = Web3.to_checksum_address(deal.stablecoin_address)
    if len(chain.w3.eth.get_code(address)) == 0:
        raise InputError(f"deal.stablecoin_address: no contract at {address} on chain {chain.chain_id}")
    try:
        decimals = Stablecoin.at(chain, address).decimals()
    except (Web3Exception, ContractRevertError):
        raise InputError(f"deal.stablecoin_address: {address} does not answer ERC-20 decimals()") from None
    if decimals != deal.decimals:
        raise InputError(
            f"deal.decimals: {deal.decimals}, but the stablecoin at {address} has {decimals} decimals"
        )


def _offer(
    chain: Chain,
    plan: Plan,
    manifest: Manifest,
    run: StepRunner,
    tokens: dict[Tranche, TrancheToken],
    pool: str,
    log: Callable[[str], None],
) -> None:
    """Deploy the offering and give it the tokens' ISSUER_ROLE: its close mints each tranche to itself and closes
    each token's issuance, and each claim delivers a buyer's units; nothing is minted now."""
    from rwa.onchain.offering import DealOffering

    admin = manifest.roles.admin
    config, costs = offering_config(plan.deal, plan.terms, manifest.roles.issuer)
    address = run.deploy(
        "offering", admin,
        lambda: DealOffering.deploy(chain, config, costs, pool, plan.sizing.senior_size, plan.sizing.junior_size,
                                    sender=admin).address,
    )

    def open_offering() -> None:
        for token in tokens.values():
            if not token.has_role("ISSUER_ROLE", address):
                token.grant_role("ISSUER_ROLE", address, sender=admin)
        log(f"offering {address} sells {plan.sizing.senior_size:,} senior and {plan.sizing.junior_size:,} junior "
            f"units from {config.open_time} to {config.close_time}")

    run.step("open-offering", open_offering)


def issue(chain: Chain, plan: Plan, out: Path, log: Callable[[str], None]) -> Manifest:
    """Deploy and mint the deal described by ``plan``; resumes an interrupted run recorded in ``out``."""
    from rwa.model.terms import default_rules
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.registry import ComplianceRegistry
    from rwa.onchain.stablecoin import Stablecoin
    from rwa.onchain.timelock import DealTimelock
    from rwa.onchain.tranche import TrancheToken

    deal, sizing = plan.deal, plan.sizing
    digest = deal_hash(plan.deal_path)
    manifest = _refuse_or_resume(chain, out, digest)
    _refuse_stablecoin_decimals(chain, deal)
    now = chain.now()
    for i, inv in enumerate(deal.investors):
        if kyc_timestamp(inv.kyc_expiry) <= now:  # the chain's clock can be ahead of the wall clock plan_issue used
            raise InputError(f"deal.investors[{i}].kyc_expiry: {inv.kyc_expiry} has passed on chain {chain.chain_id}")
    if manifest is None:
        _refuse_closed_window(deal, now, f"on chain {chain.chain_id}")
        _refuse_issued_on_chain(chain, digest)
        roles = default_roles(chain, deal)
        _refuse_unfunded_reserve(chain, deal, plan.terms, roles.admin)
        anchor = chain.w3.eth.get_block("latest")  # number and hash of one block, even on a node that mines meanwhile
        manifest = Manifest(
            chain_id=chain.chain_id,
            network=chain.network,
            deployment_block=int(anchor["number"]),
            deployment_block_hash=anchor["hash"].to_0x_hex(),
            deal_file=str(plan.deal_path.resolve()),
            deal_hash=digest,
            compiler_version=load_build().compiler_version,
            abi_hashes=_abi_hashes(),
            roles=roles,
            senior_size=sizing.senior_size,
            terms=record(plan.terms),
            junior_size=sizing.junior_size,
        )
        save_manifest(manifest, out)
    else:
        log(f"resuming the issuance recorded in {out} (done: {', '.join(manifest.progress) or 'nothing yet'})")
    roles = manifest.roles
    admin = roles.admin
    run = StepRunner(chain, manifest, out, log)

    if deal.stablecoin_address:
        manifest.contracts.setdefault("stablecoin", Web3.to_checksum_address(deal.stablecoin_address))
    else:
        run.deploy("stablecoin", admin, lambda: Stablecoin.deploy_test(chain, admin).address)
    stablecoin = manifest.contracts["stablecoin"]
    registry_addr = run.deploy("registry", admin, lambda: ComplianceRegistry.deploy(chain, admin).address)

    def mark() -> None:
        fn = ComplianceRegistry.at(chain, registry_addr).contract.functions
        if not fn.hasRole(deal_marker(digest), admin).call():
            send(fn.grantRole(deal_marker(digest), admin), admin)

    run.step("mark", mark)
    oracle_cfg = deal.oracle
    first_start = int(deal.periods.first_start.timestamp())
    # the oracle times reports by the pool's calendar: the deal's months from the same first start
    oracle_addr = run.deploy(
        "oracle",
        admin,
        lambda: (
            RevenueOracle.deploy(
                chain,
                admin,
                roles.reporters,
                roles.threshold,
                first_start,
                clock_length(first_start, plan.terms.period_ends),
                oracle_cfg.grace_seconds,
                oracle_cfg.max_revenue_multiple_bps,
                contracted_rent(deal),
            ).address
        ),
    )
    symbol = "".join(w[0] for w in deal.name.split()[:3]).upper() or "RWA"
    for tranche in TRANCHES:
        run.deploy(
            tranche,
            admin,
            lambda t=tranche: (
                TrancheToken.deploy(  # type: ignore[misc]
                    chain, f"{deal.name} {t}", f"{symbol}-{t[:3].upper()}", stablecoin, registry_addr, admin
                ).address
            ),
        )
    timelock_addr = run.deploy(
        "timelock",
        admin,
        lambda: DealTimelock.deploy(chain, roles.delay_seconds, [roles.issuer], admin=admin).address,
    )
    terms = plan.terms
    pool_addr = run.deploy(
        "pool",
        admin,
        lambda: (
            LeasePool.deploy(
                chain,
                terms,
                default_rules(deal),
                stablecoin=stablecoin,
                oracle=oracle_addr,
                senior=manifest.contracts["senior"],
                junior=manifest.contracts["junior"],
                admin=timelock_addr,
                servicer=roles.servicer,
                trustee=roles.trustee,
                fee_recipient=roles.fee_recipient,
                junior_face=manifest.junior_size,
                sender=admin,
            ).address
        ),
    )
    from rwa.onchain.settlement import TradeSettlement

    settlement_addr = run.deploy(
        "settlement", admin,
        lambda: TradeSettlement.deploy(chain, stablecoin, manifest.contracts["senior"], manifest.contracts["junior"],
                                       sender=admin).address,
    )
    registry = ComplianceRegistry.at(chain, registry_addr)
    oracle = RevenueOracle.at(chain, oracle_addr)
    tokens = {t: TrancheToken.at(chain, manifest.contracts[t]) for t in TRANCHES}
    timelock = DealTimelock.at(chain, timelock_addr)

    def grant(contract: ContractWrapper, role: str, account: str) -> None:
        if not contract.has_role(role, account):
            contract.grant_role(role, account, sender=admin)

    def wire() -> None:
        for token in tokens.values():
            grant(token, "DISTRIBUTOR_ROLE", pool_addr)
            grant(token, "AGENT_ROLE", timelock_addr)  # forced transfers and recoveries: announced, cancellable
            grant(token, "COMPLIANCE_ROLE", roles.agent)
        grant(registry, "AGENT_ROLE", roles.agent)
        grant(registry, "COMPLIANCE_ROLE", roles.agent)
        grant(timelock, "CANCELLER_ROLE", roles.trustee)
        if roles.issuer != roles.trustee and timelock.has_role("CANCELLER_ROLE", roles.issuer):
            timelock.revoke_role("CANCELLER_ROLE", roles.issuer, sender=admin)  # only the trustee cancels
        if oracle.pool().lower() != pool_addr.lower():
            oracle.bind_pool(pool_addr, sender=admin)

    run.step("wire", wire)

    def allow() -> None:
        todo = [inv for inv in deal.investors if not registry.is_compliant(inv.address)]
        if todo:
            registry.allow_investors(
                [inv.address for inv in todo],
                [kyc_timestamp(inv.kyc_expiry) for inv in todo],
                [jurisdiction_code(inv.jurisdiction) for inv in todo],
                sender=admin,
            )
        if not registry.is_compliant(settlement_addr):
            # the settlement moves tokens as a spender, and the tokens check a spender like a holder
            latest = max(deal.investors, key=lambda inv: inv.kyc_expiry)
            registry.allow_investors([settlement_addr], [kyc_timestamp(latest.kyc_expiry)],
                                     [jurisdiction_code(latest.jurisdiction)], sender=admin)
        log(f"allowed {len(deal.investors)} investors and the settlement contract in the compliance registry")

    run.step("allow", allow)

    if deal.offering is not None:
        _offer(chain, plan, manifest, run, tokens, pool_addr, log)

    for tranche in TRANCHES if deal.offering is None else ():

        def mint(t: Tranche = tranche) -> None:
            token = tokens[t]
            todo: dict[str, int] = {}
            fresh = token.total_supply() == 0  # nothing minted yet: no holder to look up one by one
            for holder, amount in plan.allocations[t].items():
                have = 0 if fresh else token.balance_of(holder)
                if have == amount:
                    continue  # minted by an interrupted run
                if have != 0:
                    raise InputError(f"{t} holder {holder} already holds {have}, expected 0 or {amount}")
                if amount:
                    todo[holder] = amount
            if todo:
                token.mint_batch(list(todo), list(todo.values()), sender=admin, batch_size=100)
            if not token.issuance_closed():
                token.close_issuance(sender=admin)
            log(f"minted {sum(plan.allocations[t].values()):,} {t} units to {len(plan.allocations[t])} investors")

        run.step(f"mint-{tranche}", mint)

    if deal.offering is None:
        run.step("fund-reserve", lambda: _fund_reserve(chain, deal, terms, manifest, pool_addr, log))

    def hand_over() -> None:
        """The timelock becomes every contract's admin; the deployer keeps no power it does not need."""
        held = {"ISSUER_ROLE": None, "AGENT_ROLE": roles.agent, "COMPLIANCE_ROLE": roles.agent}
        for contract in (*tokens.values(), registry, oracle):
            grant(contract, "DEFAULT_ADMIN_ROLE", timelock_addr)
            for role, keeper in held.items():
                if role in {r.value for r in contract.ROLES} and keeper != admin and contract.has_role(role, admin):
                    contract.renounce_role(role, sender=admin)
            if contract.has_role("DEFAULT_ADMIN_ROLE", admin):
                contract.renounce_role("DEFAULT_ADMIN_ROLE", sender=admin)
        if timelock.has_role("DEFAULT_ADMIN_ROLE", admin):
            timelock.renounce_role("DEFAULT_ADMIN_ROLE", sender=admin)
        log(f"handed every admin role to the timelock ({roles.delay_seconds:,} s delay); the deployer kept none")

    run.step("hand-over", hand_over)

    manifest.complete = True
    run.save()
    return manifest
