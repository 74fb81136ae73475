import { wakeTask } from "./wake.ts";

/** A MediaConnect flow changed status ("MediaConnect Flow Status Change"): end the waits it ends. */
export const { task, fields: FLOW_STATUS_EVENT_FIELDS } = wakeTask({
  name: "wake-flow-waits",
  entry: import.meta.url,
  kind: "flow",
  paths: { state: "$.detail.currentStatus", resourceArn: "$.resources[0]" },
  idOf: (arn) => arn,
});

export const handler = task.handler;
