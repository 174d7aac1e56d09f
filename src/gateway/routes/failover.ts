/** Tries each provider serving a model in priority order; the next one only when a call failed before its first byte. */
import { ClientClosedError, PerdiemError } from '../../core/errors.ts';
import type { Provider } from '../providers/index.ts';

function canFailOver(error: unknown): boolean {
  return error instanceof PerdiemError && error.retryable && !(error instanceof ClientClosedError);
}

export async function withFailover<T>(
  providers: readonly Provider[],
  call: (provider: Provider) => Promise<T>,
  onFailure: (provider: Provider, error: unknown) => void,
): Promise<T> {
  let last: unknown;
  for (const provider of providers) {
    try {
      return await call(provider);
    } catch (error) {
      onFailure(provider, error);
      if (!canFailOver(error)) throw error;
      last = error;
    }
  }
  throw last;
}
