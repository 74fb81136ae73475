import { randomUUID } from "node:crypto";
import * as z from "zod";
import { createIvsChannel, deleteIvsChannelQuietly } from "#lib/aws/ivs.ts";
import {
  claimChannel,
  getAssignment,
  getChannel,
  releaseChannel,
  takeOverChannel,
} from "#lib/channels/store.ts";
import { config } from "#lib/config.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { type NewSession, nowIso, Session, SessionStatus, Tags } from "#lib/sessions/model.ts";
import {
  getSession,
  InvalidNextTokenError,
  listSessions,
  putNewSession,
  type SessionPage,
  updateSession,
} from "#lib/sessions/store.ts";
import { endSession as endSessionLifecycle } from "#state-machines/sessions/end-session/lifecycle.ts";
import { goLive } from "#state-machines/sessions/go-live/lifecycle.ts";
import { stopStreaming as stopStreamingLifecycle } from "#state-machines/sessions/stop-streaming/lifecycle.ts";
import type { Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import type { Caller } from "./auth.ts";
import { isRunning, startLifecycle } from "./executions.ts";
import { ApiError, conflict, fieldError, notFound, validationError } from "./http.ts";
import { Id } from "./validation.ts";

export const CreateSessionBody = z.strictObject({ showId: Id, episodeId: Id.optional() });
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

/**
 * The seed's messages for the channel registry, answered as they are; a channel in use also
 * names the caller's session that holds it (`inUseBy`).
 */
export const ChannelMessages = {
  noChannel: "No channel assigned to your account. Please contact support.",
  inUse: "Channel is currently in use. Please try again later.",
  offline: "Channel is temporarily unavailable. Please contact support.",
  misconfigured: "Channel configuration error. Please contact support.",
} as const;

/** What holds a channel, as the 409 `channel_in_use` says it (`details`). */
export interface ChannelHolder {
  readonly sessionId: string;
  /** The session is streaming (`streaming.status` is `live`). */
  readonly live: boolean;
  /** `active`, `ending`, `ended`, or null while the session is still being created. */
  readonly sessionStatus: string | null;
  /** `idle`, `starting`, `live`, `stopping`, `error`, or null while the session is still being created. */
  readonly streamingStatus: string | null;
}

/** The 409's message: which session holds the channel, whether it is live, and what frees it. */
export function inUseBy(h: ChannelHolder): string {
  const by = `Channel is currently in use by session ${h.sessionId}`;
  const end = `DELETE /sessions/${h.sessionId}`;
  if (h.sessionStatus === null) return `${by}, which is still being created. Please try again later.`;
  if (h.sessionStatus === "ending")
    return `${by}, which is ending; the channel is free once its end completes.`;
  if (h.sessionStatus === "ended")
    return `${by}, which ended without releasing the channel; end it again (${end}) to release it.`;
  if (h.live) return `${by}, which is live; end it (${end}) before creating another session.`;
  return `${by}, which is not live (streaming ${h.streamingStatus}); end it (${end}) to free the channel.`;
}

function newSession(
  caller: Caller,
  sessionId: string,
  body: CreateSessionBody,
  ivs: Session["ivs"],
): Session {
  const now = nowIso();
  return Session.parse({
    sessionId,
    hostUserId: caller.userId,
    showId: body.showId,
    ...(body.episodeId ? { episodeId: body.episodeId } : {}),
    createdAt: now,
    updatedAt: now,
    status: "active",
    ivs,
    mediaLive: { inputIds: {}, rtmpEndpoints: {} },
    streaming: { isLive: false, status: "idle", attempt: 0, totalStreamedSeconds: 0 },
  } satisfies NewSession);
}

/**
 * POST /sessions. A host with a persistent channel claims it (IDLE -> LIVE, atomically: of two
 * concurrent creates one gets 201 and the other 409) and gets a temporary relay channel
 * `castflow-relay-<sessionId>`. If any step fails the claim is released and the relay deleted.
 * A host without one gets a program channel of its own when LEGACY_PROGRAM_CHANNELS is on,
 * else 403.
 */
export async function createSession(caller: Caller, body: CreateSessionBody): Promise<Session> {
  const assignment = await getAssignment(caller.userId);
  if (!assignment) {
    if (!config().LEGACY_PROGRAM_CHANNELS)
      throw new ApiError(403, "no_channel_assigned", ChannelMessages.noChannel);
    return await createLegacySession(caller, body);
  }
  const channel = await getChannel(assignment.channelId);
  if (!channel) {
    logger.error("Host assignment points at a missing channel", { ...assignment });
    throw new ApiError(500, "channel_configuration_error", ChannelMessages.misconfigured);
  }
  if (channel.state === "OFFLINE") throw new ApiError(503, "channel_unavailable", ChannelMessages.offline);
  const sessionId = randomUUID();
  if (!(await claimChannel(channel.channelId, sessionId, caller.userId))) {
    await claimAfterRefusal(channel.channelId, sessionId, caller.userId);
  }
  let relayArn: string | undefined;
  try {
    const relay = await createIvsChannel(`castflow-relay-${sessionId}`, "relay", {
      [Tags.sessionId]: sessionId,
    });
    relayArn = relay.arn;
    const session = newSession(caller, sessionId, body, {
      persistentChannelId: channel.channelId,
      persistentChannelArn: channel.channelArn,
      persistentPlaybackUrl: channel.playbackUrl,
      persistentIngestEndpoint: channel.ingestEndpoint,
      relayChannelArn: relay.arn,
      relayPlaybackUrl: relay.playbackUrl,
      relayIngestEndpoint: relay.ingestEndpoint,
    });
    await putNewSession(session);
    return session;
  } catch (err) {
    // The write may have landed with only its answer lost: then the session exists and is kept.
    const stored = await getSession(sessionId).catch(() => undefined);
    if (stored) return stored;
    if (relayArn) await deleteIvsChannelQuietly(relayArn, "session create failed");
    await releaseChannel(channel.channelId, sessionId).catch((releaseErr: unknown) =>
      logger.error("Could not release a channel claimed by a failed session create", {
        channelId: channel.channelId,
        sessionId,
        error: errorName(releaseErr),
      }),
    );
    throw err;
  }
}

/** How long a claim may exist without its session record before it counts as abandoned. */
const CLAIM_LEASE_MS = 120_000;

/**
 * The channel refused the claim: answer why, or take over a claim that was abandoned: its session
 * ended without releasing it, or never got stored (a create that died between claim and write).
 */
async function claimAfterRefusal(channelId: string, sessionId: string, hostUserId: string): Promise<void> {
  const channel = await getChannel(channelId);
  if (!channel || channel.hostUserId !== hostUserId) {
    logger.error("Host assignment and channel record disagree", { channelId, hostUserId });
    throw new ApiError(500, "channel_configuration_error", ChannelMessages.misconfigured);
  }
  if (channel.state === "OFFLINE") throw new ApiError(503, "channel_unavailable", ChannelMessages.offline);
  const holder = channel.currentSessionId;
  if (channel.state === "LIVE" && holder) {
    const held = await getSession(holder);
    // An ended session whose MediaLive clean-up failed keeps its claim on purpose: its channel
    // may still push to this one.
    const abandoned = held
      ? held.status === "ended" && held.end?.cleanupResults?.mediaLive.success === true
      : Date.now() - Date.parse(channel.updatedAt) > CLAIM_LEASE_MS;
    if (abandoned && (await takeOverChannel(channelId, sessionId, holder, hostUserId))) {
      logger.warn("Took over an abandoned channel claim", { channelId, staleHolder: holder });
      return;
    }
    // Named only to its own host: a channel moved between hosts may still be held by another's.
    if (!held || held.hostUserId === hostUserId) {
      const status = held?.streaming.status;
      const h: ChannelHolder = {
        sessionId: holder,
        live: status === "live",
        sessionStatus: held?.status ?? null,
        streamingStatus: status ?? null,
      };
      throw new ApiError(409, "channel_in_use", inUseBy(h), h);
    }
  }
  throw new ApiError(409, "channel_in_use", ChannelMessages.inUse);
}

/**
 * A session with a program channel of its own (hosts without a persistent channel, where the
 * legacy fallback is on). If storing the session fails, the channel is deleted again.
 */
async function createLegacySession(caller: Caller, body: CreateSessionBody): Promise<Session> {
  const sessionId = randomUUID();
  const program = await createIvsChannel(`castflow-program-${sessionId}`, "program", {
    [Tags.sessionId]: sessionId,
  });
  const session = newSession(caller, sessionId, body, {
    programChannelArn: program.arn,
    programIngestEndpoint: program.ingestEndpoint,
    programPlaybackUrl: program.playbackUrl,
  });
  try {
    await putNewSession(session);
  } catch (err) {
    await deleteIvsChannelQuietly(program.arn, "session create failed");
    throw err;
  }
  return session;
}

/** GET /sessions query parameters (all optional; others are ignored). */
export const ListSessionsQuery = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, "must be a whole number from 1 to 100")
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100, "must be a whole number from 1 to 100")
    .optional(),
  nextToken: z.string().min(1, "must not be empty").max(4096, "is not a token of this listing").optional(),
  hostUserId: Id.optional(),
  status: z
    .enum(SessionStatus.options, { error: `must be one of ${SessionStatus.options.join(", ")}` })
    .optional(),
});

