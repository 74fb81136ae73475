import * as z from "zod";

/** `streaming.status` of a session: the go-live and stop-streaming lifecycles move it. */
export const StreamingStatus = z.enum(["idle", "starting", "live", "stopping", "error"]);
export type StreamingStatus = z.infer<typeof StreamingStatus>;

export const RtmpEndpoint = z.object({ url: z.string(), streamName: z.string() });
export type RtmpEndpoint = z.infer<typeof RtmpEndpoint>;

/**
 * The session document, as stored (minus key attributes) and as the API returns it.
 * It never holds a stream key: tasks resolve keys from IVS when they need them.
 */
export const Session = z.object({
  sessionId: z.string(),
  hostUserId: z.string(),
  showId: z.string(),
  episodeId: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  ivs: z.object({
    programChannelArn: z.string(),
    programIngestEndpoint: z.string(),
    programPlaybackUrl: z.string(),
  }),
  mediaLive: z.object({
    channelId: z.string().optional(),
    channelArn: z.string().optional(),
    inputIds: z.object({ host: z.string().optional() }),
    inputSecurityGroupId: z.string().optional(),
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
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
});
export type Session = z.infer<typeof Session>;

export const sessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: "SESSION" });

/**
 * Execution names are `<lifecycle>-<sessionId>-<n>`: unique per lifecycle, session and attempt,
 * readable in the console, and the same for concurrent requests (so they share one execution).
 */
export const executionNameBase = {
  goLive: (sessionId: string) => `go-live-${sessionId}`,
  stopStreaming: (sessionId: string) => `stop-streaming-${sessionId}`,
} as const;

/** Tags castflow puts on every AWS resource it creates, so resources can be found again. */
export const Tags = {
  managedBy: "castflow:managed-by",
  sessionId: "castflow:session-id",
  createdBy: "castflow:created-by-execution",
  role: "castflow:role",
} as const;

export const nowIso = () => new Date().toISOString();
