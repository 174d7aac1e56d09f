/** Why the follower stops. Both are operating errors: typed, reported, and never repaired silently. */
import { PerdiemError, type PerdiemErrorOptions } from '../../core/errors.ts';

export interface ReorgTooDeepDetails {
  chainId: number;
  /** The last block the follower had processed. */
  cursorBlock: bigint;
  /** The oldest stored block still checked; every stored hash from here up differs from the chain. */
  checkedDownToBlock: bigint;
  reorgDepthMax: number;
}

/**
 * The chain replaced blocks deeper than `reorgDepthMax`: the follower cannot tell which recorded events are still
 * canonical, so it stops rather than keep a history that may be wrong. Repair: re-follow from an older block (or
 * from scratch) after checking the chain.
 */
export class ReorgTooDeepError extends PerdiemError {
  override readonly name = 'ReorgTooDeepError';
  readonly status = 503;
  readonly type = 'api_error';
  readonly retryable = false;
  readonly details: ReorgTooDeepDetails;

  constructor(details: ReorgTooDeepDetails, options: Partial<PerdiemErrorOptions> = {}) {
    super(
      `chain ${details.chainId}: reorg deeper than ${details.reorgDepthMax} blocks below block ${details.cursorBlock} ` +
        `(no stored hash down to block ${details.checkedDownToBlock} is on the chain); the follower stopped`,
      { code: 'chain_reorg_too_deep', ...options },
    );
    this.details = details;
  }
}

/** Another follower moved the cursor between this one's read and its commit. */
export class FollowerCursorMovedError extends PerdiemError {
  override readonly name = 'FollowerCursorMovedError';
  readonly status = 409;
  readonly type = 'invalid_request_error';
  readonly retryable = false;

  constructor(chainId: number, expected: bigint | null, found: bigint | null) {
    super(
      `chain ${chainId}: the follower cursor moved under this follower (expected ${expected ?? 'none'}, found ${found ?? 'none'}); is a second follower running on this database?`,
      { code: 'chain_follower_cursor_moved' },
    );
  }
}
