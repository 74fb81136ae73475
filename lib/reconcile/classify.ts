import type * as z from "zod";
import type { IvsChannelRole } from "#lib/aws/ivs.ts";
import { isGone } from "#lib/aws/medialive.ts";
import type { PersistentChannel } from "#lib/channels/model.ts";
import {
  type Destination,
  DestinationTags,
  type Source,
  sourceIdOfFlow,
  TRANSITIONAL,
} from "#lib/destinations/model.ts";
import { RATES } from "#lib/destinations/rates.ts";
import { SHARED_FLOW_USER, SHARED_ROLE, wantsChannel } from "#lib/destinations/shared-plan.ts";
import { isSharedSource } from "#lib/destinations/shared-store.ts";
import { isManagedIn, type Session, Tags } from "#lib/sessions/model.ts";
import { stopStreaming } from "#state-machines/sessions/stop-streaming/lifecycle.ts";
import {
  FINDING_CLASSES,
  type Finding,
  type FindingClass,
  type Inventory,
  type InventoryChannel,
  type InventoryFlow,
  type InventoryInput,
  type InventoryIvsChannel,
  type ReconcileSettings,
  type Repair,
  type ResourceType,
} from "./model.ts";

/**
 * Scheduled reconciliation's classifier, pure: from one run's inventory (records, AWS resources,
 * execution statuses) to the findings, each with the one repair step that fixes it. Nothing here
 * calls AWS. Guards, applied everywhere: resources MediaLive is deleting are skipped; nothing is
 * said about a resource whose creating execution (`castflow:created-by-execution`) still runs, nor
 * about a record (or its resources) changed within the grace period; an execution whose status is
 * missing or UNKNOWN counts as closed.
 */

// ---------- inventory helpers ----------

/** MediaLive states of a resource on its way out (or gone): nothing to find about it. */
/** Channel states an orphan is deleted from; other non-RUNNING states are waited out. */
/** States in which MediaLive deletes a channel (the orphan repair and its confirmation share them). */
export const DELETABLE: ReadonlySet<string> = new Set(["IDLE", "CREATE_FAILED", "UPDATE_FAILED"]);
/** IVS roles that live and die with a session (a persistent channel outlives every session). */
const SESSION_IVS_ROLES: readonly IvsChannelRole[] = ["relay", "program"];

type Tagged = { readonly tags: Readonly<Record<string, string>> };
type Dated = { readonly updatedAt: string };

interface Ctx {
  readonly inv: Inventory;
  /** Records updated after this instant (ms) are left alone. */
  readonly cutoff: number;
  /** The stage whose resources this run looks after. */
  readonly stage: string;
  readonly sessions: ReadonlyMap<string, Session>;
  readonly destinations: ReadonlyMap<string, Destination>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly channels: ReadonlyMap<string, InventoryChannel>;
  readonly inputs: ReadonlyMap<string, InventoryInput>;
  /** sourceId -> its destinations (deleted ones included). */
  readonly bySource: ReadonlyMap<string, readonly Destination[]>;
  /** Sessions a MediaLive channel (not deleting) is still tagged with. */
  readonly sessionsWithChannel: ReadonlySet<string>;
  /** Flow ARN -> the source whose record holds its users (a backup source shares its primary's flow). */
  readonly flowOwners: ReadonlyMap<string, Source>;
  readonly idleInputMs: number;
  readonly idleResourceTtlMs: number;
}

const byKey = <T>(items: readonly T[], key: (t: T) => string) => new Map(items.map((t) => [key(t), t]));

function groupBySource(destinations: readonly Destination[]): Map<string, Destination[]> {
  const groups = new Map<string, Destination[]>();
  for (const d of destinations) groups.set(d.sourceId, [...(groups.get(d.sourceId) ?? []), d]);
  return groups;
}

