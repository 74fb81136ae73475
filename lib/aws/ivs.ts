import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateChannelCommand,
  DeleteChannelCommand,
  DeleteStreamKeyCommand,
  GetChannelCommand,
  GetStreamCommand,
  GetStreamKeyCommand,
  ListStreamKeysCommand,
  paginateListChannels,
  StopStreamCommand,
} from "@aws-sdk/client-ivs";
import { errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { TRANSIENT_AWS_ERRORS } from "#state-machines/workflow/retry.ts";
import { ivs } from "./clients.ts";

/**
 * castflow's one IVS module: creating channels exactly once (the API), reading a channel's
 * ingest and stream key (tasks), and deleting channels (the API's compensation and admin routes,
 * and end-session's tasks). The client makes one attempt per call: CreateChannel has no
 * idempotency token, so a blind SDK retry after a lost answer would create a second channel.
 */

/** Roles of the IVS channels castflow creates (tag `castflow:role`). */
export type IvsChannelRole = "program" | "relay" | "persistent";

export interface IvsIngest {
  readonly ingestEndpoint: string;
  readonly playbackUrl: string;
}

/** The IVS channel's ingest endpoint and playback URL; `ProgramChannelMissing` when it is gone. */
export async function getIvsChannel(channelArn: string, signal?: AbortSignal): Promise<IvsIngest> {
  try {
    const res = await ivs().send(new GetChannelCommand({ arn: channelArn }), { abortSignal: signal });
    const { ingestEndpoint, playbackUrl } = res.channel ?? {};
    if (!ingestEndpoint || !playbackUrl)
      throw new Error(`IVS channel ${channelArn} has no ingest endpoint or playback URL`);
    return { ingestEndpoint, playbackUrl };
  } catch (err) {
    if (isNotFound(err)) {
      throw new TaskError(TaskErrors.ProgramChannelMissing, `IVS channel ${channelArn} does not exist`);
    }
    throw err;
  }
}

/**
 * The channel's stream key value. Only ever used inside a task to configure MediaLive; it is
 * never returned, logged or stored by castflow.
 */
export async function resolveStreamKey(channelArn: string, signal?: AbortSignal): Promise<string> {
  const keys = await ivs().send(new ListStreamKeysCommand({ channelArn }), { abortSignal: signal });
  const keyArn = keys.streamKeys?.[0]?.arn;
  if (!keyArn)
    throw new TaskError(TaskErrors.ProgramChannelMissing, `IVS channel ${channelArn} has no stream key`);
  const key = await ivs().send(new GetStreamKeyCommand({ arn: keyArn }), { abortSignal: signal });
  const value = key.streamKey?.value;
  if (!value) throw new TaskError(TaskErrors.ProgramChannelMissing, `IVS stream key ${keyArn} has no value`);
  return value;
}

/** Tag carrying a per-request token, so a channel whose create answer was lost is recognised. */
const REQUEST_TAG = "castflow:request-id";
const ATTEMPTS = 4;

export interface CreatedIvsChannel {
  readonly arn: string;
  readonly ingestEndpoint: string;
  readonly playbackUrl: string;
}

const transient = (err: unknown) => (TRANSIENT_AWS_ERRORS as readonly string[]).includes(errorName(err));

/** The channel this very request created, if IVS has it (found by name, matched by request tag). */
async function findCreated(name: string, requestId: string): Promise<CreatedIvsChannel | undefined> {
  for await (const page of paginateListChannels({ client: ivs() }, { filterByName: name })) {
    const match = page.channels?.find((c) => c.name === name && c.tags?.[REQUEST_TAG] === requestId);
    if (match?.arn) {
      const { channel } = await ivs().send(new GetChannelCommand({ arn: match.arn }));
      if (channel?.arn && channel.ingestEndpoint && channel.playbackUrl) {
        return { arn: channel.arn, ingestEndpoint: channel.ingestEndpoint, playbackUrl: channel.playbackUrl };
      }
    }
  }
  return undefined;
}

/** Looks for the channel (a few tries: ListChannels is limited to 5 calls a second). */
async function lookUpCreated(
  name: string,
  requestId: string,
): Promise<{ answered: boolean; found?: CreatedIvsChannel }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await sleep(200 * 2 ** attempt);
    try {
      const found = await findCreated(name, requestId);
      return found ? { answered: true, found } : { answered: true };
    } catch {
      // throttled or failed: look again
    }
  }
  return { answered: false };
}

/**
 * Creates an IVS channel tagged as castflow's, exactly once: after a throttled or failed attempt
 * it first looks for the channel (the answer may have been lost after IVS created it), then
 * tries again with backoff. The stream key IVS returns is dropped: castflow never stores, logs
 * or returns keys; the task that configures MediaLive reads it from IVS.
 */
