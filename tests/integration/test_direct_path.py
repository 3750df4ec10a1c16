"""The embedded chain's direct path answers exactly what web3.py answers, and batched reads equal single ones.

Calls, receipts, logs and clocks read the direct way (``rwa.chain.embedded_direct.DirectNode``) are compared field by
field with the same reads through web3.py's request pipeline, on a deal that has issued, distributed, traded and
claimed. Batched reads (``rwa.chain.tx.call_many``) are compared with single calls, through ``ReadBatch`` on the
embedded chain and on anvil, where the whole batch must be one ``eth_call``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from eth_abi.exceptions import EncodingError
from web3.contract.contract import ContractFunction

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.tranche import Restriction
from rwa.replay.ingest import DEFAULT_RANGE, LogReader, range_queries
from rwa.replay.run import _sources, read_links
from tests.support.lifecycle import run_lifecycle


def _views(deal: DeployedDeal, holders: list[str]) -> list[ContractFunction]:
    """Views of every shape the project reads: integers, booleans, addresses, arrays, structs, bytes."""
    pool, oracle = deal.pool.contract.functions, deal.oracle.contract.functions
    senior, junior = (deal.tokens[t].contract.functions for t in ("senior", "junior"))
    return [
        pool.terms(), pool.principalSchedule(), pool.periodEnds(), pool.seniorOutstanding(), pool.finalized(),
        pool.defaultRules(), pool.lastDistributedPeriod(), pool.periodEnd(2), pool.poolState(),
        oracle.config(), oracle.reporters(), oracle.threshold(), oracle.reportOf(1), oracle.domainSeparator(),
        senior.accountOf(holders[0]), junior.accountOf(holders[1]), senior.claimableOf(holders),
        junior.claimsDue(holders),
        senior.balanceOf(holders[0]), senior.claimable(holders[0]), senior.withdrawnOf(holders[0]),
        senior.detectClaimRestriction(holders[0]), senior.stablecoin(), senior.messageForTransferRestriction(5),
        deal.registry.contract.functions.isCompliant(holders[2]),
    ]


@pytest.fixture
def lifecycle(chain: Chain, tmp_path: Path) -> tuple[DeployedDeal, Path]:
    return run_lifecycle(chain, tmp_path, periods=2)


def test_direct_calls_and_batches_return_what_web3_returns(chain: Chain, lifecycle: tuple[DeployedDeal, Path]
                                                           ) -> None:
    deal, _ = lifecycle
    holders = [a.address for a in chain.accounts[15:20]]
    views = _views(deal, holders)
    through_web3 = [fn.call() for fn in views]
    assert [tx.call(fn) for fn in views] == through_web3
    assert tx.call_many(views) == through_web3
    assert tx.call_many(views, batch=True) == through_web3  # ReadBatch's output decoded the same way
    head = chain.head()[0]
    assert tx.call_many(views, block=head - 3) == [fn.call(block_identifier=head - 3) for fn in views]


def test_account_of_is_the_four_views_a_claim_needs(chain: Chain, lifecycle: tuple[DeployedDeal, Path]) -> None:
    deal, _ = lifecycle
    for holder in [a.address for a in chain.accounts[15:20]]:
        for token in deal.tokens.values():
            f = token.contract.functions
            position = token.position_of(tx.call(token.account_of(holder)))
            assert (position.balance, position.claimable, position.withdrawn, position.claim_restriction) == (
                f.balanceOf(holder).call(), f.claimable(holder).call(), f.withdrawnOf(holder).call(),
                Restriction(f.detectClaimRestriction(holder).call()))
    assert any(deal.positions(a.address)["senior"].withdrawn for a in chain.accounts[15:20])  # someone has claimed


def test_distribution_totals_are_the_four_views_in_one(lifecycle: tuple[DeployedDeal, Path]) -> None:
    deal, _ = lifecycle
    for token in deal.tokens.values():
        f = token.contract.functions
        assert tx.call(f.distributionTotals()) == [f.totalDistributed().call(), f.totalSupply().call(),
                                                    f.pointsPerShare().call(), f.pointsRemainder().call()]
        assert f.totalDistributed().call() > 0


def test_pool_state_is_the_eleven_views_in_one(lifecycle: tuple[DeployedDeal, Path]) -> None:
    deal, _ = lifecycle
    f = deal.pool.contract.functions
    single = [f.seniorOutstanding(), f.reserveBalance(), f.interestArrears(), f.principalArrears(),
              f.lastDistributedPeriod(), f.defaulted(), f.finalized(), f.totalFeesPaid(), f.totalSeniorPaid(),
              f.totalJuniorPaid(), f.totalTrapped()]
    state = deal.pool.state()
    assert state == deal.pool.state_of([fn.call() for fn in single])
    assert state.last_distributed_period == 2 and state.total_senior_paid > 0


def test_a_revert_inside_a_batch_is_decoded_like_a_single_calls(chain: Chain, lifecycle: tuple[DeployedDeal, Path]
                                                                 ) -> None:
    deal, _ = lifecycle
    oracle = deal.oracle.contract.functions
    for batch in (False, True):
        with pytest.raises(ContractRevertError) as err:
            tx.call_many([oracle.threshold(), oracle.reportOf(999)], batch=batch)
        assert err.value.error_name == "NoReport"
        assert err.value.error_args["period"] == 999


def _receipt_fields(receipt: Any) -> dict[str, Any]:
    keys = ("status", "gasUsed", "cumulativeGasUsed", "blockNumber", "blockHash", "transactionHash",
            "transactionIndex", "contractAddress", "from", "to", "effectiveGasPrice", "type")
    logs = [{k: log[k] for k in ("address", "topics", "data", "logIndex", "transactionIndex", "blockNumber",
                                 "blockHash", "transactionHash")} for log in receipt["logs"]]
    return {**{k: receipt[k] for k in keys}, "logs": logs}


def test_direct_receipts_and_clocks_match_web3s(chain: Chain, lifecycle: tuple[DeployedDeal, Path]) -> None:
    direct = chain.backend.direct
    assert direct is not None
    py_chain = direct.py_evm_chain
    head = chain.head()[0]
    hashes = [t.hash for n in range(head - 40, head + 1)
              for t in py_chain.get_canonical_block_by_number(n).transactions]
    assert len(hashes) > 20
    for tx_hash in hashes:
        mine, theirs = direct.receipt(tx_hash), chain.w3.eth.get_transaction_receipt(tx_hash)
        assert _receipt_fields(mine) == _receipt_fields(theirs)
        assert [dict(log) for log in mine["logs"]] == [dict(log) for log in theirs["logs"]]  # every field, no more
    latest = chain.w3.eth.get_block("latest")
    assert chain.head() == (latest["number"], latest["timestamp"])
    assert chain.now() == chain.w3.eth.get_block("pending")["timestamp"]
    assert chain.nonce(chain.accounts[0].address) == chain.w3.eth.get_transaction_count(chain.accounts[0].address)


def test_deployments_have_the_address_web3_reports(chain: Chain, lifecycle: tuple[DeployedDeal, Path]) -> None:
    deal, _ = lifecycle
    direct = chain.backend.direct
    assert direct is not None
    deployed = [h for n in range(1, chain.head()[0] + 1)
                for h in (t.hash for t in direct.py_evm_chain.get_canonical_block_by_number(n).transactions
                          if not t.to)]
    assert len(deployed) >= 8
    addresses = {direct.receipt(h)["contractAddress"] for h in deployed}
    assert {deal.pool.address, deal.oracle.address, deal.registry.address} <= addresses


def test_direct_logs_are_eth_testers_logs(chain: Chain, lifecycle: tuple[DeployedDeal, Path]) -> None:
    from rwa.onchain.deployment import load_manifest

    _, manifest_path = lifecycle
    manifest = load_manifest(manifest_path)
    head = chain.head()[0]
    sources = _sources(manifest, read_links(chain, manifest, head))
    reader = LogReader(chain.w3)
    assert reader.chain.backend.direct is not None
    queries = range_queries(sources, manifest.deployment_block, min(head, manifest.deployment_block + DEFAULT_RANGE))
    assert any(q.get("topics") for q in queries)  # the stablecoin's queries filter on topics
    keys = ("address", "topics", "data", "blockNumber", "blockHash", "transactionHash", "transactionIndex", "logIndex")
    total = 0
    for query in queries:
        mine, theirs = reader.logs(query), chain.w3.eth.get_logs(query)
        assert [dict(log) for log in mine] == [dict(log) for log in theirs]  # every field, no more
        assert all(set(keys) <= set(log) for log in mine)
        total += len(mine)
    assert total > 50


@pytest.mark.anvil
def test_a_batch_is_one_eth_call_on_a_node(anvil_chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    deal, _ = run_lifecycle(anvil_chain, tmp_path, periods=2)
    holders = [a.address for a in anvil_chain.accounts[15:20]]
    views = _views(deal, holders)
    single = [fn.call() for fn in views]
    seen: Counter[str] = Counter()
    eth = anvil_chain.w3.eth
    call = eth.call

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen["eth_call"] += 1
        return call(*args, **kwargs)

    monkeypatch.setattr(eth, "call", counting)
    batched = tx.call_many(views)
    monkeypatch.undo()
    assert batched == single
    assert seen["eth_call"] == 1


def test_a_direct_send_signs_eth_accounts_bytes_and_keeps_its_nonces_true(chain: Chain) -> None:
    """The direct path signs with py-evm's builder and remembers nonces between its own sends; transactions sent
    through web3.py, raw transactions and a snapshot's revert in between must all be seen."""
    from eth_account import Account
    from web3 import Web3

    from rwa.onchain.stablecoin import Stablecoin

    direct = chain.backend.direct
    assert direct is not None
    owner, other = chain.accounts[0], chain.accounts[1]
    coin = Stablecoin.deploy_test(chain, owner.address)
    mint = coin.contract.functions.mint

    def sent_by_direct(amount: int) -> Any:
        receipt = tx.send(mint(other.address, amount), owner.address)
        assert _receipt_fields(receipt) == _receipt_fields(chain.w3.eth.get_transaction_receipt(
            receipt["transactionHash"]))  # built from the block just mined: what web3.py reads back
        block = direct.py_evm_chain.get_canonical_block_by_number(receipt["blockNumber"])
        mined = block.transactions[0]
        fields = {"type": 2, "chainId": chain.chain_id, "nonce": mined.nonce, "gas": mined.gas,
                  "maxPriorityFeePerGas": mined.max_priority_fee_per_gas, "maxFeePerGas": mined.max_fee_per_gas,
                  "value": 0, "data": mined.data, "to": Web3.to_checksum_address(mined.to)}
        assert mined.encode() == bytes(Account.sign_transaction(fields, owner.key).raw_transaction)
        return receipt

    sent_by_direct(1)
    chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction(
        {"from": owner.address, "to": other.address, "value": 1, "gas": 21_000}))  # web3.py's own path
    sent_by_direct(2)
    nonce = chain.nonce(owner.address)
    raw = Account.sign_transaction({"type": 2, "chainId": chain.chain_id, "nonce": nonce, "gas": 21_000,
                                    "maxPriorityFeePerGas": 10**9, "maxFeePerGas": chain.gas_price(), "value": 1,
                                    "to": other.address}, owner.key).raw_transaction
    chain.send_raw(bytes(raw))  # signed elsewhere, e.g. by a reporter
    assert chain.nonce(owner.address) == nonce + 1
    sent_by_direct(3)
    chain.time_travel(chain.now() + 3_600)  # an empty block: no nonce moves
    assert chain.nonce(owner.address) == nonce + 2
    sent_by_direct(7)
    with chain.snapshot():
        sent_by_direct(4)
        sent_by_direct(5)
    sent_by_direct(6)  # the revert took the two nonces back
    assert chain.nonce(owner.address) == chain.w3.eth.get_transaction_count(owner.address)
    assert coin.balance_of(other.address) == 1 + 2 + 3 + 7 + 6


