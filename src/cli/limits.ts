/** Limits of the CLI and the stack `perdiem up` runs, in one place. Units are last in each name. */

/** How long a reaped process has to exit after SIGTERM (anvil dumps its state then) before SIGKILL. */
export const processReapGraceMs = 5_000;
export const processReapPollMs = 100;
