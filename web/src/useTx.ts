/** One action's transactions as a list of steps (approve, then the call), each pending → confirmed or failed. */
import { useCallback, useState } from 'react';
import type { TxStep } from './chain.ts';

export function useTx(onDone: () => void) {
  const [steps, setSteps] = useState<TxStep[]>([]);
  const [busy, setBusy] = useState(false);
  const report = useCallback((step: TxStep) => {
    setSteps((previous) => {
      const last = previous.at(-1);
      return last && last.label === step.label ? [...previous.slice(0, -1), step] : [...previous, step];
    });
  }, []);
  const run = useCallback(
    async (action: (report: (step: TxStep) => void) => Promise<unknown>) => {
      setSteps([]);
      setBusy(true);
      try {
        await action(report);
      } catch (error) {
        // sendCall has reported a failed step; anything thrown before a step started is reported here.
        setSteps((previous) =>
          previous.some((step) => step.state === 'failed')
            ? previous
            : [...previous, { state: 'failed', label: 'Action', message: (error as Error).message }],
        );
      } finally {
        setBusy(false);
        onDone();
      }
    },
    [report, onDone],
  );
  return { steps, busy, run };
}
