import { FLOW_STATUS_EVENT_FIELDS, task } from "#tasks/waits/wake-flow-waits.ts";
import { defineReaction } from "./define.ts";

/** A MediaConnect flow changed status: end the lifecycle waits on it (a destination waiting for ACTIVE). */
export const flowStatus = defineReaction({
  name: "flow-status",
  description: "End the lifecycle waits on a MediaConnect flow when its status changes",
  pattern: { source: ["aws.mediaconnect"], "detail-type": ["MediaConnect Flow Status Change"] },
  task,
  fields: FLOW_STATUS_EVENT_FIELDS,
  starts: [],
  onlyWhenWaitsAre: "events",
});
