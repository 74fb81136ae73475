import {
  CreateChannelCommand,
  DeleteChannelCommand,
  DescribeChannelCommand,
  type OutputDestination,
  UpdateChannelCommand,
} from "@aws-sdk/client-medialive";
import * as z from "zod";
import { medialive } from "#lib/aws/clients.ts";
import { getIvsChannel, resolveStreamKey } from "#lib/aws/ivs.ts";
import {
  asQuotaError,
  findChannelsByTags,
  inputNotAttachable,
  inputState,
  isGone,
} from "#lib/aws/medialive.ts";
import { config } from "#lib/config.ts";
import { isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import {
  buildChannelRequest,
  PROGRAM_DESTINATION_ID,
  programDestinationSetting,
} from "#lib/sessions/channel-plan.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { getSession, ownedByGoLive, updateSession } from "#lib/sessions/store.ts";
import { defineTask, type TaskContext } from "#tasks/define.ts";

export const EnsureChannelInput = z.object({
  sessionId: z.string().min(1),
  executionArn: z.string().min(1),
  executionName: z.string().min(1),
  /** The channel already recorded on the session (from Claim Session). */
  channelId: z.string().nullable(),
  inputId: z.string().min(1),
  programChannelArn: z.string().min(1),
});
export type EnsureChannelInput = z.infer<typeof EnsureChannelInput>;

export interface EnsureChannelOutput {
  readonly channelId: string;
  readonly channelArn: string;
  readonly state: string;
  /**
   * When this task began to look at the channel (before its describe, create or update): a
   * state-change event at or after it reports a change `state` may not include.
   */
  readonly observedAt: string;
  /** True when this execution created the channel (compensation deletes only those). */
  readonly created: boolean;
  /**
   * True when a reused channel is already running but pushes to a stale program destination (a
   * rotated stream key): MediaLive edits only IDLE channels, so go-live stops it, runs this task
   * again to update it, and starts it.
   */
  readonly needsRepoint: boolean;
}

/** States in which MediaLive refuses an edit but the channel will (or does) run: re-point by stop, update, start. */
const NOT_EDITABLE = new Set(["STARTING", "RUNNING", "RECOVERING", "STOPPING"]);

const FAILED = new Set(["CREATE_FAILED", "UPDATE_FAILED"]);

async function deleteFailedChannel(channelId: string, signal: AbortSignal): Promise<void> {
  try {
    await medialive().send(new DeleteChannelCommand({ ChannelId: channelId }), { abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

interface FoundChannel {
  readonly id: string;
  readonly arn: string;
  readonly state: string;
  readonly tags: Record<string, string>;
  readonly destinations?: OutputDestination[];
}

/**
 * A reused channel may push to a stale target: the IVS stream key was rotated, or the program
 * now goes to another channel. Compares its program destination with the current one; an IDLE
 * channel is updated at once (it is UPDATING for a moment, which Wait For Channel Ready waits
 * out), a running one is reported as `needsRepoint` (MediaLive edits only IDLE channels).
 */
async function refreshProgramDestination(
  found: FoundChannel,
  programChannelArn: string,
  signal: AbortSignal,
): Promise<{ state: string; needsRepoint: boolean }> {
  const unchanged = { state: found.state, needsRepoint: false };
  if ((found.state !== "IDLE" && !NOT_EDITABLE.has(found.state)) || !found.destinations) return unchanged;
  const { ingestEndpoint } = await getIvsChannel(programChannelArn, signal);
  const wanted = programDestinationSetting(ingestEndpoint, await resolveStreamKey(programChannelArn, signal));
  const current = found.destinations.find((d) => d.Id === PROGRAM_DESTINATION_ID)?.Settings?.[0];
  if (current?.Url === wanted.Url && current.StreamName === wanted.StreamName) return unchanged;
  if (found.state !== "IDLE") {
    // STOPPING too: Wait For Channel Ready would wait it out and start it on the stale key.
    logger.warn("A reused channel that cannot be edited now pushes to a stale program destination", {
      channelId: found.id,
      state: found.state,
    });
    return { state: found.state, needsRepoint: true };
  }
  const destinations = found.destinations.map((d) =>
    d.Id === PROGRAM_DESTINATION_ID ? { ...d, Settings: [wanted] } : d,
  );
  const res = await medialive().send(
    new UpdateChannelCommand({ ChannelId: found.id, Destinations: destinations }),
    {
      abortSignal: signal,
    },
  );
  logger.info("Updated the program destination of a reused channel", { channelId: found.id });
  return { state: res.Channel?.State ?? "UPDATING", needsRepoint: false };
}

async function describe(channelId: string, signal: AbortSignal): Promise<FoundChannel | undefined> {
  try {
    const ch = await medialive().send(new DescribeChannelCommand({ ChannelId: channelId }), {
      abortSignal: signal,
    });
    if (!ch.Id || !ch.Arn || isGone(ch.State)) return undefined;
    return {
      id: ch.Id,
      arn: ch.Arn,
      state: ch.State ?? "UNKNOWN",
      tags: ch.Tags ?? {},
      ...(ch.Destinations ? { destinations: ch.Destinations } : {}),
    };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Gets or creates the session's MediaLive channel and records it on the session at once.
 * An existing channel (on the record, or found by the session tag after a lost write) is reused
 * whatever its state (the next states start it only if it is not running), except one MediaLive
 * failed to create or update, which is deleted and replaced.
 */
export async function ensureChannel(
  input: EnsureChannelInput,
  { signal }: TaskContext,
): Promise<EnsureChannelOutput> {
  const { sessionId, executionArn, executionName } = input;
  const observedAt = new Date().toISOString();
  let found = input.channelId ? await describe(input.channelId, signal) : undefined;
  if (!found) {
    // Found by tag after a lost write; never one reconcile retired from the session (idle TTL).
    const tagged = await findChannelsByTags({ [Tags.sessionId]: sessionId }, signal);
    const retired = tagged.length ? (await getSession(sessionId))?.mediaLive.retired?.channelId : undefined;
    const summary = tagged.find((c) => c.Id !== retired);
    if (summary?.Id && summary.Arn) {
      found = {
        id: summary.Id,
        arn: summary.Arn,
        state: summary.State ?? "UNKNOWN",
        tags: summary.Tags ?? {},
        ...(summary.Destinations ? { destinations: summary.Destinations } : {}),
      };
    }
  }
  let requestId = `${executionName}-channel`;
  if (found && FAILED.has(found.state)) {
    // A channel MediaLive could not create (or update) never recovers: replace it.
    await deleteFailedChannel(found.id, signal);
    logger.warn("Replacing a failed MediaLive channel", { channelId: found.id, state: found.state });
    requestId = `${executionName}-replaces-${found.id}`;
    found = undefined;
  }
  const reused = found !== undefined;
  if (!found) {
    // What the channel pushes to, read first: it gives a new input its moment to be created.
    const { ingestEndpoint } = await getIvsChannel(input.programChannelArn, signal);
    const streamKey = await resolveStreamKey(input.programChannelArn, signal);
    // MediaLive attaches only a DETACHED input: a new one may still be CREATING, and one whose
    // failed channel is being deleted stays ATTACHED for a while. Retried by the state, soon.
    const refusal = inputNotAttachable(
      input.inputId,
      await inputState(input.inputId, signal),
      (message) => new TaskError(TaskErrors.ChannelNotFound, `${message}: the session's input is gone`),
    );
    if (refusal) throw refusal;
    const cfg = config();
    const request = buildChannelRequest({
      name: `castflow-${sessionId}`,
      inputId: input.inputId,
      roleArn: cfg.MEDIALIVE_ROLE_ARN,
      ivsIngestEndpoint: ingestEndpoint,
      streamKey,
      recordingBucket: cfg.RECORDING_BUCKET,
      sessionId,
      requestId,
      tags: { ...managedTags(), [Tags.sessionId]: sessionId, [Tags.createdBy]: executionName },
    });
    const res = await medialive()
      .send(new CreateChannelCommand(request), { abortSignal: signal })
      .catch((err: unknown) => {
        throw asQuotaError(err, "a channel");
      });
    const ch = res.Channel;
    if (!ch?.Id || !ch.Arn) throw new Error("CreateChannel returned a channel without an id");
    found = { id: ch.Id, arn: ch.Arn, state: ch.State ?? "CREATING", tags: ch.Tags ?? {} };
    logger.info("Created MediaLive channel", { channelId: ch.Id });
  }
  const { state, needsRepoint } = reused
    ? await refreshProgramDestination(found, input.programChannelArn, signal)
    : { state: found.state, needsRepoint: false };
  const saved = await updateSession(sessionId, {
    set: { "mediaLive.channelId": found.id, "mediaLive.channelArn": found.arn },
    condition: ownedByGoLive(executionArn),
  });
  if (!saved)
    throw new TaskError(
      TaskErrors.SessionClaimLost,
      `Session ${sessionId} is no longer owned by this go-live`,
    );
  return {
    channelId: found.id,
    channelArn: found.arn,
    state,
    observedAt,
    created: found.tags[Tags.createdBy] === executionName,
    needsRepoint,
  };
}

/** The task, declared once: input, grants and handler. */
export const task = defineTask({
  name: "ensure-channel",
  entry: import.meta.url,
  input: EnsureChannelInput,
  table: "write",
  grants: [
    {
      actions: [
        "medialive:CreateChannel",
        "medialive:DescribeChannel",
        "medialive:ListChannels",
        "medialive:CreateTags",
        // The input must be DETACHED before a channel attaches it.
        "medialive:DescribeInput",
        // Replacing a channel MediaLive failed to create.
        "medialive:DeleteChannel",
        // Pointing a reused channel at a rotated stream key.
        "medialive:UpdateChannel",
      ],
      on: "*",
    },
    { actions: ["ivs:GetChannel", "ivs:ListStreamKeys", "ivs:GetStreamKey"], on: "ivs" },
    { actions: ["iam:PassRole"], on: "medialive-role" },
  ],
  run: ensureChannel,
});

export const handler = task.handler;
