import * as z from "zod";
import { closeUsage, secondsBetween, UsageRun } from "#lib/usage.ts";
import { PLATFORMS, PRESETS } from "./platforms.ts";

const Failure = z.object({ code: z.string(), message: z.string() });

// ---------- sources ----------

/** How an encoder reaches castflow: through a MediaConnect flow, or RTMP into a MediaLive push input. */
export const SOURCE_PROTOCOLS = [
  "srt-listener",
  "srt-caller",
  "rtp",
  "rtp-fec",
  "rist",
  "rtmp-push",
] as const;
export const SourceProtocol = z.enum(SOURCE_PROTOCOLS);
export type SourceProtocol = z.infer<typeof SourceProtocol>;

export const DeliveryMode = z.enum(["per-destination", "shared"]);
export type DeliveryMode = z.infer<typeof DeliveryMode>;

/**
 * A shared source's MediaLive side (shared-channel mode): one channel carries one RTMP output per
 * running destination of the source. `input` is the channel's input: an `rtmp-push` source's
 * RTMP_PUSH input (made with the source, with its own input security group, deleted with it) or
 * a MEDIACONNECT input on the source's flow (made when the channel is first needed, deleted with
 * the channel). `outputs` is what the channel is configured with now, one fingerprint per
 * destination (URL, key parameter and version, preset: never the key). `requested` counts the
 * changes the API asked for; `apply` is the shared-channel-apply execution that holds the
 * channel, which finishes only when no change arrived since it last planned.
 */
export const SharedChannelRecord = z.object({
  input: z
    .object({
      inputId: z.string(),
      inputArn: z.string().optional(),
      type: z.enum(["RTMP_PUSH", "MEDIACONNECT"]),
      inputSecurityGroupId: z.string().optional(),
      /** Where OBS pushes (RTMP_PUSH): server URL and stream name. */
      endpoints: z.array(z.object({ url: z.string(), streamName: z.string() })).default([]),
    })
    .optional(),
  channelId: z.string().optional(),
  channelArn: z.string().optional(),
  outputs: z.record(z.string(), z.string()).default({}),
  requested: z.number().int().nonnegative().default(0),
  apply: z.object({ executionArn: z.string(), startedAt: z.string() }).optional(),
  /** The apply that let go of the channel last (a re-run of its last step sees it already happened). */
  lastApply: z.object({ executionArn: z.string(), finishedAt: z.string() }).optional(),
});
export type SharedChannelRecord = z.infer<typeof SharedChannelRecord>;

/**
 * A source: where a show's encoder sends. A MediaConnect protocol has a flow (created STANDBY,
 * free until a destination needs it); `flowUsers` lists the destinations that need the flow now
 * (it is started for the first and stopped after the last). `flowPhase` is `stopping` from the
 * moment the last user decided to stop it, so a destination starting meanwhile waits for STANDBY
 * and starts the flow again instead of trusting an ACTIVE flow that is about to stop.
 */
