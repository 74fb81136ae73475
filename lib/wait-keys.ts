/**
 * Wait registrations (lib/waits.ts) are the items of castflow's table under partitions starting
 * with this prefix: the only items the `waits` table access reaches. Its own module, so the stack
 * reads it without loading the SDK clients.
 */
export const WAIT_KEY_PREFIX = "wait#";
