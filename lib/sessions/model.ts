import * as z from "zod";
import { config } from "#lib/config.ts";
import { closeUsage, secondsBetween, UsageRun } from "#lib/usage.ts";

/** `streaming.status` of a session: the go-live and stop-streaming lifecycles move it. */
export const StreamingStatus = z.enum(["idle", "starting", "live", "stopping", "error"]);
export type StreamingStatus = z.infer<typeof StreamingStatus>;

export const RtmpEndpoint = z.object({ url: z.string(), streamName: z.string() });
export type RtmpEndpoint = z.infer<typeof RtmpEndpoint>;

/** The session's own lifecycle: `ending` while end-session runs, `ended` once it has cleaned up. */
export const SessionStatus = z.enum(["active", "ending", "ended"]);
export type SessionStatus = z.infer<typeof SessionStatus>;

const Failure = z.object({ code: z.string(), message: z.string() });

/** What end-session did for one part of the session: `{attempted, success, error}`. */
export const CleanupResult = z.object({
  attempted: z.boolean(),
  success: z.boolean(),
  error: Failure.nullable(),
});
export type CleanupResult = z.infer<typeof CleanupResult>;

/**
 * The session document, as stored (minus key attributes) and as the API returns it.
 * It never holds a stream key: tasks resolve keys from IVS when they need them.
 *
 * Its IVS side is one of two kinds. On a host's persistent channel (`ivs.persistentChannel*`),
 * the program goes to that channel, whose playback URL viewers keep across broadcasts, and a
 * temporary relay channel (`ivs.relayChannel*`) lives as long as the session. A legacy session
 * has a program channel of its own (`ivs.programChannel*`), deleted when the session ends.
 */
export const Session = z.object({
  sessionId: z.string(),
  hostUserId: z.string(),
  showId: z.string(),
  episodeId: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Optimistic lock: +1 on every write (records written before it existed read as 0). */
  version: z.number().int().nonnegative().default(0),
  /** Sessions stored before end-session existed have no status: they are active. */
  status: SessionStatus.default("active"),
  ivs: z.object({
    programChannelArn: z.string().optional(),
    programIngestEndpoint: z.string().optional(),
    programPlaybackUrl: z.string().optional(),
    persistentChannelId: z.string().optional(),
    persistentChannelArn: z.string().optional(),
    persistentPlaybackUrl: z.string().optional(),
    persistentIngestEndpoint: z.string().optional(),
    relayChannelArn: z.string().optional(),
    relayPlaybackUrl: z.string().optional(),
    relayIngestEndpoint: z.string().optional(),
  }),
  mediaLive: z.object({
    channelId: z.string().optional(),
    channelArn: z.string().optional(),
    inputIds: z.object({ host: z.string().optional() }),
    inputSecurityGroupId: z.string().optional(),
    /**
     * The channel and input reconcile took off the session after its idle TTL: no longer the
     * session's (go-live never adopts them again by tag), deleted by reconcile as orphans.
     */
    retired: z
      .object({ channelId: z.string().optional(), inputId: z.string().optional(), at: z.string() })
      .optional(),
    rtmpEndpoints: z.object({ host: z.array(RtmpEndpoint).optional() }),
  }),
  streaming: z.object({
    isLive: z.boolean(),
    status: StreamingStatus,
    /** Go-live attempts so far; execution names are `go-live-<sessionId>-<attempt>`. */
    attempt: z.number().int().nonnegative(),
    executionArn: z.string().optional(),
    stopExecutionArn: z.string().optional(),
    startedAt: z.string().optional(),
    stoppedAt: z.string().optional(),
    playbackUrl: z.string().optional(),
    /** Seconds streamed by completed broadcasts (added when a stop completes). */
    totalStreamedSeconds: z.number().nonnegative().default(0),
    /** The completed broadcasts of the cost report's window (see `withRun`). */
    runs: z.array(UsageRun).optional(),
    error: Failure.optional(),
  }),
  /**
   * The last execution number each lifecycle used for this session (`<lifecycle>-<id>-<n>`):
   * the next start begins past it, so names (reserved for 90 days) never run out.
   */
  executionCounters: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Set by `DELETE` when it starts end-session: start and stop answer 409 from then on. */
  endRequest: z.object({ executionArn: z.string(), requestedAt: z.string() }).optional(),
  end: z
    .object({
      executionArn: z.string().optional(),
      /** Streamed seconds frozen when end-session claimed the session (the figure added to channel stats). */
      streamedSeconds: z.number().nonnegative().optional(),
      /** Set in the same transaction that adds this session to its persistent channel's stats: counted once. */
      statsRecorded: z.boolean().optional(),
      endedAt: z.string().optional(),
      cleanupResults: z
        .object({
          mediaLive: CleanupResult,
          relayChannel: CleanupResult,
          persistentChannel: CleanupResult.optional(),
          programChannel: CleanupResult.optional(),
        })
        .optional(),
    })
    .optional(),
});
export type Session = z.infer<typeof Session>;
/** What callers build: fields with defaults may be left out. */
export type NewSession = z.input<typeof Session>;