function context(inv: Inventory, settings: ReconcileSettings): Ctx {
  const live = inv.channels.filter((c) => !isGone(c.state));
  return {
    inv,
    cutoff: inv.now.getTime() - settings.graceSeconds * 1000,
    stage: settings.stage,
    sessions: byKey(inv.sessions, (s) => s.sessionId),
    destinations: byKey(inv.destinations, (d) => d.destinationId),
    sources: byKey(inv.sources, (s) => s.sourceId),
    channels: byKey(inv.channels, (c) => c.id),
    inputs: byKey(inv.inputs, (i) => i.id),
    bySource: groupBySource(inv.destinations),
    sessionsWithChannel: new Set(live.flatMap((c) => c.tags[Tags.sessionId] ?? [])),
    flowOwners: byKey(
      inv.sources.filter((s) => s.flow?.flowArn && !s.backupOf),
      (s) => s.flow?.flowArn ?? "",
    ),
    idleInputMs: settings.idleInputMinutes * 60_000,
    idleResourceTtlMs: settings.idleResourceTtlHours * 3_600_000,
  };
}

/** Changed within the grace period: a lifecycle may be about to act on it. */
const fresh = (ctx: Ctx, record: Dated | undefined) =>
  record !== undefined && Date.parse(record.updatedAt) > ctx.cutoff;

const isRunning = (status: string | undefined) => status === "RUNNING";
const executionRuns = (ctx: Ctx, arn: string) => isRunning(ctx.inv.executions[arn]);

/** The execution that created the resource still runs (it may be about to record it). */
const creatorRuns = (ctx: Ctx, r: Tagged) => {
  const name = r.tags[Tags.createdBy];
  return name !== undefined && isRunning(ctx.inv.executionsByName[name]);
};

/** A shared-channel-mode destination: its source's shared channel carries it. */
const sharedMode = (d: Destination, src: Source | undefined) =>
  d.deliveryMode === "shared" || (src !== undefined && isSharedSource(src));

/** As the planner reads it (`toPlanDestination`): a destination without `wanted` wants what it is. */
const wantsSharedChannel = (d: Destination) => d.status !== "deleted" && wantsChannel(d);

const at = (when: string | undefined) => (when ? ` at ${when}` : "");

function finding(
  cls: FindingClass,
  resource: { type: ResourceType; id: string },
  reason: string,
  repair: Repair,
  costPerHourUsd = 0,
): Finding {
  return {
    findingId: `${cls}:${resource.type}:${resource.id}`,
    class: cls,
    resource,
    reason,
    repair,
    costPerHourUsd,
  };
}

// ---------- owners of MediaLive resources ----------

type Owner =
  | { readonly kind: "session"; readonly id: string; readonly record: Session | undefined }
  | { readonly kind: "destination"; readonly id: string; readonly record: Destination | undefined }
  | { readonly kind: "source"; readonly id: string; readonly record: Source | undefined };

/** The record a MediaLive resource belongs to, by its tags; a source owns a channel only as its shared channel. */
function ownerOf(ctx: Ctx, r: Tagged, kind: "channel" | "input"): Owner | undefined {
  const sessionId = r.tags[Tags.sessionId];
  if (sessionId) return { kind: "session", id: sessionId, record: ctx.sessions.get(sessionId) };
  const destinationId = r.tags[DestinationTags.destinationId];
  if (destinationId)
    return { kind: "destination", id: destinationId, record: ctx.destinations.get(destinationId) };
  const sourceId = r.tags[DestinationTags.sourceId];
  if (sourceId && (kind === "input" || r.tags[Tags.role] === SHARED_ROLE.channel))
    return { kind: "source", id: sourceId, record: ctx.sources.get(sourceId) };
  return undefined;
}

/** The owner (a shared channel's: with its source's destinations) changed within the grace period. */
function ownerFresh(ctx: Ctx, owner: Owner): boolean {
  if (fresh(ctx, owner.record)) return true;
  return owner.kind === "source" && (ctx.bySource.get(owner.id) ?? []).some((d) => fresh(ctx, d));
}

/** `session abc, which ended at ...`: why the owner no longer owns anything; undefined while it does. */
function ownerGone(owner: Owner): string | undefined {
  const label = `${owner.kind} ${owner.id}`;
  if (!owner.record) return `${label}, which does not exist`;
  if (owner.kind === "session" && owner.record?.status === "ended")
    return `${label}, which ended${at(owner.record.end?.endedAt)}`;
  if (owner.kind === "destination" && owner.record?.status === "deleted")
    return `${label}, which was deleted${at(owner.record.deletedAt)}`;
  return undefined;
}

