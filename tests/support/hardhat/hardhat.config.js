// The Hardhat node the integration tests run the deal's lifecycle on: a second JSON-RPC node implementation besides
// anvil. tests/support/hardhat_node.py starts it with `hardhat --config <this file> node`.
//
// - hardfork: the EVM version the contracts are compiled for (rwa.compile.EVM_VERSION), passed by the launcher.
// - chainId 31337: a development chain id (rwa.chain.DEV_CHAIN_IDS), so clock moves and snapshots are allowed.
// - the contract size limit stays on (no allowUnlimitedContractSize): the contracts must deploy as on mainnet.
// - the keys come from a mnemonic the launcher draws at random and passes in RWA_HARDHAT_MNEMONIC, never the
//   well-known default one.
function fromLauncher(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: start this node through tests/support/hardhat_node.py`);
  }
  return value;
}

module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: fromLauncher("RWA_HARDHAT_HARDFORK"),
      accounts: { mnemonic: fromLauncher("RWA_HARDHAT_MNEMONIC"), count: Number(fromLauncher("RWA_HARDHAT_ACCOUNTS")) },
    },
  },
};
