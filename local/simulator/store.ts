import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type DurationOverrides, scaledMs, type TransitionName } from "./durations.ts";

/** JSON as it travels on the wire; resources keep their request JSON in this form. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}
export type Tags = Record<string, string>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
export function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
/** The objects of a JSON array (anything else: none). */
export function asObjects(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}
export function asTags(v: unknown): Tags {
  const out: Tags = {};
  if (isObject(v)) for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
  return out;
}

// ---- MediaLive ----
export type MlChannelState =
  | "CREATING"
  | "CREATE_FAILED"
  | "IDLE"
  | "STARTING"
  | "RUNNING"
  | "RECOVERING"
  | "STOPPING"
  | "DELETING"
  | "DELETED"
  | "UPDATING"
  | "UPDATE_FAILED";
export interface MlChannel {
  id: string;
  arn: string;
  /** CreateChannel/UpdateChannel request body in wire form (without requestId, dryRun, tags). */
  spec: JsonObject;
  state: MlChannelState;
  tags: Tags;
}
export type MlInputState = "CREATING" | "DETACHED" | "ATTACHED" | "DELETING" | "DELETED";
export interface MlInput {
  id: string;
  arn: string;
  spec: JsonObject;
  /** Computed at creation: the endpoints AWS hands out (rtmp://ip:1935/app/instance). */
  destinations: JsonObject[];
  inputClass: "STANDARD" | "SINGLE_INPUT";
  state: MlInputState;
  attachedChannels: string[];
  /** POST /_sim/sources `{inputId, pushing}`: whether an encoder sends to this push input; unset = sending. */
  pushing?: boolean;
  tags: Tags;
}
/**
 * A channel alert (ListAlerts, "MediaLive Channel Alert" events). Timestamps are ISO 8601 in
 * UTC with milliseconds, as MediaLive's `__timestampIso8601` members travel.
 */
export interface MlAlert {
  /** Random hex, fresh for each SET (an alert that comes back is a new alert). */
  id: string;
  alertType: string;
  pipelineId: string;
  /** Names the output's path, url and stream name, as AWS's example does: it may hold a stream key. */
  message: string;
  state: "SET" | "CLEARED";
  setTimestamp: string;
  clearedTimestamp?: string;
  /** The output url the alert is about: one SET alert per channel and url. Not rendered. */
  url: string;
}
export interface MlSecurityGroup {
  id: string;
  arn: string;
  whitelistRules: JsonObject[];
  state: "IDLE" | "IN_USE" | "UPDATING" | "DELETED";
  tags: Tags;
}

// ---- IVS ----
export interface IvsChannel {
  arn: string;
  channel: JsonObject;
  tags: Tags;
}
export interface IvsStreamKey {
  arn: string;
  channelArn: string;
  value: string;
  tags: Tags;
}
export interface IvsStream {
  channelArn: string;
  /** Broadcast started through POST /_sim/ivs/streams. */
  manualLive: boolean;
  /** Broadcast derived from a RUNNING MediaLive channel pushing to this channel's ingest with its key. */
  derivedLive: boolean;
  /** After StopStream the derived encoder is disconnected until this time (epoch ms). */
  suppressedUntil: number;
  state: "LIVE" | "OFFLINE";
  streamId?: string;
  startTime?: string;
}

// ---- SSM ----
export interface SsmParameter {
  name: string;
  type: "String" | "StringList" | "SecureString";
  value: string;
  version: number;
  lastModified: number;
  description?: string;
  dataType: string;
}