/** The channel or input the owner's record names. */
function namedBy(owner: Owner, kind: "channel" | "input"): string | undefined {
  switch (owner.kind) {
    case "session":
      return kind === "channel" ? owner.record?.mediaLive.channelId : owner.record?.mediaLive.inputIds.host;
    case "destination":
      return kind === "channel" ? owner.record?.mediaLive.channelId : owner.record?.mediaLive.inputId;
    case "source":
      return kind === "channel" ? owner.record?.shared?.channelId : owner.record?.shared?.input?.inputId;
  }
}

/** Why the resource is an orphan (its owner is gone, or names another one); undefined when it is not. */
function orphanWhy(owner: Owner, kind: "channel" | "input", id: string): string | undefined {
  const gone = ownerGone(owner);
  if (gone) return gone;
  const named = namedBy(owner, kind);
  if (named === id) return undefined;
  return `${owner.kind} ${owner.id}, whose record names ${named ? `${kind} ${named}` : `no ${kind}`}`;
}

// ---------- MediaLive channels ----------

const billed = (c: InventoryChannel) => (c.state === "RUNNING" ? "RUNNING (billed)" : c.state);
const channelCost = (c: InventoryChannel) => (c.state === "RUNNING" ? RATES.mediaLiveChannelPerHour : 0);

/** Stop a running orphan now, delete it once at rest; a channel in motion is left to the next run. */
function orphanRepair(c: InventoryChannel): Repair | undefined {
  if (c.state === "RUNNING") return { action: "stop-channel", channelId: c.id };
  if (DELETABLE.has(c.state)) return { action: "delete-channel", channelId: c.id };
  return undefined;
}

function orphanChannel(c: InventoryChannel, why: string): Finding[] {
  const repair = orphanRepair(c);
  if (!repair) return [];
  const reason = `MediaLive channel ${c.id} belongs to ${why}; it is ${billed(c)}`;
  return [finding("orphan", { type: "medialive-channel", id: c.id }, reason, repair, channelCost(c))];
}

/** Why the owner of a RUNNING channel does not need it; undefined when it does. */
function idleWhy(ctx: Ctx, owner: Owner): string | undefined {
  switch (owner.kind) {
    case "session": {
      const s = owner.record;
      const status = s?.streaming.status;
      return s?.status === "active" && (status === "idle" || status === "error")
        ? `session ${owner.id} is not streaming (streaming ${status})`
        : undefined;
    }
    case "destination": {
      const status = owner.record?.status;
      return status === "idle" || status === "error" ? `destination ${owner.id} is ${status}` : undefined;
    }
    case "source": {
      if (owner.record?.shared?.apply) return undefined;
      const wanted = (ctx.bySource.get(owner.id) ?? []).some(wantsSharedChannel);
      return wanted
        ? undefined
        : `no destination of source ${owner.id} wants it and no shared-channel-apply holds it`;
    }
  }
}

function channelFindings(ctx: Ctx, c: InventoryChannel): Finding[] {
  if (isGone(c.state) || !isManagedIn(c.tags, ctx.stage) || creatorRuns(ctx, c)) return [];
  const owner = ownerOf(ctx, c, "channel");
  if (!owner || ownerFresh(ctx, owner)) return [];
  const orphan = orphanWhy(owner, "channel", c.id);
  if (orphan) return orphanChannel(c, orphan);
  if (c.state !== "RUNNING") return [];
  const idle = idleWhy(ctx, owner);
  if (!idle) return liveWithoutInput(ctx, owner, c);
  const reason = `MediaLive channel ${c.id} is RUNNING (billed) but ${idle}`;
  const repair: Repair = { action: "stop-channel", channelId: c.id };
  return [finding("idle-spend", { type: "medialive-channel", id: c.id }, reason, repair, channelCost(c))];
}