export const Source = z.object({
  sourceId: z.string(),
  name: z.string(),
  protocol: SourceProtocol,
  deliveryMode: DeliveryMode,
  priority: z.number().int().min(1).max(3),
  backupOf: z.string().optional(),
  allowedCidr: z.string(),
  port: z.number().int().optional(),
  encryption: z.object({ algorithm: z.string(), secretArn: z.string() }).optional(),
  status: z.enum(["ready", "deleting"]),
  flow: z
    .object({
      flowArn: z.string(),
      sourceArn: z.string().optional(),
      /** This source's name inside the flow (what SourcePriority.PrimarySource names). */
      sourceName: z.string().optional(),
      ingestIp: z.string().optional(),
      ingestPort: z.number().optional(),
    })
    .optional(),
  /** A primary source's backup (the flow's second source, for source failover). */
  backupSourceId: z.string().optional(),
  /** Which of a primary's two sources the flow prefers (the manual override); default the primary. */
  preferredSource: z.enum(["primary", "backup"]).default("primary"),
  flowUsers: z.record(z.string(), z.string()).default({}),
  flowPhase: z.enum(["standby", "active", "stopping"]).default("standby"),
  flowPhaseAt: z.string().optional(),
  /** Who decided the current `flowPhase` (the flow user whose release decided to stop it). */
  flowPhaseBy: z.string().optional(),
  /**
   * The flow's billed time: since when it is ACTIVE (set when a destination starts it, cleared
   * when the last one stops it), seconds and runs already closed.
   */
  flowUsage: z
    .object({
      activeSince: z.string().optional(),
      activeSeconds: z.number().nonnegative().default(0),
      runs: z.array(UsageRun).optional(),
    })
    .default({ activeSeconds: 0 }),
  /** Shared-channel mode only (rtmp-push, or `deliveryMode: "shared"`): see `SharedChannelRecord`. */
  shared: SharedChannelRecord.optional(),
  executionCounters: z.record(z.string(), z.number().int().nonnegative()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int().nonnegative().default(0),
});
export type Source = z.infer<typeof Source>;

export const SOURCE_PARTITION = "SOURCE";
export const sourceKey = (sourceId: string) => ({ pk: SOURCE_PARTITION, sk: sourceId });

// ---------- destinations ----------

export const DestinationStatus = z.enum([
  "creating",
  "idle",
  "starting",
  "running",
  "restarting",
  "stopping",
  "updating",
  "deleting",
  "deleted",
  "error",
]);
export type DestinationStatus = z.infer<typeof DestinationStatus>;

/** Statuses an execution holds the destination in; every one of them ends in a settled status. */
export const TRANSITIONAL: readonly DestinationStatus[] = [
  "creating",
  "starting",
  "restarting",
  "stopping",
  "updating",
  "deleting",
];

export const isTransitional = (s: DestinationStatus) => TRANSITIONAL.includes(s);

export const DESTINATION_LIFECYCLES = [
  "destination-add",
  "destination-start",
  "destination-stop",
  "destination-update",
  "destination-delete",
] as const;
export const DestinationLifecycleName = z.enum(DESTINATION_LIFECYCLES);
export type DestinationLifecycleName = z.infer<typeof DestinationLifecycleName>;

/**
 * A restream destination. It never holds a stream key: `streamKeyParameter` (and
 * `backupStreamKeyParameter`) name SSM SecureString parameters, read only by the task that writes
 * the MediaLive channel. `operation` is the execution that holds a transitional status.
 */
export const Destination = z.object({
  destinationId: z.string(),
  ownerUserId: z.string(),
  name: z.string(),
  platform: z.enum(PLATFORMS),
  sourceId: z.string(),
  deliveryMode: DeliveryMode,
  rtmpUrl: z.string(),
  backupRtmpUrl: z.string().optional(),
  preset: z.enum(PRESETS),
  failoverEnabled: z.boolean(),
  activeUrl: z.enum(["primary", "backup"]),
  streamKeyParameter: z.string(),
  backupStreamKeyParameter: z.string().optional(),
  status: DestinationStatus,
  operation: z
    .object({ lifecycle: DestinationLifecycleName, executionArn: z.string(), startedAt: z.string() })
    .optional(),
  error: Failure.optional(),
  mediaLive: z.object({
    inputId: z.string().optional(),
    inputArn: z.string().optional(),
    channelId: z.string().optional(),
    channelArn: z.string().optional(),
  }),
  /** The flow output MediaLive made for the input (a MEDIACONNECT input's managed output). */
  flowOutputArn: z.string().optional(),
  metrics: z.object({
    starts: z.number().int().nonnegative(),
    failovers: z.number().int().nonnegative(),
    runningSeconds: z.number().nonnegative(),
    /** Since when the current run is billed (set on start, cleared on stop). */
    runningSince: z.string().optional(),
    /** The completed runs of the cost report's window (see `withRun`). */
    runs: z.array(UsageRun).optional(),
    lastError: Failure.optional(),
    /** Times a platform took the stream back on its own after refusing it (an output alert cleared while running). */
    reconnects: z.number().int().nonnegative().default(0),
    /** The output alert counted last, so a repeated event is not counted twice. */
    lastReconnectAlarmId: z.string().optional(),
  }),
  executionCounters: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /**
   * The last execution that settled the destination, and where: a settle re-run after its answer
   * was lost (when another lifecycle may already hold the destination) sees it already happened.
   */
  lastSettled: z.object({ executionArn: z.string(), status: z.string(), at: z.string() }).optional(),
  /**
   * Shared-channel mode: what the destination wants from its source's shared channel, set by the
   * API in the same write that moves its status (starting, stopping, updating, deleting), and the
   * request that set it (`requestId`): shared-channel-apply settles a destination only for the
   * request it planned with.
   */
  wanted: z.enum(["running", "idle", "deleted"]).optional(),
  requestId: z.string().optional(),
  /** SSM versions of the stream key parameters the record's settings go with (shared mode's fingerprint). */
  streamKeyVersion: z.number().int().nonnegative().optional(),
  backupStreamKeyVersion: z.number().int().nonnegative().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().optional(),
  version: z.number().int().nonnegative().default(0),
});
export type Destination = z.infer<typeof Destination>;
export type NewDestination = z.input<typeof Destination>;

export const DESTINATION_PARTITION = "DESTINATION";
export const destinationKey = (destinationId: string) => ({ pk: DESTINATION_PARTITION, sk: destinationId });

/** The prefix of every flow a source creates; the source's id follows. */
export const FLOW_NAME_PREFIX = "castflow-source-";
/** The name of the flow a (primary) source creates: a backup source joins its primary's flow. */
export const flowName = (sourceId: string) => `${FLOW_NAME_PREFIX}${sourceId}`;
/** The source a flow is named for (`flowName`), or undefined for a flow castflow did not name. */
export const sourceIdOfFlow = (name: string | undefined) =>
  name?.startsWith(FLOW_NAME_PREFIX) ? name.slice(FLOW_NAME_PREFIX.length) : undefined;

/** Tags on every AWS resource a destination or source owns (with `castflow:managed-by`). */
export const DestinationTags = {
  destinationId: "castflow:destination",
  sourceId: "castflow:source",
} as const;

/** Seconds of the current run not yet added to `metrics.runningSeconds`. */
export function uncountedRunningSeconds(d: Destination, now: Date): number {
  const since = d.metrics.runningSince;
  return since ? secondsBetween(since, now) : 0;
}

/**
 * The update that ends the destination's current run at `now`: its seconds added to the total,
 * the run kept for the cost report. Nothing when no run is open. For a write conditioned on the
 * record as read (`d`), so a retried write cannot count the run twice.
 */
export function closeRun(d: Destination, now: Date): { set: Record<string, unknown>; remove: string[] } {
  const since = d.metrics.runningSince;
  if (!since) return { set: {}, remove: [] };
  const closed = closeUsage(
    { runs: d.metrics.runs, totalSeconds: d.metrics.runningSeconds, updatedAt: d.updatedAt },
    since,
    now,
  );
  return {
    set: { "metrics.runningSeconds": closed.totalSeconds, "metrics.runs": closed.runs },
    remove: ["metrics.runningSince"],
  };
}
