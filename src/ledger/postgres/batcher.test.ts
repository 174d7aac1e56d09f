/**
 * The batcher's grouping: calls made in separate callbacks of one event-loop turn — as a gateway's concurrent
 * requests are, each in its own socket callback — share one batch; a lone call still goes alone.
 */
import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.ts';

function recordingBatcher() {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(
    async (input) => {
      batches.push([input]);
      return input * 2;
    },
    async (inputs) => {
      batches.push(inputs);
      return inputs.map((input) => input * 2);
    },
  );
  return { batches, batcher };
}

describe('Batcher', () => {
  it('sends the calls of several callbacks of one loop turn as one batch, turn after turn', async () => {
    const { batches, batcher } = recordingBatcher();
    for (let turn = 0; turn < 3; turn++) {
      const results = await new Promise<number[]>((resolve) => {
        const calls: Promise<number>[] = [];
        for (let i = 0; i < 4; i++) {
          setImmediate(() => {
            calls.push(batcher.run(turn * 10 + i));
            if (calls.length === 4) void Promise.all(calls).then(resolve);
          });
        }
      });
      expect(results).toEqual([0, 2, 4, 6].map((n) => n + turn * 20));
    }
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [10, 11, 12, 13],
      [20, 21, 22, 23],
    ]);
  });

  it('sends a lone call on its own', async () => {
    const { batches, batcher } = recordingBatcher();
    expect(await batcher.run(7)).toBe(14);
    expect(batches).toEqual([[7]]);
  });
});
