import { randomUUID } from "node:crypto";
import { CreateChannelCommand, DeleteChannelCommand, IvsClient } from "@aws-sdk/client-ivs";
import * as z from "zod";
import { config } from "../lib/config.ts";
import { errorName } from "../lib/errors.ts";
import { logger } from "../lib/logger.ts";
import { executionNameBase, nowIso, type Session, Tags } from "../lib/session.ts";
import { getSession, putNewSession } from "../lib/session-store.ts";
import type { Caller } from "./auth.ts";
import { isRunning, startNamedExecution } from "./executions.ts";
import { ApiError, conflict, notFound } from "./http.ts";

const Id = z
  .string()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'");

export const CreateSessionBody = z.strictObject({ showId: Id, episodeId: Id.optional() });
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

/** The API's IVS client keeps the SDK's retries: a synchronous request has no state machine to retry it. */
let apiIvs: IvsClient | undefined;
const ivsClient = () => {
  apiIvs ??= new IvsClient({ maxAttempts: 4 });
  return apiIvs;
};

/** A session as the API shows it: the stored document, which never holds a stream key. */
export const view = (s: Session) => s;

/**
 * Creates the session and its IVS program channel. The channel's stream key is not kept: the
 * go-live task reads it from IVS when it configures MediaLive. If storing the session fails, the
 * channel is deleted again, so a failed request leaves nothing behind.
 */
export async function createSession(caller: Caller, body: CreateSessionBody): Promise<Session> {
  const sessionId = randomUUID();
  let channel: { arn?: string; ingestEndpoint?: string; playbackUrl?: string } | undefined;
  try {
    const res = await ivsClient().send(
      new CreateChannelCommand({
        name: `castflow-program-${sessionId}`,
        latencyMode: "LOW",
        type: "STANDARD",
        tags: { [Tags.managedBy]: "castflow", [Tags.sessionId]: sessionId, [Tags.role]: "program" },
      }),
    );
    channel = res.channel;
  } catch (err) {
    const name = errorName(err);
    logger.warn("IVS CreateChannel failed", { sessionId, error: name });
    if (name === "ThrottlingException" || name === "ServiceQuotaExceededException") {
      throw new ApiError(503, "unavailable", "Streaming capacity is temporarily unavailable; retry shortly");
    }
    throw err;
  }
  if (!channel?.arn || !channel.ingestEndpoint || !channel.playbackUrl) {
    throw new Error("IVS CreateChannel returned an incomplete channel");
  }
  const now = nowIso();
  const session: Session = {
    sessionId,
    hostUserId: caller.userId,
    showId: body.showId,
    ...(body.episodeId ? { episodeId: body.episodeId } : {}),
    createdAt: now,
    updatedAt: now,
    ivs: {
      programChannelArn: channel.arn,
      programIngestEndpoint: channel.ingestEndpoint,
      programPlaybackUrl: channel.playbackUrl,
    },
    mediaLive: { inputIds: {}, rtmpEndpoints: {} },
    streaming: { isLive: false, status: "idle", attempt: 0 },
  };
  try {
    await putNewSession(session);
  } catch (err) {
    await ivsClient()
      .send(new DeleteChannelCommand({ arn: channel.arn }))
      .catch((cleanupErr: unknown) =>
        logger.error("Could not delete the program channel of a session that failed to save", {
          sessionId,
          channelArn: channel.arn,
          error: errorName(cleanupErr),
        }),
      );
    throw err;
  }
  return session;
}

/** The session, if the caller may see it: its host or an admin. Others get 404, not 403. */
export async function sessionFor(caller: Caller, sessionId: string): Promise<Session> {
  const session = Id.safeParse(sessionId).success ? await getSession(sessionId) : undefined;
  if (!session || (session.hostUserId !== caller.userId && !caller.isAdmin)) throw notFound("Session");
  return session;
}

export type LifecycleResponse = { status: 200 | 202; body: Record<string, unknown> };

/** POST /sessions/{id}/streaming/start */
export async function startStreaming(session: Session): Promise<LifecycleResponse> {
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
  const arn = config().GO_LIVE_STATE_MACHINE_ARN;
  if (!arn) throw new Error("GO_LIVE_STATE_MACHINE_ARN is not set");
  const started = await startNamedExecution(
    arn,
    executionNameBase.goLive(sessionId),
    streaming.attempt + 1,
    (n) => ({ sessionId, attempt: n }),
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
  const { streaming, sessionId } = session;
  if (streaming.status === "idle") return { status: 200, body: { sessionId, status: "idle" } };
  if (streaming.status === "starting") {
    throw conflict("The session is starting; stop it once it is live", { status: streaming.status });
  }
  if (streaming.status === "stopping" && (await isRunning(streaming.stopExecutionArn))) {
    return { status: 202, body: { sessionId, status: "stopping", executionArn: streaming.stopExecutionArn } };
  }
  const arn = config().STOP_STREAMING_STATE_MACHINE_ARN;
  if (!arn) throw new Error("STOP_STREAMING_STATE_MACHINE_ARN is not set");
  const started = await startNamedExecution(
    arn,
    executionNameBase.stopStreaming(sessionId),
    Math.max(streaming.attempt, 1),
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