export const DEFAULT_SESSION_PAGE = 20;

/**
 * GET /sessions: the caller's sessions, newest first, `limit` (default 20, at most 100) a page,
 * `nextToken` for the next. Admins list every host's, or one host's (`?hostUserId=`); anyone may
 * filter by `?status=` (`active`, `ending`, `ended`). A host asking for another host's gets 403.
 */
export async function listSessionsFor(
  caller: Caller,
  params: Readonly<Record<string, string | undefined>>,
): Promise<Omit<SessionPage, "sessions"> & { sessions: ReturnType<typeof sessionView>[] }> {
  const parsed = ListSessionsQuery.safeParse(params);
  if (!parsed.success) throw validationError(parsed.error, params, "query");
  const q = parsed.data;
  if (!caller.isAdmin && q.hostUserId !== undefined && q.hostUserId !== caller.userId)
    throw new ApiError(403, "forbidden", "Only admins may list another host's sessions");
  const hostUserId = caller.isAdmin ? q.hostUserId : caller.userId;
  try {
    const page = await listSessions({
      limit: q.limit ?? DEFAULT_SESSION_PAGE,
      ...(hostUserId !== undefined ? { hostUserId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.nextToken ? { nextToken: q.nextToken } : {}),
    });
    return { ...page, sessions: page.sessions.map(sessionView) };
  } catch (err) {
    if (err instanceof InvalidNextTokenError)
      throw fieldError("nextToken", "is not a token of this listing; list again without it");
    throw err;
  }
}

/** A session as the API shows it: its broadcasts' runs stay in the cost report (GET /admin/cost). */
export function sessionView(s: Session) {
  const { runs: _runs, ...streaming } = s.streaming;
  return { ...s, streaming };
}

/** The session, if the caller may see it: its host or an admin. Others get 404, not 403. */
export async function sessionFor(caller: Caller, sessionId: string): Promise<Session> {
  const session = Id.safeParse(sessionId).success ? await getSession(sessionId) : undefined;
  if (!session || (session.hostUserId !== caller.userId && !caller.isAdmin)) throw notFound("Session");
  return session;
}

export type LifecycleResponse = { status: 200 | 202; body: Record<string, unknown> };

/**
 * Going live or stopping is for active sessions only: 409 once the session is ending or ended,
 * and from the moment `DELETE` started its end (the end waits for a go-live or stop under way to
 * settle, so the record stays `active` until then).
 */
async function requireActive(session: Session): Promise<void> {
  if (session.status !== "active") {
    throw conflict(`The session is ${session.status}`, { status: session.status });
  }
  if (session.endRequest && (await isRunning(session.endRequest.executionArn))) {
    throw conflict("The session is ending", {
      status: "ending",
      executionArn: session.endRequest.executionArn,
    });
  }
}

/** POST /sessions/{id}/streaming/start */
export async function startStreaming(session: Session): Promise<LifecycleResponse> {
  await requireActive(session);
  const { streaming, sessionId } = session;
  if (streaming.status === "live") {
    return {
      status: 200,
      body: {
        sessionId,
        status: "live",
        playbackUrl: streaming.playbackUrl,
        executionArn: streaming.executionArn,
      },
    };
  }
  if (streaming.status === "stopping") {
    throw conflict("The session is stopping; go live again once it is idle", { status: streaming.status });
  }
  if (streaming.status === "starting" && (await isRunning(streaming.executionArn))) {
    return { status: 202, body: { sessionId, status: "starting", executionArn: streaming.executionArn } };
  }
  const started = await start(
    session,
    goLive,
    Math.max(streaming.attempt, counter(session, goLive)),
    (n) => ({
      sessionId,
      attempt: n,
    }),
  );
  return {
    status: 202,
    body: {
      sessionId,
      status: "starting",
      executionArn: started.executionArn,
      executionName: started.executionName,
      startDate: started.startDate,
    },
  };
}

/** POST /sessions/{id}/streaming/stop */
export async function stopStreaming(session: Session): Promise<LifecycleResponse> {
  await requireActive(session);
  const { streaming, sessionId } = session;
  if (streaming.status === "idle") return { status: 200, body: { sessionId, status: "idle" } };
  if (streaming.status === "starting" && (await isRunning(streaming.executionArn))) {
    throw conflict("The session is starting; stop it once it is live", { status: streaming.status });
  }
  if (streaming.status === "stopping" && (await isRunning(streaming.stopExecutionArn))) {
    return { status: 202, body: { sessionId, status: "stopping", executionArn: streaming.stopExecutionArn } };
  }
  const started = await start(
    session,
    stopStreamingLifecycle,
    counter(session, stopStreamingLifecycle),
    (n) => ({
      sessionId,
      attempt: n,
    }),
  );
  return {
    status: 202,
    body: {
      sessionId,
      status: "stopping",
      executionArn: started.executionArn,
      executionName: started.executionName,
      startDate: started.startDate,
    },
  };
}

/**
 * DELETE /sessions/{id}: starts end-session (`end-session-<sessionId>-<n>`), or returns the one
 * under way. A session that ended with everything cleaned up answers 200; one whose clean-up
 * failed in part is ended again, which retries the failed parts.
 */
export async function endSession(session: Session): Promise<LifecycleResponse> {
  const { sessionId } = session;
  const results = session.end?.cleanupResults;
  const clean = Object.values(results ?? {}).every((r) => r === undefined || r.success);
  if (session.status === "ended" && clean) {
    return {
      status: 200,
      body: { sessionId, status: "ended", endedAt: session.end?.endedAt, cleanupResults: results },
    };
  }
  if (session.status === "ending" && (await isRunning(session.end?.executionArn))) {
    return { status: 202, body: { sessionId, status: "ending", executionArn: session.end?.executionArn } };
  }
  if (session.endRequest && (await isRunning(session.endRequest.executionArn))) {
    return {
      status: 202,
      body: { sessionId, status: "ending", executionArn: session.endRequest.executionArn },
    };
  }
  // The request is recorded with the counter, at once: from now on start and stop answer 409, even
  // while the end still waits for a go-live under way to settle (the record stays `active` until
  // end-session claims it).
  const started = await start(
    session,
    endSessionLifecycle,
    counter(session, endSessionLifecycle),
    () => ({ sessionId }),
    (executionArn) => ({ endRequest: { executionArn, requestedAt: nowIso() } }),
  );
  return {
    status: 202,
    body: {
      sessionId,
      status: "ending",
      executionArn: started.executionArn,
      executionName: started.executionName,
      startDate: started.startDate,
    },
  };
}

/** The last execution number `lifecycle` used for the session (0 before the first). */
const counter = (session: Session, lifecycle: Lifecycle) => session.executionCounters?.[lifecycle.name] ?? 0;

/**
 * Starts `lifecycle` for the session from its counter (the running execution under that name is
 * returned as it is: a repeated request starts nothing) and stores the number it got, with
 * `alsoSet` in the same write, so the next start skips every name used (reserved for 90 days). A
 * lost race on the counter costs one more name probe, nothing else; a failed write is logged:
 * the execution runs either way.
 */
async function start<I extends z.ZodType>(
  session: Session,
  lifecycle: Lifecycle<I>,
  from: number,
  input: (n: number) => z.input<I>,
  alsoSet: (executionArn: string) => Record<string, unknown> = () => ({}),
) {
  const started = await startLifecycle(lifecycle, from, input);
  const counters = {
    ...session.executionCounters,
    [lifecycle.name]: Math.max(started.n, counter(session, lifecycle)),
  };
  await updateSession(session.sessionId, {
    set: { executionCounters: counters, ...alsoSet(started.executionArn) },
  }).catch((err: unknown) =>
    logger.warn("Could not record the execution counter", {
      sessionId: session.sessionId,
      error: errorName(err),
    }),
  );
  return started;
}