def _deploy_runtime(chain: Chain, runtime: bytes) -> str:
    """Deploy ``runtime`` as a contract's code (a ten-byte constructor copies it out) from the first account."""
    direct = chain.backend.direct
    assert direct is not None
    init = bytes([0x60, len(runtime), 0x80, 0x60, 11, 0x60, 0, 0x39, 0x60, 0, 0xF3]) + runtime
    receipt = direct.receipt(direct.send(chain.accounts[0].address, None, init, 300_000))
    assert receipt["status"] == 1
    return str(receipt["contractAddress"])


def test_views_keep_each_codes_jump_analysis_and_still_refuse_a_jump_into_push_data(chain: Chain) -> None:
    """The direct path's views share each code's jump-destination answers between calls: a jump onto a 0x5b byte
    that is PUSH data must fail on every call, a jump onto a real JUMPDEST succeed, as through eth-tester."""
    import rwa.chain.embedded_views as views

    direct = chain.backend.direct
    assert direct is not None
    sender = chain.accounts[0].address

    # PUSH1 4, JUMP -> byte 4 is PUSH1's data (0x5b); and JUMP -> JUMPDEST, return 1
    into_push_data = _deploy_runtime(chain, bytes.fromhex("600456605b00"))
    onto_jumpdest = _deploy_runtime(chain, bytes.fromhex("600456005b600160005260206000f3"))
    for _ in range(3):  # the first call analyses each code, the next ones reuse the answers
        assert direct.call(into_push_data, b"", sender) == (False, b"")
        assert direct.call(onto_jumpdest, b"", sender) == (True, (1).to_bytes(32, "big"))
        direct.forget_head()  # not answered from the head's earlier answers: the EVM runs again
    kept = views._jump_analysis
    assert 4 in kept[bytes.fromhex("600456605b00")][1]  # (valid, invalid) positions: 4 is PUSH data, kept so
    assert 4 in kept[bytes.fromhex("600456005b600160005260206000f3")][0]  # ... and 4 a real JUMPDEST
    assert bytes(chain.w3.eth.call({"to": onto_jumpdest})) == (1).to_bytes(32, "big")
    with pytest.raises(Exception, match=r"(?i)invalid|jump"):
        chain.w3.eth.call({"to": into_push_data})


