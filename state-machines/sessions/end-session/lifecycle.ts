import * as z from "zod";
import { defineLifecycle } from "#state-machines/workflow/lifecycle.ts";
import { END_SESSION_TIMEOUT_MINUTES } from "#state-machines/workflow/waits.ts";

/**
 * end-session: release every resource of the session and mark it ended. Input `{sessionId}`;
 * executions `end-session-<sessionId>-<n>`. Running it again retries the parts that failed.
 */
export const endSession = defineLifecycle({
  name: "end-session",
  input: z.object({ sessionId: z.string().min(1) }),
  key: (input) => input.sessionId,
  timeoutMinutes: END_SESSION_TIMEOUT_MINUTES,
  settledBy: "end-session",
});
