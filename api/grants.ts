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
  // Sources: flows are created (found again by name after a lost answer), tagged, described,
  // stopped and deleted synchronously; ListFlows and MediaLive's ListChannels (the quota check
  // before an add) are not resource-scoped.
  {
    actions: [
      "mediaconnect:CreateFlow",
      "mediaconnect:DescribeFlow",
      "mediaconnect:StopFlow",
      "mediaconnect:DeleteFlow",
      "mediaconnect:TagResource",
      // Backup sources and the manual override (source failover), and source health.
      "mediaconnect:AddFlowSources",
      "mediaconnect:RemoveFlowSource",
      "mediaconnect:UpdateFlow",
      "mediaconnect:DescribeFlowSourceMetadata",
    ],
    on: "mediaconnect",
  },
  { actions: ["mediaconnect:ListFlows", "medialive:ListChannels"], on: "*" },
  // Decrypting an SRT source: MediaConnect assumes the role named in the flow.
  { actions: ["iam:PassRole"], on: "mediaconnect-role" },
  // Stream keys are written when a host gives them, and deleted if the add cannot start.
  { actions: ["ssm:PutParameter", "ssm:DeleteParameter"], on: "stream-keys" },
  // Shared mode: an rtmp-push source's RTMP_PUSH input and input security group are created and
  // deleted with the source; the status and the source delete read the shared channel's state.
  {
    actions: [
      "medialive:CreateInput",
      "medialive:DescribeInput",
      "medialive:DeleteInput",
      "medialive:CreateInputSecurityGroup",
      "medialive:DeleteInputSecurityGroup",
      "medialive:CreateTags",
      "medialive:DescribeChannel",
    ],
    on: "medialive",
  },
  { actions: ["medialive:ListInputSecurityGroups"], on: "*" },
];