// ---- MediaConnect ----
export type McFlowStatus = "STANDBY" | "ACTIVE" | "UPDATING" | "DELETING" | "STARTING" | "STOPPING" | "ERROR";
export interface McOutput {
  arn: string;
  name: string;
  /** AddOutputRequest in wire form (lowerCamelCase). */
  spec: JsonObject;
  /** RemoveFlowOutput was accepted (202); the output is gone once its timer fires. */
  removing: boolean;
  /** Set on the output MediaLive adds for a MEDIACONNECT input (managed by MediaLive). */
  mediaLiveInputArn?: string;
}
export interface McSource {
  arn: string;
  name: string;
  /** SetSourceRequest in wire form (lowerCamelCase). */
  spec: JsonObject;
  /** POST /_sim/sources `{flowArn, sourceName?, pushing}`: whether an encoder sends here; unset = sending. */
  pushing?: boolean;
  /** RemoveFlowSource was accepted (202); the source is gone once its timer fires. */
  removing: boolean;
}
export interface McFlow {
  arn: string;
  name: string;
  status: McFlowStatus;
  availabilityZone: string;
  description?: string;
  /** One source, or two with source failover ENABLED. The first is the flow's `source`. */
  sources: McSource[];
  /** FailoverConfig in wire form (state, failoverMode, recoveryWindow, sourcePriority); unset = never configured. */
  sourceFailoverConfig?: JsonObject;
  /** The ingest address the service assigns (shared by the flow's sources). */
  ingestIp: string;
  outputs: McOutput[];
  tags: Tags;
}

// ---- Outside AWS: the platforms MediaLive pushes to (GET /_sim/ingest) ----
/** One (url, streamName) that a channel's RTMP output group targets, as the platform sees it. */
export interface IngestEntry {
  url: string;
  /** The real stream name (key): this is the test's view of what the platform gets. */
  streamName: string;
  /** The channel that pushes (or last pushed) here. */
  channelId: string;
  channelArn: string;
  receiving: boolean;
  /** ISO time `receiving` last became true; null while not receiving. */
  since: string | null;
  /** Times `receiving` came back after having been true and then false. */
  interruptions: number;
  /** Whether `receiving` was ever true (the first start is not an interruption). */
  everReceived: boolean;
}

/** A transition that a timer will apply; kept as data so a restart (statePath) can resume it. */
export interface PendingTransition {
  kind: string;
  key: string;
  at: number;
}

export interface SimState {
  medialive: {
    channels: Record<string, MlChannel>;
    inputs: Record<string, MlInput>;
    securityGroups: Record<string, MlSecurityGroup>;
    /** "channel:<requestId>" / "input:<requestId>" -> resource id (idempotency tokens). */
    requestIds: Record<string, string>;
    /** Channel id -> its alerts, oldest first (medialive/alerts.ts). */
    alerts: Record<string, MlAlert[]>;
  };
  ivs: {
    channels: Record<string, IvsChannel>;
    streamKeys: Record<string, IvsStreamKey>;
    streams: Record<string, IvsStream>;
  };
  ssm: { parameters: Record<string, SsmParameter> };
  /** Flows keyed by flow ARN. */
  mediaconnect: { flows: Record<string, McFlow> };
  /** Platform ingest view: entries keyed by ingestKey(url, streamName); URLs set to refuse. */
  ingest: { entries: Record<string, IngestEntry>; refusedUrls: string[] };
  pending: PendingTransition[];
}

/** The key of an ingest entry. */
export const ingestKey = (url: string, streamName: string) => JSON.stringify([url, streamName]);

export function emptyState(): SimState {
  return {
    medialive: { channels: {}, inputs: {}, securityGroups: {}, requestIds: {}, alerts: {} },
    ivs: { channels: {}, streamKeys: {}, streams: {} },
    ssm: { parameters: {} },
    mediaconnect: { flows: {} },
    ingest: { entries: {}, refusedUrls: [] },
    pending: [],
  };
}

/** A flow saved before flows had `sources` (one `source`, `sourceArn`): the same flow in today's shape. */
function migrateFlow(f: McFlow): McFlow {
  if (Array.isArray(f.sources)) return f;
  const old = f as unknown as { source?: JsonObject; sourceArn?: string };
  const spec = old.source ?? {};
  const migrated: McFlow = {
    ...f,
    sources: [{ arn: old.sourceArn ?? "", name: asString(spec.name) ?? f.name, spec, removing: false }],
  };
  delete (migrated as unknown as Record<string, unknown>).source;
  delete (migrated as unknown as Record<string, unknown>).sourceArn;
  return migrated;
}

export function randomDigits(n: number): string {
  let s = "";
  for (const b of randomBytes(n)) s += String(b % 10);
  return s.replace(/^0/, "1");
}
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export function randomAlnum(n: number): string {
  let s = "";
  for (const b of randomBytes(n)) s += ALNUM[b % ALNUM.length];
  return s;
}
export function randomHex(n: number): string {
  return randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);
}

