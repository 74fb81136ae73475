import * as z from "zod";
import { defineLifecycle } from "#state-machines/workflow/lifecycle.ts";
import { STOP_STREAMING_TIMEOUT_MINUTES } from "#state-machines/workflow/waits.ts";

/**
 * stop-streaming: claim the session (live or error -> stopping), stop its channel, wait until
 * IDLE, mark the session idle. Input `{sessionId, attempt}`; executions
 * `stop-streaming-<sessionId>-<n>`.
 */
const input = z.object({ sessionId: z.string().min(1), attempt: z.number().int().positive() });

export const stopStreaming = defineLifecycle({
  name: "stop-streaming",
  input,
  key: (i) => i.sessionId,
  timeoutMinutes: STOP_STREAMING_TIMEOUT_MINUTES,
  // An aborted stop leaves the session `stopping`: stopping again takes it over and finishes.
  settledBy: "itself",
});
