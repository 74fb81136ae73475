import * as z from "zod";
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
    lastError: Failure.optional(),
  }),
  executionCounters: z.record(z.string(), z.number().int().nonnegative()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().optional(),
  version: z.number().int().nonnegative().default(0),
});
export type Destination = z.infer<typeof Destination>;
export type NewDestination = z.input<typeof Destination>;

export const DESTINATION_PARTITION = "DESTINATION";
export const destinationKey = (destinationId: string) => ({ pk: DESTINATION_PARTITION, sk: destinationId });

/** Tags on every AWS resource a destination or source owns (with `castflow:managed-by`). */
export const DestinationTags = {
  destinationId: "castflow:destination",
  sourceId: "castflow:source",
} as const;

/** Seconds of the current run not yet added to `metrics.runningSeconds`. */
export function uncountedRunningSeconds(d: Destination, now: Date): number {
  const since = d.metrics.runningSince;
  return since ? Math.max(0, now.getTime() - Date.parse(since)) / 1000 : 0;
}