const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 100) / 100} h`;
const minutes = (ms: number) => `${Math.round((ms / 60_000) * 100) / 100} min`;

/**
 * A live session whose channel has received nothing from the host's encoder for longer than
 * `idleInputMinutes` (every pipeline's "RTMP Has No Audio/Video" alert SET): stop-streaming ends
 * the broadcast, as if the host had stopped it. Nothing is deleted: going live again works.
 */
function liveWithoutInput(ctx: Ctx, owner: Owner, c: InventoryChannel): Finding[] {
  if (owner.kind !== "session") return [];
  const s = owner.record;
  const since = ctx.inv.noInputSince?.[c.id];
  if (s?.status !== "active" || s.streaming.status !== "live" || !since) return [];
  if (Date.parse(since) > ctx.inv.now.getTime() - ctx.idleInputMs) return [];
  const repair = stopStreamingRepair(s);
  const reason = `Session ${s.sessionId} is live but its channel ${c.id} has received nothing from the host's encoder since ${since} (more than ${minutes(ctx.idleInputMs)}); it is RUNNING (billed)`;
  return [finding("idle-spend", { type: "medialive-channel", id: c.id }, reason, repair, channelCost(c))];
}

/**
 * A session that has kept its stopped channel and push input longer than `idleResourceTtlHours`
 * since it last streamed or changed: both carry an idle charge. They are retired (taken off the
 * record, conditionally on its version: a go-live claiming the session meanwhile wins), then
 * deleted as orphans by the runs after; the session's next go-live makes new ones (a new input
 * has a new ingest URL, recorded on the session by ensure-input). Only sessions' resources: a
 * destination keeps its channel for a fast restart.
 */
function keptStopped(ctx: Ctx, s: Session): Finding[] {
  if (s.status !== "active" || !["idle", "error"].includes(s.streaming.status)) return [];
  // The later of the last stop and the last change: a go-live that failed a moment ago (it
  // leaves stoppedAt as it was) is a session in use.
  const stopped = s.streaming.stoppedAt;
  const since = stopped && stopped > s.updatedAt ? stopped : s.updatedAt;
  if (Date.parse(since) > ctx.inv.now.getTime() - ctx.idleResourceTtlMs) return [];
  const channel = presentChannel(ctx, s.mediaLive.channelId);
  if (channel && !DELETABLE.has(channel.state)) return [];
  const inputId = s.mediaLive.inputIds.host;
  const input = inputId ? ctx.inputs.get(inputId) : undefined;
  const kept = [
    ...(channel ? [`stopped channel ${channel.id}`] : []),
    ...(input && !isGone(input.state) ? [`push input ${input.id}`] : []),
  ];
  if (kept.length === 0) return [];
  const reason = `Session ${s.sessionId} has not streamed since ${since} (more than the ${hours(ctx.idleResourceTtlMs)} idle TTL) and keeps its ${kept.join(" and ")}, which carry an idle charge; they are retired and deleted, and its next go-live makes new ones`;
  const cost =
    (channel ? RATES.mediaLiveIdleChannelPerHour : 0) + (input ? RATES.mediaLiveIdlePushInputPerHour : 0);
  const repair: Repair = { action: "retire-session-resources", sessionId: s.sessionId, version: s.version };
  return [finding("idle-spend", { type: "session", id: s.sessionId }, reason, repair, cost)];
}

/** The channel a record names, unless it is absent or deleting. */
function presentChannel(ctx: Ctx, id: string | undefined): InventoryChannel | undefined {
  const c = id ? ctx.channels.get(id) : undefined;
  return c && !isGone(c.state) ? c : undefined;
}

/**
 * What is wrong with the channel of a record that says it is live (`its channel 1 is IDLE`);
 * undefined when the channel is not IDLE (running, or on its way) or its creating execution runs.
 */
function deadChannel(ctx: Ctx, id: string | undefined, its: { channel: string; none: string }) {
  const c = presentChannel(ctx, id);
  if (c) return c.state === "IDLE" && !creatorRuns(ctx, c) ? `${its.channel} ${c.id} is IDLE` : undefined;
  return id ? `${its.channel} ${id} does not exist` : its.none;
}

// ---------- MediaLive inputs ----------

