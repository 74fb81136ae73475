import type { Grant } from "#tasks/define.ts";

/**
 * What the API function may do besides reading and writing the table and starting, describing
 * and reading the history of castflow's executions (the stack grants those from the registry).
 */
export const API_GRANTS: readonly Grant[] = [
  // Program, relay and persistent channels are created synchronously (tags set at creation).
  { actions: ["ivs:CreateChannel", "ivs:GetChannel", "ivs:TagResource"], on: "ivs" },
  // Deleted on a failed request, or by an admin (persistent channels): only channels castflow created.
  { actions: ["ivs:DeleteChannel"], on: "ivs", onlyRoles: ["program", "relay", "persistent"] },
  // After a create whose answer was lost, the API looks for the channel it made (IVS
  // ListChannels is not resource-scoped).
  { actions: ["ivs:ListChannels"], on: "*" },
];
