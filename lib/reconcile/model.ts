import * as z from "zod";
import type { PersistentChannel } from "#lib/channels/model.ts";
import type { Destination, Source } from "#lib/destinations/model.ts";
import type { Session } from "#lib/sessions/model.ts";

/**
 * What scheduled reconciliation finds (issue: "nothing billed without a consumer, nothing stuck"):
 * - `orphan`: a castflow-tagged resource whose record is gone, ended or deleted, and no execution
 *   that could still be creating it runs;
 * - `drift`: a record and AWS disagree (a session `live` whose channel is not RUNNING, ...);
 * - `stuck`: a record in a transitional state whose owning execution has closed;
 * - `idle-spend`: a RUNNING channel with no consumer, or whose live session's channel has
 *   received no input for `idleInputMinutes`; a session's stopped channel and push input kept
 *   longer than `idleResourceTtlHours` without a broadcast (they carry an idle charge); an ACTIVE
 *   flow none of whose users needs it;
 * - `claim-leak`: a persistent channel `LIVE` for a session that ended or does not exist.
 */
export const FINDING_CLASSES = ["orphan", "drift", "stuck", "idle-spend", "claim-leak"] as const;
export const FindingClass = z.enum(FINDING_CLASSES);
export type FindingClass = z.infer<typeof FindingClass>;

/**
 * How a finding is repaired: one idempotent step through the same AWS calls and lifecycles the
 * lifecycles use. A step that must wait for AWS (a channel stopping before it can be deleted) is
 * done by the next run: `stop-channel` now, `delete-channel` once it is IDLE.
 */
export const Repair = z.discriminatedUnion("action", [
  z.object({ action: z.literal("stop-channel"), channelId: z.string() }),
  z.object({ action: z.literal("delete-channel"), channelId: z.string() }),
  z.object({ action: z.literal("delete-input"), inputId: z.string() }),
  z.object({ action: z.literal("delete-ivs-channel"), channelArn: z.string() }),
  /** Start the lifecycle that settles what this closed execution left half-way (its `settledBy`). */
  z.object({ action: z.literal("settle"), executionArn: z.string() }),
  /** Start a lifecycle (by registry name) with this input: drift is corrected by the lifecycle that owns the record. */
  z.object({
    action: z.literal("run-lifecycle"),
    lifecycle: z.string(),
    input: z.record(z.string(), z.unknown()),
    /** The first execution number to try: past the record's counter (names stay reserved 90 days). */
    from: z.number().int().positive().optional(),
  }),
  /** Stop a MediaConnect flow nothing uses (StopFlow: STANDBY is free). */
  z.object({ action: z.literal("stop-flow"), flowArn: z.string() }),
  /** Delete an orphan MediaConnect flow once it is STANDBY. */
  z.object({ action: z.literal("delete-flow"), flowArn: z.string() }),
  /**
   * Release a source's flow for users that no longer need it, as destination-stop does
   * (release-flow): the last one out stops the flow.
   */
  z.object({
    action: z.literal("release-flow"),
    sourceId: z.string(),
    users: z.array(z.string()).min(1),
    /**
     * When each user acquired the flow, as the inventory read it: a user that acquired it again
     * since (a new start) is not released.
     */
    usersSince: z.record(z.string(), z.string()).optional(),
  }),
  /**
   * Take a session's stopped channel and push input off it, conditionally on the record being the
   * one the inventory saw (a go-live claiming the session meanwhile wins); they are then orphans.
   */
  z.object({
    action: z.literal("retire-session-resources"),
    sessionId: z.string(),
    version: z.number().int(),
  }),
  /** Release a persistent channel's claim held for a session that is gone. */
  z.object({ action: z.literal("release-claim"), channelId: z.string(), sessionId: z.string() }),
  /** Nothing castflow may do on its own (reported, and alarmed on). */
  z.object({ action: z.literal("none"), why: z.string() }),
]);
export type Repair = z.infer<typeof Repair>;

export const ResourceType = z.enum([
  "medialive-channel",
  "medialive-input",
  "ivs-channel",
  "mediaconnect-flow",
  "session",
  "destination",
  "source",
  "persistent-channel",
]);
export type ResourceType = z.infer<typeof ResourceType>;

export const Finding = z.object({
  /** Stable across runs for the same problem: `<class>:<resource type>:<resource id>`. */
  findingId: z.string(),
  class: FindingClass,
  resource: z.object({ type: ResourceType, id: z.string() }),
  /** One sentence a person can read: what is wrong and why castflow thinks so. */
  reason: z.string(),
  repair: Repair,
  /** What the resource costs per hour while the finding lasts (0 when it costs nothing). */
  costPerHourUsd: z.number().nonnegative(),
});
export type Finding = z.infer<typeof Finding>;

/** A MediaLive channel as ListChannels shows it. */
export interface InventoryChannel {
  readonly id: string;
  readonly arn: string;
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly inputIds: readonly string[];
  /** STANDARD (two pipelines) or SINGLE_PIPELINE. */
  readonly channelClass?: string;
}

/** A MediaLive input as ListInputs shows it. */
export interface InventoryInput {
  readonly id: string;
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly attachedChannels: readonly string[];
}

/** An IVS channel as ListChannels shows it. */
export interface InventoryIvsChannel {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A MediaConnect flow as ListFlows shows it. ListFlows has no tags: `tags` is read
 * (ListTagsForResource) only for a flow named like castflow's that no source record names.
 */
export interface InventoryFlow {
  readonly arn: string;
  readonly name: string;
  readonly status: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Everything one run looked at: castflow's records, AWS's resources, and the status of every
 * execution a record or a resource names (`RUNNING`, a closed status, or `UNKNOWN` when Step
 * Functions no longer knows it).
 */
export interface Inventory {
  readonly now: Date;
  readonly sessions: readonly Session[];
  readonly destinations: readonly Destination[];
  readonly sources: readonly Source[];
  readonly persistentChannels: readonly PersistentChannel[];
  readonly channels: readonly InventoryChannel[];
  readonly inputs: readonly InventoryInput[];
  readonly ivsChannels: readonly InventoryIvsChannel[];
  readonly flows: readonly InventoryFlow[];
  /** Execution ARN -> its status. */
  readonly executions: Readonly<Record<string, string>>;
  /** Execution name (the `castflow:created-by-execution` tag) -> its status. */
  readonly executionsByName: Readonly<Record<string, string>>;
  /**
   * RUNNING session channels that have received nothing from their input since the given time
   * (ISO), as their alerts say now (lib/sessions/input-signal.ts); absent: receiving, or not asked.
   */
  readonly noInputSince?: Readonly<Record<string, string>>;
}

export interface ReconcileSettings {
  /** The deployment's stage: only resources tagged `castflow:stage` with it are looked at. */
  readonly stage: string;
  /** Records changed more recently than this are left alone (a lifecycle may be about to act). */
  readonly graceSeconds: number;
  /** A live session whose channel has received nothing for this long is stopped (idle spend). */
  readonly idleInputMinutes: number;
  /** A session that has not streamed for this long loses its stopped channel and push input (idle spend). */
  readonly idleResourceTtlHours: number;
}