function inputFindings(ctx: Ctx, input: InventoryInput): Finding[] {
  if (isGone(input.state) || input.attachedChannels.length > 0) return [];
  if (!isManagedIn(input.tags, ctx.stage) || creatorRuns(ctx, input)) return [];
  const owner = ownerOf(ctx, input, "input");
  if (!owner || ownerFresh(ctx, owner)) return [];
  const why = orphanWhy(owner, "input", input.id);
  if (!why) return [];
  const reason = `MediaLive input ${input.id} is attached to no channel and belongs to ${why}`;
  const repair: Repair = { action: "delete-input", inputId: input.id };
  return [finding("orphan", { type: "medialive-input", id: input.id }, reason, repair)];
}

// ---------- IVS channels ----------

function ivsFindings(ctx: Ctx, c: InventoryIvsChannel): Finding[] {
  const role = c.tags[Tags.role] as IvsChannelRole | undefined;
  const sessionId = c.tags[Tags.sessionId];
  if (!role || !SESSION_IVS_ROLES.includes(role) || !sessionId) return [];
  if (!isManagedIn(c.tags, ctx.stage) || creatorRuns(ctx, c)) return [];
  const owner: Owner = { kind: "session", id: sessionId, record: ctx.sessions.get(sessionId) };
  const why = ownerFresh(ctx, owner) ? undefined : ownerGone(owner);
  if (!why) return [];
  const reason = `IVS ${role} channel ${c.arn} belongs to ${why}`;
  const repair: Repair = { action: "delete-ivs-channel", channelArn: c.arn };
  return [finding("orphan", { type: "ivs-channel", id: c.arn }, reason, repair)];
}

// ---------- MediaConnect flows ----------

const flowLabel = (f: InventoryFlow) => `MediaConnect flow ${f.name}`;

/** Whether a flow user still needs the flow: a destination running, on its way, or just changed; the shared channel while wanted. */
function userNeedsFlow(ctx: Ctx, src: Source, user: string): boolean {
  if (user === SHARED_FLOW_USER)
    return src.shared?.apply !== undefined || (ctx.bySource.get(src.sourceId) ?? []).some(wantsSharedChannel);
  const d = ctx.destinations.get(user);
  return d !== undefined && (d.status === "running" || TRANSITIONAL.includes(d.status) || fresh(ctx, d));
}

/**
 * An ACTIVE flow (billed) none of whose users needs it: their lifecycles died between using it and
 * releasing it, or someone started it by hand. The release goes through release-flow, as a
 * destination-stop does: the last user out stops the flow. A flow started by hand (no user, the
 * record says STANDBY) is stopped.
 */
function idleFlow(ctx: Ctx, src: Source, f: InventoryFlow): Finding[] {
  if (f.status !== "ACTIVE" || src.status !== "ready" || fresh(ctx, src)) return [];
  const users = Object.keys(src.flowUsers);
  if (users.some((u) => userNeedsFlow(ctx, src, u))) return [];
  // Whatever `flowUsers` says: a destination of the source running, on its way or just changed
  // may be about to acquire the flow.
  const mayUse = (d: Destination) =>
    d.status === "running" || TRANSITIONAL.includes(d.status) || fresh(ctx, d);
  if ((ctx.bySource.get(src.sourceId) ?? []).some(mayUse)) return [];
  const who = users.length > 0 ? `its users (${users.join(", ")}) no longer need it` : "nothing uses it";
  const reason = `${flowLabel(f)} of source ${src.sourceId} is ACTIVE (billed) but ${who}`;
  const resource = { type: "mediaconnect-flow", id: f.arn } as const;
  if (users.length === 0 && src.flowPhase === "standby") {
    // Started by hand: a StopFlow here would not be serialized with a destination acquiring the
    // flow (release-flow decides through flowPhase, which says STANDBY), so it is reported.
    const why = `Stop flow ${f.name} in the MediaConnect console if nobody started it on purpose: castflow's records say it is in STANDBY.`;
    return [finding("idle-spend", resource, reason, { action: "none", why }, RATES.mediaConnectFlowPerHour)];
  }
  // A fresh user id when nobody is listed: release-flow's "my own earlier decision" path must not
  // match a stale decision of some destination.
  const repair: Repair = {
    action: "release-flow",
    sourceId: src.sourceId,
    users: users.length > 0 ? users : ["reconcile"],
    ...(users.length > 0 ? { usersSince: src.flowUsers } : {}),
  };
  return [finding("idle-spend", resource, reason, repair, RATES.mediaConnectFlowPerHour)];
}

