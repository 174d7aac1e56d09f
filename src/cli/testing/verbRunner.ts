/** Runs `perdiem` verbs in process against one home, as the end-to-end tests of `perdiem up` drive them. */
import { main } from '../main.ts';
import { captureIo } from './captureIo.ts';

export interface VerbRun {
  code: number;
  out: string;
  err: string;
}

/** `perdiem(...argv)` with `--home home` appended, its exit code and what it printed. */
export function verbRunner(home: string): (...argv: string[]) => Promise<VerbRun> {
  return async (...argv) => {
    const captured = captureIo(home);
    const code = await main([...argv, '--home', home], captured.io);
    return { code, out: captured.stdout(), err: captured.stderr() };
  };
}
