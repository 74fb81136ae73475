import { NO_INPUT_ALERT } from "#lib/sessions/input-signal.ts";
import { recordInputSignal, SIGNAL_ALERT_FIELDS } from "#tasks/sessions/record-input-signal.ts";
import { defineReaction } from "./define.ts";

/**
 * A session channel's RTMP input stops (or starts again) receiving: record it, so reconcile can
 * stop a live whose host walked away (`RECONCILE_IDLE_INPUT_MINUTES`) without polling every
 * running channel's alerts.
 */
export const inputSignal = defineReaction({
  name: "input-signal",
  description: "Record whether a session channel receives anything from the host's encoder",
  pattern: {
    source: ["aws.medialive"],
    "detail-type": ["MediaLive Channel Alert"],
    detail: { alert_type: [NO_INPUT_ALERT], alarm_state: ["SET", "CLEARED"] },
  },
  task: recordInputSignal,
  fields: SIGNAL_ALERT_FIELDS,
  starts: [],
});
