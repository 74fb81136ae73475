import { destinationUpdate } from "#state-machines/destinations/destination-update/lifecycle.ts";
import { sharedChannelApply } from "#state-machines/destinations/shared-channel-apply/lifecycle.ts";
import {
  ALERT_FIELDS,
  OUTPUT_FAILURE_ALERTS,
  reactToChannelAlert,
} from "#tasks/destinations/react-to-channel-alert.ts";
import { defineReaction } from "./define.ts";

/**
 * A platform's ingest refuses a destination's stream (a MediaLive output alert): fail over to the
 * backup URL when the destination allows it, else record it; an alert that clears while the
 * destination runs counts as a reconnect. A failover is a destination-update (per-destination) or
 * a shared-channel-apply (shared mode), the very lifecycles POST /destinations/{id}/failover runs.
 */
export const destinationAlert = defineReaction({
  name: "destination-alert",
  description: "Fail a destination over to its backup ingest when its platform refuses the stream",
  pattern: {
    source: ["aws.medialive"],
    "detail-type": ["MediaLive Channel Alert"],
    detail: { alert_type: [...OUTPUT_FAILURE_ALERTS], alarm_state: ["SET", "CLEARED"] },
  },
  task: reactToChannelAlert,
  // The alert's message may hold a stream key: the task reads it from ListAlerts instead.
  fields: ALERT_FIELDS,
  starts: [destinationUpdate, sharedChannelApply],
});
