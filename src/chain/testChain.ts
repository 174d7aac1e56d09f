/** A fresh anvil with the contracts deployed, for tests. */
import { mnemonicToAccount } from 'viem/accounts';
import { type AnvilInstance, anvilMnemonic, startAnvil } from './anvil.ts';
import { chainFor, type PublicClient, publicClientFor, type WalletClient, walletClientFor } from './clients.ts';
import { type DeployConfig, defaultDeployConfig, deployPerdiem, type PerdiemContracts } from './deploy.ts';

export interface TestChain {
  anvil: AnvilInstance;
  client: PublicClient;
  deployer: WalletClient;
  contracts: PerdiemContracts;
  stop(): Promise<void>;
}

export async function startTestChain(
  configure: (base: DeployConfig) => DeployConfig = (base) => base,
): Promise<TestChain> {
  const anvil = await startAnvil();
  try {
    const chain = chainFor(anvil.chainId, anvil.rpcUrl);
    const client = publicClientFor(chain);
    const deployer = walletClientFor(chain, mnemonicToAccount(anvilMnemonic));
    const contracts = await deployPerdiem(deployer, client, configure(defaultDeployConfig(deployer.account.address)));
    return { anvil, client, deployer, contracts, stop: () => anvil.stop() };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
