import * as z from "zod";
import { defineLifecycle } from "#state-machines/workflow/lifecycle.ts";
import { END_SESSION_TIMEOUT_MINUTES } from "#state-machines/workflow/waits.ts";

/**
 * end-session: release every resource of the session and mark it ended. Input `{sessionId}`;
 * executions `end-session-<sessionId>-<n>`. Running it again retries the parts that failed.
 */
const input = z.object({ sessionId: z.string().min(1) });

export const endSession = defineLifecycle({
  name: "end-session",
  input,
  key: (i) => i.sessionId,
  timeoutMinutes: END_SESSION_TIMEOUT_MINUTES,
  // An aborted end leaves the session `ending`: ending again retries every part (idempotent).
  settledBy: "itself",
});
