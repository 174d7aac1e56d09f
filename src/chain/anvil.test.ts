import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPublicClient, createTestClient, http } from 'viem';
import { foundry } from 'viem/chains';
import { describe, expect, it } from 'vitest';
import { startAnvil } from './anvil.ts';

describe('local anvil chain', () => {
  it('starts on a free port and answers JSON-RPC', async () => {
    const anvil = await startAnvil();
    try {
      const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) });
      expect(await client.getChainId()).toBe(31337);
    } finally {
      await anvil.stop();
    }
    expect(anvil.process.exitCode !== null || anvil.process.signalCode !== null).toBe(true);
  });

  it('resumes the same chain state after a restart', async () => {
    const statePath = path.join(mkdtempSync(path.join(tmpdir(), 'perdiem-anvil-')), 'state.json');
    const first = await startAnvil({ statePath });
    const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport: http(first.rpcUrl) });
    await testClient.mine({ blocks: 7 });
    await first.stop();

    const second = await startAnvil({ statePath });
    try {
      const client = createPublicClient({ chain: foundry, transport: http(second.rpcUrl) });
      expect(await client.getBlockNumber()).toBe(7n);
    } finally {
      await second.stop();
    }
  });
});