def _run_message(computation_class: Any, state: Any, to: str, data: bytes, sender: str, gas: int
                 ) -> tuple[bool, bytes, int, str | None]:
    """One call from ``sender`` with ``gas``, run by ``computation_class`` on ``state`` and reverted afterwards:
    (failed, output, gas left, the error's type)."""
    from eth.vm.message import Message

    origin, target = bytes.fromhex(sender[2:]), bytes.fromhex(to[2:])
    snapshot = state.snapshot()
    try:
        context = state.get_transaction_context_class()(gas_price=state.execution_context.base_fee_per_gas,
                                                        origin=origin)
        state.mark_address_warm(origin)
        state.mark_address_warm(target)
        message = Message(gas=gas, to=target, sender=origin, value=0, data=data, code=state.get_code(target))
        computation = computation_class.apply_message(state, message, context)
    finally:
        state.revert(snapshot)
    error = type(computation.error).__name__ if computation.is_error else None
    return computation.is_error, bytes(computation.output), computation.get_gas_remaining(), error


def test_views_charge_exactly_py_evms_gas_and_run_out_where_it_does(chain: Chain,
                                                                     lifecycle: tuple[DeployedDeal, Path]) -> None:
    """The view computation charges each instruction's gas in its own loop: every view of every shape leaves the
    same output and the same gas as py-evm's own computation, and with one unit of gas less than it used, both fail
    out of gas. A view that calls a contract and a precompile (child computations) is compared as well."""
    from rwa.chain.embedded_direct import CALL_GAS
    from rwa.chain.embedded_views import view_computation

    deal, _ = lifecycle
    direct = chain.backend.direct
    assert direct is not None
    sender = chain.accounts[0].address

    one = _deploy_runtime(chain, bytes.fromhex("600160005260206000f3"))  # returns 1
    # STATICCALL `one` (32 bytes back at 0), then the identity precompile (0x04) copies them to 32; return 64 bytes
    caller = _deploy_runtime(chain, bytes.fromhex("6020600060006000" "73" + one[2:].lower() + "5afa50"
                                    "60206020602060006004" "5afa50" "60406000f3"))
    calls = [(str(fn.address), bytes.fromhex(fn._encode_transaction_data()[2:]))
             for fn in _views(deal, [a.address for a in chain.accounts[15:20]])]
    calls.append((caller, b""))
    _, state = direct._vm_at("latest")
    ours, theirs = view_computation(state.computation_class), state.computation_class
    assert ours is not theirs
    for to, data in calls:
        mine = _run_message(ours, state, to, data, sender, CALL_GAS)
        assert mine == _run_message(theirs, state, to, data, sender, CALL_GAS)
        assert not mine[0]
        used = CALL_GAS - mine[2]
        assert _run_message(ours, state, to, data, sender, used) == _run_message(theirs, state, to, data, sender,
                                                                                 used)
        short = _run_message(ours, state, to, data, sender, used - 1)
        assert short == _run_message(theirs, state, to, data, sender, used - 1)
        assert short[0] and short[3] == "OutOfGas", (to, data[:4].hex(), short)
    assert _run_message(ours, state, caller, b"", sender, CALL_GAS)[1] == (1).to_bytes(32, "big") * 2