/** The IVS channel a session's program output goes to: the host's persistent channel, else its own. */
export function programTarget(s: Session): { arn: string; playbackUrl: string } | undefined {
  if (s.ivs.persistentChannelArn && s.ivs.persistentPlaybackUrl) {
    return { arn: s.ivs.persistentChannelArn, playbackUrl: s.ivs.persistentPlaybackUrl };
  }
  if (s.ivs.programChannelArn && s.ivs.programPlaybackUrl) {
    return { arn: s.ivs.programChannelArn, playbackUrl: s.ivs.programPlaybackUrl };
  }
  return undefined;
}

export const sessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: "SESSION" });

/** Tags castflow puts on every AWS resource it creates, so resources can be found again. */
export const Tags = {
  managedBy: "castflow:managed-by",
  /** The deployment (stage) that made the resource: reconcile acts only on its own stage's. */
  stage: "castflow:stage",
  sessionId: "castflow:session-id",
  createdBy: "castflow:created-by-execution",
  role: "castflow:role",
} as const;

/** castflow's own tags on a resource it creates: managed by castflow, in this stage. */
export const managedTags = () => ({ [Tags.managedBy]: "castflow", [Tags.stage]: config().STAGE });

/** Tags that `managedTags` put: made by castflow, in `stage` (another stage's resources are never this one's business). */
export const isManagedIn = (tags: Readonly<Record<string, string>>, stage = config().STAGE) =>
  tags[Tags.managedBy] === "castflow" && tags[Tags.stage] === stage;

export const nowIso = () => new Date().toISOString();

/**
 * Seconds of the current broadcast not yet added to `streaming.totalStreamedSeconds`: from
 * `startedAt` to `now`, unless a stop already counted it (`stoppedAt` after `startedAt`). A
 * broadcast whose stop failed (session in `error` or `stopping`) is still counted.
 */
export function uncountedBroadcastSeconds(s: Session, now: Date): number {
  const { startedAt, stoppedAt } = s.streaming;
  if (!startedAt || (stoppedAt && stoppedAt >= startedAt)) return 0;
  return secondsBetween(startedAt, now);
}

/**
 * The update that ends the session's current broadcast at `now` (its channel stopped): stopped
 * then, its seconds added to the total and the run kept for the cost report; nothing when no
 * broadcast is open. For a write conditioned on the record as read (`s`): a broadcast already
 * counted is not counted again.
 */
export function closeBroadcast(s: Session, now: Date): Record<string, unknown> {
  const { startedAt } = s.streaming;
  if (!startedAt || uncountedBroadcastSeconds(s, now) === 0) return {};
  const closed = closeUsage(
    { runs: s.streaming.runs, totalSeconds: s.streaming.totalStreamedSeconds, updatedAt: s.updatedAt },
    startedAt,
    now,
  );
  return {
    "streaming.stoppedAt": now.toISOString(),
    "streaming.totalStreamedSeconds": closed.totalSeconds,
    "streaming.runs": closed.runs,
  };
}

/**
 * The table's global secondary indexes that list sessions newest first, keyed on attributes every
 * session record already has (so records written before the indexes existed are listed too). The
 * stack's table and the local one declare them from here.
 *
 * - `byHost` (`hostUserId`, `createdAt`): a host's sessions, one Query. Channel records carry
 *   `hostUserId` and `createdAt` as well (one per host), so reads keep only `sk = SESSION`;
 *   `status` is projected so a host's list filters on it without reading the records.
 * - `byStatus` (`status`, `createdAt`): every session of one status (the admins' list). Sources
 *   and destinations have a `status` and a `createdAt` too but never `active`, `ending` or
 *   `ended`; keys only, so their frequent writes cost the index little. A session stored before
 *   sessions had a `status` has none, and shows only in its host's list.
 */
export const SESSION_INDEXES = {
  byHost: {
    indexName: "byHost",
    partitionKey: "hostUserId",
    sortKey: "createdAt",
    nonKeyAttributes: ["status"],
  },
  byStatus: { indexName: "byStatus", partitionKey: "status", sortKey: "createdAt", nonKeyAttributes: [] },
} as const satisfies Record<
  string,
  {
    readonly indexName: string;
    readonly partitionKey: string;
    readonly sortKey: string;
    /** Projected besides the keys (none: KEYS_ONLY). */
    readonly nonKeyAttributes: readonly string[];
  }
>;
