import * as z from "zod";
import { mayTakeOver } from "#lib/aws/executions.ts";
import { ensureSharedRecord, isSharedSource } from "#lib/destinations/shared-store.ts";
import { getSource, updateSource } from "#lib/destinations/store.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { defineTask } from "#tasks/define.ts";

/** Every shared-channel-apply task that works on the source's channel names the source and itself. */
export const SharedApplyTaskInput = z.object({
  sourceId: z.string().min(1),
  executionArn: z.string().min(1),
});
export type SharedApplyTaskInput = z.infer<typeof SharedApplyTaskInput>;

export interface ClaimSharedChannelOutput {
  readonly sourceId: string;
  readonly inputType: "RTMP_PUSH" | "MEDIACONNECT";
  readonly hasFlow: boolean;
}

const MAX_CLAIM_ATTEMPTS = 5;

/**
 * Claims the source's shared channel for this execution (`shared.apply`, one conditional write),
 * so one apply at a time changes the channel: every change to it goes through the apply that
 * holds it. A holder that has closed (aborted, timed out) is taken over after the grace period
 * (`TakeoverPending`, retried); one still running is `SharedChannelBusy`: it sees every change
 * counted meanwhile and applies it, and the state retries the claim until it has let go, so this
 * execution ends only once the change that started it is applied.
 */
export async function claimSharedChannel(input: SharedApplyTaskInput): Promise<ClaimSharedChannelOutput> {
  const { sourceId, executionArn } = input;
  for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
    const source = await getSource(sourceId);
    if (!source) throw new TaskError(TaskErrors.SourceUnavailable, `Source ${sourceId} does not exist`);
    if (!isSharedSource(source))
      throw new TaskError(TaskErrors.SourceUnavailable, `Source ${sourceId} is not delivered in shared mode`);
    if (!source.shared) {
      await ensureSharedRecord(sourceId);
      continue;
    }
    const output: ClaimSharedChannelOutput = {
      sourceId,
      inputType: source.protocol === "rtmp-push" ? "RTMP_PUSH" : "MEDIACONNECT",
      hasFlow: source.flow !== undefined,
    };
    const owner = source.shared.apply?.executionArn;
    if (owner === executionArn) return output;
    if (owner !== undefined && !(await mayTakeOver(owner)))
      throw new TaskError(
        TaskErrors.SharedChannelBusy,
        `The shared channel of source ${sourceId} is held by ${owner}, which applies every pending change`,
      );
    const saved = await updateSource(sourceId, {
      set: { "shared.apply": { executionArn, startedAt: new Date().toISOString() } },
      condition:
        owner === undefined
          ? { expression: "attribute_not_exists(#shared.#apply)" }
          : {
              expression: "#shared.#apply.#executionArn = :owner",
              values: { ":owner": owner },
            },
    });
    if (saved) return output;
  }
  throw new TaskError(
    TaskErrors.SharedChannelBusy,
    `The shared channel of source ${sourceId} kept changing hands`,
  );
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "claim-shared-channel",
  entry: import.meta.url,
  input: SharedApplyTaskInput,
  table: "write",
  grants: [{ actions: ["states:DescribeExecution"], on: "states" }],
  run: claimSharedChannel,
});

export const handler = task.handler;