/** A tagged flow of this stage whose source is gone or names another flow: stopped, then deleted once STANDBY. */
function orphanFlow(ctx: Ctx, f: InventoryFlow): Finding[] {
  if (!f.tags || !isManagedIn(f.tags, ctx.stage)) return [];
  const sourceId = f.tags[DestinationTags.sourceId] ?? sourceIdOfFlow(f.name) ?? "";
  const src = ctx.sources.get(sourceId);
  if (fresh(ctx, src)) return [];
  const why = src
    ? `source ${sourceId}, whose record names ${src.flow?.flowArn ? `flow ${src.flow.flowArn}` : "no flow"}`
    : `source ${sourceId}, which does not exist`;
  const repair: Repair | undefined =
    f.status === "ACTIVE"
      ? { action: "stop-flow", flowArn: f.arn }
      : f.status === "STANDBY"
        ? { action: "delete-flow", flowArn: f.arn }
        : undefined;
  if (!repair) return [];
  const reason = `${flowLabel(f)} belongs to ${why}; it is ${f.status === "ACTIVE" ? "ACTIVE (billed)" : f.status}`;
  const cost = f.status === "ACTIVE" ? RATES.mediaConnectFlowPerHour : 0;
  return [finding("orphan", { type: "mediaconnect-flow", id: f.arn }, reason, repair, cost)];
}

function flowFindings(ctx: Ctx, f: InventoryFlow): Finding[] {
  if (f.status === "DELETING") return [];
  const owner = ctx.flowOwners.get(f.arn);
  return owner ? idleFlow(ctx, owner, f) : orphanFlow(ctx, f);
}

// ---------- stuck records ----------

/** A transitional state, the execution that holds it (if the record names one) and what a person can do. */
interface Hold {
  readonly what: string;
  readonly executionArn: string | undefined;
  readonly retry: string;
}

function sessionHold(s: Session): Hold | undefined {
  const id = s.sessionId;
  if (s.status === "ending")
    return {
      what: "ending",
      executionArn: s.end?.executionArn ?? s.endRequest?.executionArn,
      retry: `End the session again (DELETE /sessions/${id}): end-session takes it over.`,
    };
  if (s.streaming.status === "starting")
    return {
      what: "starting to stream",
      executionArn: s.streaming.executionArn,
      retry: `Go live again (POST /sessions/${id}/streaming/start) or stop streaming: go-live takes over a start whose execution is gone.`,
    };
  if (s.streaming.status === "stopping")
    return {
      what: "stopping streaming",
      executionArn: s.streaming.stopExecutionArn,
      retry: `Stop streaming again (POST /sessions/${id}/streaming/stop): stop-streaming takes it over.`,
    };
  return undefined;
}

function destinationHold(ctx: Ctx, d: Destination): Hold | undefined {
  if (!TRANSITIONAL.includes(d.status)) return undefined;
  const retry = `Ask for the change again through the API (start, stop, update or delete destination ${d.destinationId}): a status whose execution is gone is taken over.`;
  if (d.operation) return { what: d.status, executionArn: d.operation.executionArn, retry };
  // Shared mode: the source's shared-channel-apply holds it; the source's own finding covers a closed one.
  const src = ctx.sources.get(d.sourceId);
  if (sharedMode(d, src) && src?.shared?.apply) return undefined;
  return { what: d.status, executionArn: undefined, retry };
}

function sourceHold(src: Source): Hold | undefined {
  const apply = src.shared?.apply;
  if (apply) return { what: "held by shared-channel-apply", executionArn: apply.executionArn, retry: "" };
  if (src.status === "deleting")
    return {
      what: "deleting",
      executionArn: undefined,
      retry: `Delete the source again (DELETE /admin/sources/${src.sourceId}) to finish, or find why it stopped.`,
    };
  return undefined;
}