def test_views_read_the_state_through_trie_nodes_kept_by_hash(chain: Chain, lifecycle: tuple[DeployedDeal, Path]
                                                               ) -> None:
    """A view on a freshly read head walks its accounts and storage through the decoded nodes kept by hash (so the
    faster path is the one in use), and answers what web3.py answers."""
    import rwa.chain.embedded_views as views

    deal, _ = lifecycle
    direct = chain.backend.direct
    assert direct is not None
    views._trie_nodes.clear()
    direct.forget_head()
    account = deal.tokens["senior"].contract.functions.accountOf(chain.accounts[15].address)
    assert tx.call(account) == account.call()
    assert len(views._trie_nodes) > 3  # the state trie's and the token's storage trie's nodes on the paths read


def test_event_args_are_web3s_process_receipt_args(chain: Chain, lifecycle: tuple[DeployedDeal, Path]) -> None:
    """Every event of the deal's contracts in every receipt of the lifecycle, decoded by ``rwa.chain.tx.event_args``
    (straight from the ABI; through web3.py for tuple or array arguments), equals web3.py's ``process_receipt``."""
    from web3.logs import DISCARD

    deal, _ = lifecycle
    direct = chain.backend.direct
    assert direct is not None
    contracts = [deal.pool.contract, deal.oracle.contract, deal.registry.contract, deal.stablecoin.contract,
                 *(t.contract for t in deal.tokens.values())]
    seen: Counter[str] = Counter()
    for number in range(deal.manifest.deployment_block, chain.head()[0] + 1):
        for transaction in direct.py_evm_chain.get_canonical_block_by_number(number).transactions:
            receipt = direct.receipt(transaction.hash)
            for contract in contracts:
                for name in {e["name"] for e in contract.abi if e.get("type") == "event"}:
                    theirs = [dict(e["args"]) for e in contract.events[name]().process_receipt(receipt, errors=DISCARD)
                              if e["address"] == contract.address]
                    assert tx.event_args(contract, name, receipt) == theirs, (name, number)
                    seen[name] += len(theirs)
    assert seen["FundsClaimed"] >= 2 and seen["PeriodDistributed"] >= 2 and seen["Transfer"] > 5


