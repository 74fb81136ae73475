import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import * as z from "zod";
import { createIvsChannel, deleteIvsChannel, deleteIvsChannelQuietly } from "#lib/aws/ivs.ts";
import {
  ChannelState,
  type HostAssignment,
  ivsChannelId,
  type PersistentChannel,
} from "#lib/channels/model.ts";
import {
  deleteAssignment,
  deleteChannelRecord,
  getAssignment,
  getChannel,
  listChannels,
  putAssignment,
  putNewChannel,
  updateChannel,
} from "#lib/channels/store.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { nowIso } from "#lib/sessions/model.ts";
import { getSession } from "#lib/sessions/store.ts";
import type { Caller } from "./auth.ts";
import { ApiError, conflict, fieldError, notFound } from "./http.ts";
import { Id } from "./validation.ts";

export const CreateChannelBody = z.strictObject({
  name: z
    .string()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .regex(/^[A-Za-z0-9_-]+$/, "may contain only letters, digits, '_' and '-' (IVS channel names)")
    .optional(),
  hostUserId: Id.optional(),
});
export const AssignChannelBody = z.strictObject({ channelId: Id });
export const ChannelStateBody = z.strictObject({
  newState: ChannelState,
  /** `null` (what the seeds' recovery call sends) means the same as leaving it out. */
  sessionId: Id.nullish().transform((v) => v ?? undefined),
  /** IDLE only: free the channel even though the session holding it has not ended. */
  force: z.boolean().optional(),
});

export function requireAdmin(caller: Caller): void {
  if (!caller.isAdmin) throw new ApiError(403, "forbidden", "This route is for admins");
}

async function channelOr404(channelId: string): Promise<PersistentChannel> {
  const channel = Id.safeParse(channelId).success ? await getChannel(channelId) : undefined;
  if (!channel) throw notFound("Channel");
  return channel;
}

/**
 * POST /admin/channels: a persistent IVS channel (tagged castflow-managed and persistent) and its
 * registry record, optionally assigned to a host at once. Its playback URL never changes, so
 * viewers keep it across broadcasts.
 */
export async function createPersistentChannel(
  body: z.infer<typeof CreateChannelBody>,
): Promise<PersistentChannel> {
  if (body.hostUserId) await assertHostFree(body.hostUserId);
  const name = body.name ?? `host-${randomUUID().slice(0, 8)}`;
  const ivs = await createIvsChannel(`castflow-persistent-${name}`, "persistent");
  const now = nowIso();
  const channel: PersistentChannel = {
    channelId: ivsChannelId(ivs.arn),
    channelArn: ivs.arn,
    name,
    state: "IDLE",
    playbackUrl: ivs.playbackUrl,
    ingestEndpoint: ivs.ingestEndpoint,
    totalBroadcasts: 0,
    totalStreamingMinutes: 0,
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
  try {
    await putNewChannel(channel);
    if (body.hostUserId)
      return (await assign(body.hostUserId, channel.channelId, { exclusive: true })).channel;
    return channel;
  } catch (err) {
    await deleteChannelRecord(channel.channelId).catch(() => undefined);
    await deleteIvsChannelQuietly(ivs.arn, "persistent channel create failed");
    throw err;
  }
}

async function assertHostFree(hostUserId: string): Promise<void> {
  const existing = await getAssignment(hostUserId);
  if (existing) {
    throw conflict(`Host ${hostUserId} already has channel ${existing.channelId}`, {
      channelId: existing.channelId,
    });
  }
}

/**
 * Assigns a channel to a host (one channel per host, one host per channel). Reassigning a host
 * moves it off its previous channel.
 */
async function assign(hostUserId: string, channelId: string, options: { readonly exclusive?: boolean } = {}) {
  const channel = await channelOr404(channelId);
  if (channel.hostUserId && channel.hostUserId !== hostUserId) {
    throw conflict(`Channel ${channelId} is assigned to another host`, { hostUserId: channel.hostUserId });
  }
  const updated = await updateChannel(channelId, {
    set: { hostUserId },
    condition: {
      expression: "(attribute_not_exists(#hostUserId) OR #hostUserId = :host)",
      values: { ":host": hostUserId },
    },
  });
  if (!updated) throw conflict(`Channel ${channelId} was assigned to another host meanwhile`);
  const previous = await getAssignment(hostUserId);
  let assignment: HostAssignment;
  try {
    assignment = await putAssignment(hostUserId, channelId, { onlyIfUnassigned: options.exclusive === true });
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException)
      throw conflict(`Host ${hostUserId} got a channel meanwhile`);
    throw err;
  }
  if (previous && previous.channelId !== channelId) {
    await updateChannel(previous.channelId, {
      set: {},
      remove: ["hostUserId"],
      condition: { expression: "#hostUserId = :host", values: { ":host": hostUserId } },
    });
  }
  return { assignment, channel: updated };
}

/** PUT /admin/hosts/{hostUserId}/channel */
export async function assignChannel(hostUserId: string, body: z.infer<typeof AssignChannelBody>) {
  if (!Id.safeParse(hostUserId).success) throw notFound("Host");
  return (await assign(hostUserId, body.channelId)).assignment;
}

