import * as z from "zod";
import { stopStreaming } from "#state-machines/sessions/stop-streaming/lifecycle.ts";
import { defineLifecycle } from "#state-machines/workflow/lifecycle.ts";
import { GO_LIVE_TIMEOUT_MINUTES } from "#state-machines/workflow/waits.ts";

/**
 * go-live: claim the session, confirm its IVS program channel, get or create its RTMP input and
 * MediaLive channel, start it, wait for RUNNING and mark the session live; any failure after the
 * claim runs the compensation. Input `{sessionId, attempt}`; executions `go-live-<sessionId>-<attempt>`.
 */
export const goLive = defineLifecycle({
  name: "go-live",
  input: z.object({ sessionId: z.string().min(1), attempt: z.number().int().positive() }),
  key: (input) => input.sessionId,
  timeoutMinutes: GO_LIVE_TIMEOUT_MINUTES,
  // A go-live aborted half-way leaves its session `starting`, its channel maybe running: stop it
  // (stop-streaming takes over a session its dead owner left starting).
  settledBy: { lifecycle: stopStreaming, input: ({ sessionId, attempt }) => ({ sessionId, attempt }) },
});