def test_bound_functions_are_web3s_own_calls(chain: Chain, lifecycle: tuple[DeployedDeal, Path]) -> None:
    """The project's bindings skip web3.py's per-call overload matching; each call they make is the one web3.py's
    own binding makes (selector, arguments, calldata, result), and a call with the wrong arguments still fails
    in web3.py's matching."""
    deal, _ = lifecycle
    views = _views(deal, [a.address for a in chain.accounts[15:20]])
    for fn in views:
        plain = chain.w3.eth.contract(address=fn.address, abi=fn.contract_abi)
        theirs = plain.functions[fn.abi["name"]](*fn.args)
        assert isinstance(fn, tx._BoundFunction) and not isinstance(theirs, tx._BoundFunction)
        assert (fn.selector, fn.args, tuple(fn.arguments)) == (theirs.selector, theirs.args, tuple(theirs.arguments))
        data = plain.encode_abi(fn.abi["name"], args=list(fn.args))
        assert "0x" + tx.encode_call(fn).hex() == data
        assert fn.call() == theirs.call()
    periods = deal.pool.contract.functions.periodEnd
    with pytest.raises(Exception, match="periodEnd"):
        periods()  # no argument: web3.py's matching names the function it could not match
    bad = periods("two")  # the right count binds at once; the value fails when it is encoded
    with pytest.raises(EncodingError, match="two"):
        tx.call(bad)
    with pytest.raises(Exception, match="periodEnd"):
        bad.call()  # through web3.py (a node's path): its matching refuses the value


def test_a_view_asked_again_on_the_same_head_is_answered_from_it_and_afresh_on_the_next(chain: Chain) -> None:
    from rwa.onchain.stablecoin import Stablecoin

    direct = chain.backend.direct
    assert direct is not None
    owner, other = chain.accounts[0].address, chain.accounts[1].address
    coin = Stablecoin.deploy_test(chain, owner)
    data = tx.encode_call(coin.contract.functions.balanceOf(other))
    runs = Counter[str]()
    message = direct._message

    def counted(*args: Any) -> Any:
        runs["evm"] += 1
        return message(*args)

    direct._message = counted  # type: ignore[method-assign]
    try:
        first = direct.call(coin.address, data, owner)
        assert direct.call(coin.address, data, owner) == first and runs["evm"] == 1  # the same head: remembered
        coin.mint(other, 5, sender=owner)
        after = direct.call(coin.address, data, owner)
        assert runs["evm"] == 2 and int.from_bytes(after[1], "big") == int.from_bytes(first[1], "big") + 5
        chain.time_travel(chain.now() + 60)  # any new block: asked afresh
        assert direct.call(coin.address, data, owner) == after and runs["evm"] == 3
    finally:
        del direct._message