function stuck(ctx: Ctx, resource: { type: ResourceType; id: string }, label: string, hold: Hold): Finding[] {
  const arn = hold.executionArn;
  if (arn && executionRuns(ctx, arn)) return [];
  if (!arn) {
    const reason = `${label} is ${hold.what} but names no execution that holds it`;
    return [finding("stuck", resource, reason, { action: "none", why: hold.retry })];
  }
  const status = ctx.inv.executions[arn];
  if (!status || status === "UNKNOWN") {
    // Never started (a request died between naming it and starting it) or too old to describe:
    // there is no input to settle with; the next request takes the record over.
    const reason = `${label} is ${hold.what} but its execution ${arn} is unknown to Step Functions`;
    return [
      finding("stuck", resource, reason, { action: "none", why: hold.retry || "Ask for the change again." }),
    ];
  }
  const reason = `${label} is ${hold.what} but its execution ${arn} has closed (${status})`;
  return [finding("stuck", resource, reason, { action: "settle", executionArn: arn })];
}

// ---------- records ----------

/** A live session's broadcast ended by the lifecycle a host's stop runs. */
function stopStreamingRepair(s: Session): Repair {
  const input: z.input<typeof stopStreaming.input> = {
    sessionId: s.sessionId,
    attempt: Math.max(1, s.streaming.attempt),
  };
  const from = (s.executionCounters?.[stopStreaming.name] ?? 0) + 1;
  return { action: "run-lifecycle", lifecycle: stopStreaming.name, input, from };
}

function sessionFindings(ctx: Ctx, s: Session): Finding[] {
  if (fresh(ctx, s)) return [];
  const resource = { type: "session", id: s.sessionId } as const;
  const hold = sessionHold(s);
  return [
    ...(hold ? stuck(ctx, resource, `Session ${s.sessionId}`, hold) : []),
    ...sessionDrift(ctx, s),
    ...keptStopped(ctx, s),
  ];
}

/** A session live on a channel that is not running: stop-streaming puts record and AWS back in step. */
function sessionDrift(ctx: Ctx, s: Session): Finding[] {
  if (s.status !== "active" || s.streaming.status !== "live") return [];
  const dead = deadChannel(ctx, s.mediaLive.channelId, {
    channel: "its channel",
    none: "its record names no MediaLive channel",
  });
  if (!dead) return [];
  const repair = stopStreamingRepair(s);
  const reason = `Session ${s.sessionId} is live but ${dead}`;
  return [finding("drift", { type: "session", id: s.sessionId }, reason, repair)];
}

function destinationFindings(ctx: Ctx, d: Destination): Finding[] {
  if (fresh(ctx, d)) return [];
  const resource = { type: "destination", id: d.destinationId } as const;
  const hold = destinationHold(ctx, d);
  return [
    ...(hold ? stuck(ctx, resource, `Destination ${d.destinationId}`, hold) : []),
    ...destinationDrift(ctx, d),
  ];
}

/** A destination running on a channel that is not: only the API may start its lifecycles (its hold). */
function destinationDrift(ctx: Ctx, d: Destination): Finding[] {
  if (d.status !== "running") return [];
  const src = ctx.sources.get(d.sourceId);
  const shared = sharedMode(d, src);
  if (shared && (fresh(ctx, src) || src?.shared?.apply)) return [];
  const dead = shared
    ? deadChannel(ctx, src?.shared?.channelId, {
        channel: `its source's shared channel`,
        none: src
          ? `its source ${d.sourceId} names no shared channel`
          : `its source ${d.sourceId} does not exist`,
      })
    : deadChannel(ctx, d.mediaLive.channelId, {
        channel: "its channel",
        none: "its record names no MediaLive channel",
      });
  if (!dead) return [];
  const reason = `Destination ${d.destinationId} is running but ${dead}`;
  const why = `Stop destination ${d.destinationId} (POST /destinations/${d.destinationId}/stop) or start it again: castflow starts destination lifecycles only through the API, which holds the destination.`;
  return [finding("drift", { type: "destination", id: d.destinationId }, reason, { action: "none", why })];
}