export async function createIvsChannel(
  name: string,
  role: IvsChannelRole,
  tags: Record<string, string> = {},
): Promise<CreatedIvsChannel> {
  const requestId = randomUUID();
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(Math.random() * 200 * 2 ** attempt);
    try {
      const { channel } = await ivs().send(
        new CreateChannelCommand({
          name,
          latencyMode: "LOW",
          type: "STANDARD",
          tags: { ...managedTags(), [Tags.role]: role, [REQUEST_TAG]: requestId, ...tags },
        }),
      );
      if (!channel?.arn || !channel.ingestEndpoint || !channel.playbackUrl) {
        throw new Error("IVS CreateChannel returned an incomplete channel");
      }
      return { arn: channel.arn, ingestEndpoint: channel.ingestEndpoint, playbackUrl: channel.playbackUrl };
    } catch (err) {
      lastError = err;
      if (!transient(err)) break;
      logger.warn("IVS CreateChannel failed; checking whether it was created", {
        name,
        error: errorName(err),
      });
      const lookup = await lookUpCreated(name, requestId);
      if (lookup.found) return lookup.found;
      // Unknown whether the create went through: another create could make a duplicate.
      if (!lookup.answered) {
        logger.error("Could not tell whether IVS created the channel; not retrying", { name, requestId });
        break;
      }
    }
  }
  const code = errorName(lastError);
  if (transient(lastError) || code === "ServiceQuotaExceededException") {
    throw new TaskError(
      TaskErrors.IvsUnavailable,
      `IVS could not create channel ${name} (${code}); retry shortly`,
    );
  }
  throw lastError;
}

export interface DeletedIvsChannel {
  readonly deleted: boolean;
  /** True when a live stream had to be stopped first. */
  readonly stoppedStream: boolean;
}

/** True when IVS says the channel is not broadcasting (or is gone). */
const offline = (err: unknown) => errorName(err) === "ChannelNotBroadcasting" || isNotFound(err);

/**
 * Deletes an IVS channel; idempotent (a channel already gone counts as deleted: `deleted` false).
 * IVS refuses to delete a channel that is live (409), so a live stream is ended first: the
 * stream keys are revoked (encoders often reconnect) and the stream stopped. A 409 that still
 * comes back is `IvsChannelBusy`, retried by the state, never ignored.
 */
export async function deleteIvsChannel(
  channelArn: string,
  options: {
    readonly endStreamFirst?: boolean;
    /**
     * Delete only a channel castflow tagged with one of these roles; anything else fails with
     * `ChannelNotDeletable` before a key is revoked (stream keys carry no tags, so IAM alone
     * cannot keep a task from revoking a persistent channel's key).
     */
    readonly onlyRoles?: readonly IvsChannelRole[];
    readonly signal?: AbortSignal;
  } = {},
): Promise<DeletedIvsChannel> {
  const { signal } = options;
  const endStreamFirst = options.endStreamFirst ?? true;
  if (options.onlyRoles) {
    let tags: Record<string, string> | undefined;
    try {
      tags = (await ivs().send(new GetChannelCommand({ arn: channelArn }), { abortSignal: signal })).channel
        ?.tags;
    } catch (err) {
      if (isNotFound(err)) return { deleted: false, stoppedStream: false };
      throw err;
    }
    const role = tags?.[Tags.role];
    if (tags?.[Tags.managedBy] !== "castflow" || !options.onlyRoles.includes(role as IvsChannelRole)) {
      throw new TaskError(
        TaskErrors.ChannelNotDeletable,
        `IVS channel ${channelArn} is ${role ? `a ${role} channel` : "not a castflow channel"}; only ${options.onlyRoles.join(" or ")} channels are deleted here`,
      );
    }
  }
  let stoppedStream = false;
  if (endStreamFirst)
    try {
      await ivs().send(new GetStreamCommand({ channelArn }), { abortSignal: signal });
      const keys = await ivs().send(new ListStreamKeysCommand({ channelArn }), { abortSignal: signal });
      for (const key of keys.streamKeys ?? []) {
        if (!key.arn) continue;
        try {
          await ivs().send(new DeleteStreamKeyCommand({ arn: key.arn }), { abortSignal: signal });
        } catch (err) {
          if (!isNotFound(err)) throw err; // already revoked: go on to stop the stream
        }
      }
      await ivs().send(new StopStreamCommand({ channelArn }), { abortSignal: signal });
      stoppedStream = true;
      logger.info("Stopped a live stream before deleting its channel", { channelArn });
    } catch (err) {
      if (!offline(err)) throw err;
    }
  try {
    await ivs().send(new DeleteChannelCommand({ arn: channelArn }), { abortSignal: signal });
    return { deleted: true, stoppedStream };
  } catch (err) {
    if (isNotFound(err)) return { deleted: false, stoppedStream };
    if (errorName(err) === "ConflictException") {
      throw new TaskError(
        TaskErrors.IvsChannelBusy,
        `IVS channel ${channelArn} is still live; delete refused`,
      );
    }
    throw err;
  }
}

/** Compensation inside a failed request: best effort, logged when it fails too. */
export async function deleteIvsChannelQuietly(arn: string, why: string): Promise<void> {
  await deleteIvsChannel(arn, { endStreamFirst: false }).catch((err: unknown) =>
    logger.error("Could not delete an IVS channel after a failed request", {
      channelArn: arn,
      why,
      error: errorName(err),
    }),
  );
}
