/** Limits of the CLI and the stack `perdiem up` runs, in one place. Units are last in each name. */

/** How long a reaped process has to exit after SIGTERM (anvil dumps its state then) before SIGKILL. */
export const processReapGraceMs = 5_000;
export const processReapPollMs = 100;
/** How long the CLI waits for an RPC to answer its first call before calling it unreachable. */
export const rpcProbeTimeoutMs = 5_000;
/** How long the CLI waits for one gateway answer. */
export const gatewayRequestTimeoutMs = 30_000;

/** `perdiem up`: how often the allowance feed reads the linked wallets' allowances. */
export const allowanceSyncIntervalMs = 15_000;
/** `perdiem up`: how often the local anvil dumps its state to the home, so a restart resumes the chain. */
export const anvilStateIntervalSeconds = 5;
/** `perdiem up --upstream`: how long an upstream has to answer `GET /models`. */
export const upstreamProbeTimeoutMs = 5_000;