function sourceFindings(ctx: Ctx, src: Source): Finding[] {
  if (fresh(ctx, src)) return [];
  const hold = sourceHold(src);
  if (!hold) return [];
  return stuck(ctx, { type: "source", id: src.sourceId }, `Source ${src.sourceId}`, hold);
}

/**
 * A persistent channel claimed for a session that is gone. An ended session's claim is kept while
 * a MediaLive channel of that session still exists (it may still push to the persistent channel):
 * the orphan finding removes that channel first.
 */
function claimLeak(ctx: Ctx, pc: PersistentChannel): Finding[] {
  const sessionId = pc.currentSessionId;
  if (pc.state !== "LIVE" || !sessionId || fresh(ctx, pc)) return [];
  const owner: Owner = { kind: "session", id: sessionId, record: ctx.sessions.get(sessionId) };
  if (ownerFresh(ctx, owner) || ctx.sessionsWithChannel.has(sessionId)) return [];
  const why = ownerGone(owner);
  if (!why) return [];
  const reason = `Persistent channel ${pc.channelId} is LIVE for ${why}`;
  const repair: Repair = { action: "release-claim", channelId: pc.channelId, sessionId };
  return [finding("claim-leak", { type: "persistent-channel", id: pc.channelId }, reason, repair)];
}

// ---------- entry points ----------

const classRank = (c: FindingClass) => FINDING_CLASSES.indexOf(c);

function byClassThenId(a: Finding, b: Finding): number {
  const rank = classRank(a.class) - classRank(b.class);
  if (rank !== 0) return rank;
  return a.findingId < b.findingId ? -1 : a.findingId > b.findingId ? 1 : 0;
}

/** Every finding in the inventory, one per resource and class, sorted by class then findingId. */
export function classify(inventory: Inventory, settings: ReconcileSettings): Finding[] {
  const ctx = context(inventory, settings);
  const found = [
    ...inventory.channels.flatMap((c) => channelFindings(ctx, c)),
    ...inventory.inputs.flatMap((i) => inputFindings(ctx, i)),
    ...inventory.ivsChannels.flatMap((c) => ivsFindings(ctx, c)),
    ...inventory.flows.flatMap((f) => flowFindings(ctx, f)),
    ...inventory.sessions.flatMap((s) => sessionFindings(ctx, s)),
    ...inventory.destinations.flatMap((d) => destinationFindings(ctx, d)),
    ...inventory.sources.flatMap((s) => sourceFindings(ctx, s)),
    ...inventory.persistentChannels.flatMap((pc) => claimLeak(ctx, pc)),
  ];
  const unique = new Map<string, Finding>();
  for (const f of found) if (!unique.has(f.findingId)) unique.set(f.findingId, f);
  return [...unique.values()].sort(byClassThenId);
}

/**
 * The executions `classify` needs the status of: every ARN a record's transitional state names,
 * and every `castflow:created-by-execution` name on a castflow MediaLive channel, input or IVS
 * channel (not deleting). Deduplicated and sorted.
 */
export function executionsToCheck(
  inv: Omit<Inventory, "executions" | "executionsByName" | "now">,
  stage: string,
): {
  arns: string[];
  names: string[];
} {
  const arns = [
    ...inv.sessions.map((s) => sessionHold(s)?.executionArn),
    ...inv.destinations.map((d) => (TRANSITIONAL.includes(d.status) ? d.operation?.executionArn : undefined)),
    ...inv.sources.map((s) => s.shared?.apply?.executionArn),
  ];
  const resources: Tagged[] = [
    ...inv.channels.filter((c) => !isGone(c.state)),
    ...inv.inputs.filter((i) => !isGone(i.state)),
    ...inv.ivsChannels,
  ];
  const names = resources.filter((r) => isManagedIn(r.tags, stage)).map((r) => r.tags[Tags.createdBy]);
  return { arns: sortedUnique(arns), names: sortedUnique(names) };
}

function sortedUnique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined))].sort();
}
