/** What every token action card gets: the wallet's holdings, a transaction context and a refresh once done. */
import type { Holdings, TxContext, TxStep } from '../../chain.ts';

export interface ActionProps {
  holdings: Holdings;
  context: (report: (step: TxStep) => void) => TxContext;
  onDone: () => void;
}