export type TransitionHandler = (key: string) => void;

/**
 * Holds the account's state, the timers that move resources through their transitional states,
 * and the optional JSON file the state is saved to.
 */
export class Store {
  state: SimState = emptyState();
  private readonly timers = new Map<PendingTransition, NodeJS.Timeout>();
  private readonly handlers = new Map<string, TransitionHandler>();
  private saveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly timeScale: number,
    private readonly statePath: string | undefined,
    readonly durations: DurationOverrides = {},
  ) {}

  on(kind: string, handler: TransitionHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Schedule `kind` for `key` after the scaled base duration `duration` (or an explicit ms delay). */
  schedule(kind: string, key: string, duration: TransitionName | number): void {
    const ms = typeof duration === "number" ? duration : scaledMs(duration, this.timeScale, this.durations);
    const p: PendingTransition = { kind, key, at: Date.now() + ms };
    this.state.pending.push(p);
    this.arm(p);
    this.changed();
  }

  /** Drop pending transitions for a key (e.g. a stop overtakes a start). */
  cancel(key: string, kinds?: readonly string[]): void {
    for (const p of [...this.state.pending]) {
      if (p.key !== key || (kinds && !kinds.includes(p.kind))) continue;
      const t = this.timers.get(p);
      if (t) clearTimeout(t);
      this.timers.delete(p);
      this.state.pending = this.state.pending.filter((x) => x !== p);
    }
  }

  /**
   * Completes the pending transitions of `key` now instead of at their scheduled time (tests use
   * it to end a deliberately slow start). Returns how many were advanced.
   */
  advance(key: string): number {
    const due = this.state.pending.filter((p) => p.key === key);
    for (const p of due) {
      const t = this.timers.get(p);
      if (t) clearTimeout(t);
      p.at = Date.now();
      this.arm(p);
    }
    return due.length;
  }

  private arm(p: PendingTransition): void {
    const t = setTimeout(
      () => {
        this.timers.delete(p);
        this.state.pending = this.state.pending.filter((x) => x !== p);
        if (this.closed) return;
        this.handlers.get(p.kind)?.(p.key);
        this.changed();
      },
      Math.max(0, p.at - Date.now()),
    );
    // The simulator must never keep a test process (or `npm start`) alive on its own.
    t.unref();
    this.timers.set(p, t);
  }

  /** Load from statePath (if any) and re-arm the transitions that were pending when it was saved. */
  load(): void {
    if (!this.statePath) return;
    let text: string;
    try {
      text = readFileSync(this.statePath, "utf8");
    } catch {
      return; // no file yet: a fresh account
    }
    let parsed: Partial<SimState>;
    try {
      parsed = JSON.parse(text) as Partial<SimState>;
    } catch (e) {
      throw new Error(`Simulator state file ${this.statePath} is not valid JSON: ${(e as Error).message}`);
    }
    const base = emptyState();
    this.state = {
      medialive: { ...base.medialive, ...parsed.medialive },
      ivs: { ...base.ivs, ...parsed.ivs },
      ssm: { ...base.ssm, ...parsed.ssm },
      mediaconnect: { ...base.mediaconnect, ...parsed.mediaconnect },
      ingest: { ...base.ingest, ...parsed.ingest },
      pending: parsed.pending ?? [],
    };
    const flows = this.state.mediaconnect.flows;
    for (const [arn, f] of Object.entries(flows)) flows[arn] = migrateFlow(f);
    for (const p of this.state.pending) this.arm(p);
  }

  /** Replace everything (POST /_sim/reset). */
  reset(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.state = emptyState();
    this.changed();
  }

  /** Mark the state dirty: saved (debounced) when a statePath is configured. */
  changed(): void {
    if (!this.statePath || this.closed || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, 25);
    this.saveTimer.unref();
  }

  save(): void {
    if (!this.statePath) return;
    mkdirSync(dirname(this.statePath), { recursive: true });
    // Write-then-rename so a crash mid-write never leaves a truncated state file.
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 2));
    renameSync(tmp, this.statePath);
  }

  close(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    this.save();
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** What every service module gets: the shared store and the account it simulates. */
export interface SimContext {
  readonly store: Store;
  readonly accountId: string;
  readonly region: string;
}
