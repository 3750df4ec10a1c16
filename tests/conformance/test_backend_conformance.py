"""The same tests on every backend (``backend_chain``: the embedded chain with its fast path and without, and anvil):
deploying, views alone and batched, sends and their receipts, reverts decoded into the same custom errors, logs over
ranges and by address and topic, blocks and senders, nonces, raw sends that are taken back when they revert, the
development clock and snapshots. Nothing here asks which backend it runs on."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from web3 import Web3

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.onchain.stablecoin import Stablecoin

MINTED = "0x" + keccak(text="Minted(address,uint256)").hex()
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


def _topic(address: str) -> str:
    return "0x" + address[2:].lower().rjust(64, "0")


def _coin(chain: Chain) -> tuple[Stablecoin, str, str, str]:
    owner, alice, bob = (a.address for a in chain.accounts[:3])
    return Stablecoin.deploy_test(chain, owner), owner, alice, bob


def test_a_deployed_contract_answers_its_views(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, _, _ = _coin(chain)
    code = bytes(chain.w3.eth.get_code(Web3.to_checksum_address(coin.address)))
    assert code and chain.code_hash(coin.address) == keccak(code)
    assert coin.decimals() == 6 and coin.total_supply() == 0
    assert tx.call(coin.contract.functions.owner()) == owner


def test_batched_views_equal_single_views(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, alice, bob = _coin(chain)
    coin.mint(alice, 700, sender=owner)
    coin.mint(bob, 300, sender=owner)
    f = coin.contract.functions
    views = [f.balanceOf(alice), f.balanceOf(bob), f.totalSupply(), f.owner(), f.symbol()]
    single = [tx.call(fn) for fn in views]
    assert single[:4] == [700, 300, 1_000, owner]
    assert tx.call_many(views) == single
    assert tx.call_many(views, batch=True) == single
    assert tx.call_many([]) == []


def test_a_send_has_its_receipt_gas_and_logs(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, alice, _ = _coin(chain)
    receipt = tx.send(coin.contract.functions.mint(alice, 5_000), owner)
    assert receipt["status"] == 1
    assert receipt["from"] == owner and receipt["to"] == coin.address
    assert receipt["blockNumber"] == chain.head()[0]
    assert 21_000 < receipt["gasUsed"] <= receipt["cumulativeGasUsed"]
    theirs = chain.w3.eth.get_transaction_receipt(receipt["transactionHash"])
    assert (theirs["gasUsed"], theirs["status"], theirs["blockHash"]) == (
        receipt["gasUsed"], receipt["status"], receipt["blockHash"])
    assert [log["address"] for log in receipt["logs"]] == [coin.address, coin.address]
    assert tx.event_args(coin.contract, "Transfer", receipt) == [
        {"from": "0x" + "00" * 20, "to": alice, "value": 5_000}]
    assert tx.event_args(coin.contract, "Minted", receipt) == [{"to": alice, "amount": 5_000}]
    paid = tx.send_value(chain, owner, alice, 12_345)
    assert paid["status"] == 1 and paid["gasUsed"] == 21_000


@pytest.mark.parametrize("gas", [None, 200_000], ids=["default-gas", "explicit-gas"])
def test_reverts_are_decoded_into_the_same_custom_errors(backend_chain: Chain, gas: int | None) -> None:
    chain = backend_chain
    coin, owner, alice, bob = _coin(chain)
    f = coin.contract.functions
    with pytest.raises(ContractRevertError) as err:
        tx.send(f.mint(alice, 1), alice, gas)
    assert err.value.error_name == "OwnableUnauthorizedAccount" and err.value.error_args["account"] == alice
    with pytest.raises(ContractRevertError) as err:
        tx.send(f.mint(bob, 0), owner, gas)
    assert err.value.error_name == "ZeroMint" and err.value.error_args["to"] == bob
    with pytest.raises(ContractRevertError) as err:
        tx.send(f.transfer(bob, 1), alice, gas)
    assert err.value.error_name == "ERC20InsufficientBalance"
    assert (err.value.error_args["sender"], err.value.error_args["balance"], err.value.error_args["needed"]) == (
        alice, 0, 1)
    with pytest.raises(ContractRevertError) as err:
        tx.call(f.mint(bob, 0), owner)  # a call reverts with the error the transaction would
    assert err.value.error_name == "ZeroMint"
    for batch in (False, True):  # in a batch the caller is ReadBatch, which holds no tokens either
        with pytest.raises(ContractRevertError) as err:
            tx.call_many([f.totalSupply(), f.transfer(bob, 1)], alice, batch=batch)
        assert err.value.error_name == "ERC20InsufficientBalance"


def test_logs_over_ranges_and_by_address_and_topic(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, alice, bob = _coin(chain)
    other, _, _, _ = _coin(chain)
    first = chain.head()[0] + 1
    coin.mint(alice, 100, sender=owner)
    other.mint(alice, 7, sender=owner)
    coin.mint(bob, 200, sender=owner)
    coin.transfer(bob, 40, sender=alice)
    last = chain.head()[0]
    everything = chain.get_logs(first, last)
    assert [log["blockNumber"] for log in everything] == sorted(log["blockNumber"] for log in everything)
    ours = chain.get_logs(first, last, [coin.address])
    assert len(ours) == 5 and {log["address"] for log in ours} == {coin.address}
    assert len(chain.get_logs(first, last, [coin.address, other.address])) == len(everything) == 7
    minted = chain.get_logs(first, last, [coin.address], [MINTED])
    assert [int.from_bytes(bytes(log["data"]), "big") for log in minted] == [100, 200]
    to_bob = chain.get_logs(first, last, [coin.address], [TRANSFER, None, _topic(bob)])
    assert [int.from_bytes(bytes(log["data"]), "big") for log in to_bob] == [200, 40]
    either = chain.get_logs(first, last, [], [[MINTED, TRANSFER], _topic(alice)])
    assert len(either) == 3  # alice's mints from both coins (topic 1 of Minted is to), her transfer (of Transfer, from)
    assert chain.get_logs(first, first, [coin.address]) == ours[:2]  # one block's range
    queries = [{"fromBlock": first, "toBlock": last, "address": [coin.address], "topics": [MINTED]},
               {"fromBlock": first + 1, "toBlock": last, "address": other.address},
               {"fromBlock": first, "toBlock": last, "address": [coin.address], "topics": [TRANSFER, _topic(alice)]}]
    answers = chain.get_logs_of(queries)  # type: ignore[arg-type]
    assert answers == [list(chain.w3.eth.get_logs(q)) for q in queries]  # type: ignore[arg-type]
    assert [len(a) for a in answers] == [2, 2, 1]
    assert [dict(log) for log in ours] == [dict(log) for log in chain.w3.eth.get_logs(
        {"fromBlock": first, "toBlock": last, "address": coin.address})]


def test_blocks_their_hashes_times_and_senders(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, alice, _ = _coin(chain)
    receipt = tx.send(coin.contract.functions.mint(alice, 1), owner)
    number = receipt["blockNumber"]
    block = chain.w3.eth.get_block(number)
    assert chain.block(number) == (bytes(block["hash"]), block["timestamp"])
    assert chain.block_hash(number) == "0x" + bytes(block["hash"]).hex() == "0x" + bytes(receipt["blockHash"]).hex()
    assert chain.block_hash(chain.head()[0] + 1) is None and chain.block_hash(-1) is None
    assert chain.head() == (number, block["timestamp"])
    assert chain.sender_of(receipt["transactionHash"], number) == owner
    assert chain.sender_of("0x" + bytes(receipt["transactionHash"]).hex(), number) == owner
    assert chain.now() >= chain.head()[1]


def test_nonces_raw_sends_and_sends_taken_back_when_they_revert(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, alice, _ = _coin(chain)
    key = chain.account(owner)
    nonce = chain.nonce(owner)

    def signed(amount: int, at: int) -> bytes:
        fields = {"to": coin.address, "data": tx.encode_call(coin.contract.functions.mint(alice, amount)),
                  "value": 0, "nonce": at, "gas": 200_000, "gasPrice": chain.gas_price(), "chainId": chain.chain_id}
        return bytes(key.sign_transaction(fields).raw_transaction)

    tx_hash = chain.send_raw(signed(10, nonce))
    assert chain.wait_for_receipt(tx_hash, 30)["status"] == 1
    assert chain.nonce(owner) == nonce + 1
    head = chain.head()[0]
    assert chain.send_raw_unless_reverted(signed(0, nonce + 1)) is None  # ZeroMint: nothing of it is kept
    assert chain.nonce(owner) == nonce + 1 and chain.head()[0] == head
    kept = chain.send_raw_unless_reverted(signed(5, nonce + 1))
    assert kept is not None and chain.wait_for_receipt(kept, 30)["status"] == 1
    assert chain.nonce(owner) == nonce + 2 and coin.balance_of(alice) == 15
    with pytest.raises(Exception, match="no signing key"):
        chain.account("0x" + "11" * 20)


def test_the_development_clock_moves_forward_only(backend_chain: Chain) -> None:
    chain = backend_chain
    assert chain.is_dev
    target = chain.now() + 30 * 86_400
    chain.time_travel(target)
    assert chain.head()[1] >= target and chain.now() >= target
    head = chain.head()
    chain.time_travel(target - 86_400)  # in the past: nothing moves
    assert chain.head() == head


def test_a_snapshot_puts_the_chain_back(backend_chain: Chain) -> None:
    chain = backend_chain
    coin, owner, alice, _ = _coin(chain)
    head = chain.head()
    nonce = chain.nonce(owner)
    with chain.snapshot():
        coin.mint(alice, 99, sender=owner)
        chain.time_travel(chain.now() + 3_600)
        assert coin.balance_of(alice) == 99
    assert coin.balance_of(alice) == 0
    assert chain.head() == head and chain.nonce(owner) == nonce
    taken = chain.take_snapshot()
    coin.mint(alice, 1, sender=owner)
    chain.revert_to(taken)
    assert coin.balance_of(alice) == 0 and chain.head() == head

