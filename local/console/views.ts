/**
 * What the console shows of castflow's records and of the simulated account: chosen fields only.
 * Records never hold a stream key, but the simulated account does (GET /_sim/resources is the
 * test view: IVS stream key values, SSM parameter values, the stream names MediaLive pushes to,
 * SRT passphrases, RTMP push URLs), so nothing is passed on that is not listed here.
 */
import type { PersistentChannel } from "#lib/channels/model.ts";
import type { Destination, Source } from "#lib/destinations/model.ts";
import type { Session } from "#lib/sessions/model.ts";

type JsonObject = Record<string, unknown>;

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" ? v : undefined);
const list = (v: unknown): JsonObject[] =>
  Array.isArray(v) ? v.filter((x): x is JsonObject => typeof x === "object" && x !== null) : [];
const obj = (v: unknown): JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};

/** castflow's tags name what a resource belongs to; ids only. */
function owner(tags: unknown): Record<string, string> {
  const t = obj(tags);
  const out: Record<string, string> = {};
  for (const [tag, key] of [
    ["castflow:session-id", "session"],
    ["castflow:destination", "destination"],
    ["castflow:source", "source"],
    ["castflow:role", "role"],
    ["castflow:created-by-execution", "createdBy"],
  ] as const) {
    const value = str(t[tag]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export const sessionRow = (s: Session) => ({
  sessionId: s.sessionId,
  hostUserId: s.hostUserId,
  showId: s.showId,
  status: s.status,
  streaming: {
    status: s.streaming.status,
    isLive: s.streaming.isLive,
    attempt: s.streaming.attempt,
    ...(s.streaming.error ? { error: s.streaming.error } : {}),
  },
  channelId: s.mediaLive.channelId,
  persistentChannelId: s.ivs.persistentChannelId,
  executions: [
    s.streaming.executionArn,
    s.streaming.stopExecutionArn,
    s.endRequest?.executionArn,
    s.end?.executionArn,
  ]
    .filter((arn): arn is string => arn !== undefined)
    .filter((arn, i, all) => all.indexOf(arn) === i),
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

export const destinationRow = (d: Destination) => ({
  destinationId: d.destinationId,
  name: d.name,
  platform: d.platform,
  ownerUserId: d.ownerUserId,
  sourceId: d.sourceId,
  deliveryMode: d.deliveryMode,
  status: d.status,
  activeUrl: d.activeUrl,
  channelId: d.mediaLive.channelId,
  ...(d.operation
    ? { operation: { lifecycle: d.operation.lifecycle, executionArn: d.operation.executionArn } }
    : {}),
  ...(d.error ? { error: d.error } : {}),
  metrics: {
    starts: d.metrics.starts,
    failovers: d.metrics.failovers,
    reconnects: d.metrics.reconnects,
    ...(d.metrics.lastError ? { lastError: d.metrics.lastError } : {}),
  },
  updatedAt: d.updatedAt,
});

export const sourceRow = (s: Source) => ({
  sourceId: s.sourceId,
  name: s.name,
  protocol: s.protocol,
  deliveryMode: s.deliveryMode,
  status: s.status,
  ...(s.backupOf ? { backupOf: s.backupOf } : {}),
  flowArn: s.flow?.flowArn,
  flowPhase: s.flowPhase,
  flowUsers: Object.keys(s.flowUsers).length,
  ...(s.shared?.channelId ? { sharedChannelId: s.shared.channelId } : {}),
  ...(s.shared?.apply ? { applyExecutionArn: s.shared.apply.executionArn } : {}),
  updatedAt: s.updatedAt,
});

export const channelRow = (c: PersistentChannel) => ({
  channelId: c.channelId,
  name: c.name,
  hostUserId: c.hostUserId,
  state: c.state,
  currentSessionId: c.currentSessionId,
  totalBroadcasts: c.totalBroadcasts,
  totalStreamingMinutes: c.totalStreamingMinutes,
});

/** The simulated account (GET /_sim/resources) without a secret: states, ids, owners. */
export function accountView(resources: unknown) {
  const r = obj(resources);
  const medialive = obj(r.medialive);
  const ivs = obj(r.ivs);
  const streams = list(ivs.streams);
  return {
    medialive: {
      channels: list(medialive.channels).map((c) => ({
        id: str(c.id),
        name: str(c.name),
        state: str(c.state),
        channelClass: str(c.channelClass),
        pipelinesRunning: num(c.pipelinesRunningCount),
        inputs: list(c.inputAttachments).map((a) => str(a.inputId)),
        ...owner(c.tags),
      })),
      inputs: list(medialive.inputs).map((i) => ({
        id: str(i.id),
        name: str(i.name),
        type: str(i.type),
        state: str(i.state),
        attachedChannels: Array.isArray(i.attachedChannels) ? i.attachedChannels.map(String) : [],
        ...owner(i.tags),
      })),
      inputSecurityGroups: list(medialive.inputSecurityGroups).map((g) => ({
        id: str(g.id),
        state: str(g.state),
        inputs: Array.isArray(g.inputs) ? g.inputs.length : 0,
      })),
    },
    ivs: {
      channels: list(ivs.channels).map((c) => ({
        arn: str(c.arn),
        name: str(c.name),
        type: str(c.type),
        stream: str(streams.find((s) => s.channelArn === c.arn)?.state) ?? "OFFLINE",
        ...owner(c.tags),
      })),
    },
    mediaconnect: {
      flows: list(obj(r.mediaconnect).flows).map((f) => ({
        name: str(f.name),
        flowArn: str(f.flowArn),
        status: str(f.status),
        activeSource: str(f.activeSource) ?? null,
        sources: list(f.sources).map((s) => str(s.name)),
        outputs: list(f.outputs).length,
      })),
    },
    ssm: {
      parameters: list(obj(r.ssm).parameters).map((p) => ({
        name: str(p.Name),
        type: str(p.Type),
        version: num(p.Version),
      })),
    },
    ingest: list(r.ingest).map((i) => ({
      url: str(i.url),
      channelId: str(i.channelId),
      receiving: i.receiving === true,
      refused: i.refused === true,
      interruptions: num(i.interruptions) ?? 0,
      since: str(i.since) ?? null,
    })),
  };
}
