import * as z from "zod";
import { defineLifecycle } from "#state-machines/workflow/lifecycle.ts";

/**
 * reconcile: inventory castflow's records and AWS's resources, classify what disagrees (orphans,
 * drift, stuck records, idle spend, leaked claims), repair what castflow may repair (not in a dry
 * run), and write the run's report. Run by its schedule (every 5 minutes by default) and by
 * `POST /admin/reconcile`. Input `{runId, dryRun}`.
 */
export const ReconcileInput = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '-' or '_'"),
  dryRun: z.boolean().default(false),
});

export const reconcile = defineLifecycle({
  name: "reconcile",
  input: ReconcileInput,
  key: (i) => i.runId,
  timeoutMinutes: 30,
  // Nothing to settle: the next run starts over from what it finds.
  schedule: {
    everyMinutes: 5,
    description: "castflow: find and repair orphans, drift, stuck records, idle spend and leaked claims",
    input: (id) => ({ runId: id, dryRun: false }),
  },
});
