import * as z from "zod";
import { wakeWaiters } from "#lib/waits.ts";
import { defineTask } from "#tasks/define.ts";

/** The fields of a "MediaConnect Flow Status Change" event this task needs (its rule's input transformer). */
export const FLOW_STATUS_EVENT_FIELDS = {
  time: "$.time",
  state: "$.detail.currentStatus",
  flowArn: "$.resources[0]",
} as const;

/**
 * A flow changed status: complete the waits registered on it that this status ends
 * (lib/waits.ts), as `wake-channel-waits` does for channels.
 */
export const task = defineTask({
  name: "wake-flow-waits",
  entry: import.meta.url,
  input: z.object({
    time: z.string(),
    state: z.string().min(1),
    flowArn: z.string().startsWith("arn:"),
  }),
  table: "waits",
  grants: [{ actions: ["states:SendTaskSuccess"], on: "state-machines" }],
  run: (event) => wakeWaiters("flow", event.flowArn, event.state, event.time),
});

export const handler = task.handler;