/** GET /hosts/{hostUserId}/channel: the host itself or an admin. */
export async function hostChannel(caller: Caller, hostUserId: string) {
  if (caller.userId !== hostUserId && !caller.isAdmin) throw notFound("Host channel");
  const assignment = Id.safeParse(hostUserId).success ? await getAssignment(hostUserId) : undefined;
  if (!assignment) throw notFound("Host channel");
  const channel = await getChannel(assignment.channelId);
  return { ...assignment, channel: channel ?? null };
}

export const listPersistentChannels = async () => ({ channels: await listChannels() });
export const getPersistentChannel = channelOr404;

/**
 * PUT /admin/channels/{channelId}/state: the documented recovery for a channel stuck LIVE (its
 * session ended without releasing it) or OFFLINE.
 * - `IDLE` frees it. Refused (409) while the session holding it is still active or ending, unless
 *   `force: true`; with `sessionId`, only while that session is the holder.
 * - `LIVE` gives an IDLE channel to `sessionId`, which must be an active session on this channel.
 * - `OFFLINE` takes it out of service (new sessions get 503); a session holding it keeps its claim.
 */
export async function setChannelState(channelId: string, body: z.infer<typeof ChannelStateBody>) {
  const channel = await channelOr404(channelId);
  const { newState, sessionId, force } = body;
  const holder = channel.currentSessionId;
  let updated: PersistentChannel | undefined;
  if (newState === "LIVE") {
    if (!sessionId) {
      throw fieldError("sessionId", "is required when newState is LIVE");
    }
    const session = await getSession(sessionId);
    if (session?.status !== "active" || session.ivs.persistentChannelId !== channelId) {
      throw conflict(`Session ${sessionId} is not an active session on channel ${channelId}`);
    }
    updated = await updateChannel(channelId, {
      set: { state: "LIVE", currentSessionId: sessionId },
      condition: { expression: "#state = :idle", values: { ":idle": "IDLE" } },
    });
    if (!updated)
      throw conflict(`Only an IDLE channel can be given to a session; ${channelId} is ${channel.state}`);
  } else if (newState === "IDLE") {
    if (sessionId && holder !== sessionId) {
      throw conflict(`Channel ${channelId} is not held by session ${sessionId}`, {
        currentSessionId: holder ?? null,
      });
    }
    if (holder && !force) {
      const session = await getSession(holder);
      if (session && session.status !== "ended") {
        throw conflict(
          `Session ${holder} is ${session.status} and still holds channel ${channelId}; end it first, or pass force: true`,
          { currentSessionId: holder, sessionStatus: session.status },
        );
      }
    }
    updated = await updateChannel(channelId, {
      set: { state: "IDLE" },
      remove: ["currentSessionId"],
      condition: holder
        ? { expression: "#currentSessionId = :holder", values: { ":holder": holder } }
        : { expression: "attribute_not_exists(#currentSessionId)" },
    });
    if (!updated) throw conflict(`Channel ${channelId} changed meanwhile; read it and try again`);
  } else {
    updated = await updateChannel(channelId, { set: { state: "OFFLINE" } });
    if (!updated) throw notFound("Channel");
  }
  logger.warn("Channel state set by an admin", {
    channelId,
    from: channel.state,
    to: newState,
    holder,
    force,
  });
  return updated;
}

/**
 * DELETE /admin/channels/{channelId}: refused while LIVE. The channel is first taken OFFLINE (so
 * no session can claim it meanwhile), then its IVS channel, record and assignment are deleted.
 */
export async function deletePersistentChannel(channelId: string) {
  const channel = await channelOr404(channelId);
  const liveConflict = () =>
    conflict("The channel is LIVE; end its session (or recover the channel) before deleting it", {
      currentSessionId: channel.currentSessionId ?? null,
    });
  if (channel.state === "LIVE") throw liveConflict();
  const parked = await updateChannel(channelId, {
    set: { state: "OFFLINE" },
    condition: { expression: "#state <> :live", values: { ":live": "LIVE" } },
  });
  if (!parked) throw liveConflict();
  try {
    await deleteIvsChannel(channel.channelArn, { endStreamFirst: false });
  } catch (err) {
    // Back to where it was, unless an admin changed it meanwhile.
    await updateChannel(channelId, {
      set: { state: channel.state },
      condition: { expression: "#state = :offline", values: { ":offline": "OFFLINE" } },
    });
    if (errorName(err) === "ConflictException") {
      throw conflict("The IVS channel is receiving a stream; stop it before deleting the channel");
    }
    throw err;
  }
  if (!(await deleteChannelRecord(channelId))) {
    throw conflict(
      "The IVS channel is deleted but its record changed meanwhile; read it and retry the delete",
    );
  }
  if (channel.hostUserId) {
    const assignment = await getAssignment(channel.hostUserId);
    if (assignment?.channelId === channelId) await deleteAssignment(channel.hostUserId);
  }
  return { channelId, deleted: true };
}
