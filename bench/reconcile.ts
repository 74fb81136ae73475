/**
 * `npm run bench` (after lifecycles.ts): one reconcile over a realistic account, 1,000 sessions and
 * 5,000 destinations, on the embedded local runtime.
 *
 * Seeds the records straight into DynamoDB (parsed with the models) and the AWS resources they name
 * in the simulator through the real SDK clients, with castflow's tags, plus a handful of deliberate
 * findings. Then measures two dry runs: A, reconcile alone; B, reconcile while a few go-lives use
 * the same services. Per run: the calls made (the simulator's call log), throttles and who hit them,
 * wall time (also in AWS time: wall / time scale), and the floor the list pacing imposes
 * (RECONCILE_LIST_PAGES_PER_SECOND, lib/reconcile/inventory.ts). It prints figures; it asserts nothing.
 *
 * BENCH_RECONCILE_SESSIONS / BENCH_RECONCILE_DESTINATIONS / BENCH_RECONCILE_LIFECYCLES scale it down
 * for a quick look (defaults: 1000, 5000, 3). At full scale the script takes about a minute, most
 * of it seeding.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateChannelCommand as CreateIvsChannelCommand, IvsClient } from "@aws-sdk/client-ivs";
import {
  CreateFlowCommand,
  MediaConnectClient,
  StartFlowCommand,
  TagResourceCommand,
} from "@aws-sdk/client-mediaconnect";
import {
  CreateChannelCommand,
  type CreateChannelRequest,
  CreateInputCommand,
  type CreateInputRequest,
  CreateInputSecurityGroupCommand,
  MediaLiveClient,
  StartChannelCommand,
} from "@aws-sdk/client-medialive";
import { SFNClient } from "@aws-sdk/client-sfn";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  paginateQuery,
  paginateScan,
  type QueryCommandInput,
  type ScanCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type * as z from "zod";
import { apiCaller, median } from "#bench/api.ts";
import {
  dynamo as castflowDynamo,
  ivs as castflowIvs,
  mediaconnect as castflowMediaConnect,
  medialive as castflowMediaLive,
  sfn as castflowSfn,
} from "#lib/aws/clients.ts";
import { primarySourceName } from "#lib/aws/mediaconnect.ts";
import { streamKeyParameter } from "#lib/aws/stream-keys.ts";
import {
  CHANNEL_PARTITION,
  channelKey,
  HostAssignment,
  hostKey,
  PersistentChannel,
} from "#lib/channels/model.ts";
import { config } from "#lib/config.ts";
import { buildDestinationChannel } from "#lib/destinations/channel-plan.ts";
import {
  DESTINATION_PARTITION,
  Destination,
  DestinationTags,
  destinationKey,
  flowName,
  type NewDestination,
  SOURCE_PARTITION,
  Source,
  sourceKey,
} from "#lib/destinations/model.ts";
import { PLATFORM_SPECS, type Platform } from "#lib/destinations/platforms.ts";
import { errorName } from "#lib/errors.ts";
import { FINDING_CLASSES } from "#lib/reconcile/model.ts";
import { RECONCILE_PARTITION, REPORT_RETENTION_DAYS } from "#lib/reconcile/store.ts";
import { buildChannelRequest } from "#lib/sessions/channel-plan.ts";
import { managedTags, type NewSession, Session, sessionKey, Tags } from "#lib/sessions/model.ts";
import { startLocalRuntime } from "#local/runtime.ts";
import { BASE_SECONDS } from "#local/simulator/index.ts";
import { task as takeInventory } from "#tasks/reconcile/take-inventory.ts";
import { task as writeReport } from "#tasks/reconcile/write-report.ts";
import { fullHistory } from "./history.ts";

const TIME_SCALE = Number(process.env.CASTFLOW_TIME_SCALE ?? 0.01);
const SESSIONS = Number(process.env.BENCH_RECONCILE_SESSIONS ?? 1000);
const DESTINATIONS = Number(process.env.BENCH_RECONCILE_DESTINATIONS ?? 5000);
const LIFECYCLES = Number(process.env.BENCH_RECONCILE_LIFECYCLES ?? 3);
/** Concurrent seeding calls (the simulator runs in this process: more only queues). */
const CONCURRENCY = 16;
/** IVS allows 5 calls a second per operation, a window the simulator scales: seed at 4 a window. */
const IVS_GAP_MS = (1000 * TIME_SCALE) / 4;
/** The reconcile task running (its name), if any: its AWS calls are told from the lifecycles' by it. */
const inReconcile = new AsyncLocalStorage<string>();
const MEDIA = ["medialive", "ivs", "mediaconnect"];
/** The list operations the inventory paces (lib/reconcile/inventory.ts gatherAwsResources), one after another. */
const PACED = [
  "medialive:ListChannels",
  "medialive:ListInputs",
  "ivs:ListChannels",
  "mediaconnect:ListFlows",
];
/** The whole AWS side fits the simulated account once its adjustable quotas are raised. */
const BIG = 1_000_000;

const scriptStarted = Date.now();
const rt = await startLocalRuntime({
  timeScale: TIME_SCALE,
  tableName: `bench-reconcile-${randomUUID()}`,
  legacyProgramChannels: true,
  simulatorQuotas: {
    medialive: { channels: BIG, pushInputs: BIG },
    mediaconnect: { flows: BIG },
  },
});

// ---------------------------------------------------------------- helpers

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A source's flow, named as the sources API names it. */
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const pad = (s: string | number, n: number) => String(s).padStart(n);

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const credentials = { accessKeyId: "castflowlocal", secretAccessKey: "castflowlocal" };
  // The SDK's own retries cover a reset keep-alive socket (the simulator closes idle ones): such a
  // request never reached it, and MediaLive's creates carry a RequestId anyway. IVS is paced and
  // retried by hand.
  const common = { endpoint: rt.endpoints.simulator, region: "us-east-1", credentials, maxAttempts: 3 };
  const ml = new MediaLiveClient(common);
  // IVS: one attempt per call, the pacing below retries (the SDK would back off 500 ms and more).
  const ivs = new IvsClient({ ...common, maxAttempts: 1 });
  const mc = new MediaConnectClient(common);
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: rt.endpoints.dynamodb, region: "us-east-1", credentials }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const sfn = new SFNClient({ endpoint: rt.endpoints.sfn, region: "us-east-1", credentials });
  const adminToken = await rt.token("bench-admin", { admin: true });
  const cfg = config();

  const api = apiCaller(rt.endpoints.api, adminToken);
  const sim = async (method: string, path: string) =>
    // biome-ignore lint/suspicious/noExplicitAny: bench reads a few known fields
    (await (await fetch(`${rt.endpoints.simulator}${path}`, { method })).json()) as any;

  // ------------------------------------------------------------ seeding: AWS side
  const seedStarted = Date.now();
  console.log(`\nReconcile at scale on the local runtime (time scale ${TIME_SCALE}, stage ${cfg.STAGE})`);
  console.log(`\nseeding (runtime started in ${((seedStarted - scriptStarted) / 1000).toFixed(1)} s)`);
  let phaseStarted = seedStarted;
  const phase = (what: string) => {
    const t = Date.now();
    console.log(`  ${what}: ${((t - phaseStarted) / 1000).toFixed(1)} s`);
    phaseStarted = t;
  };
  const now = Date.now();
  /**
   * Seeded records were last touched days ago in AWS time (scaled, like reconcile's grace period
   * and idle TTLs): well past the grace period.
   */
  const daysAgo = (d: number) => new Date(now - d * 86_400_000 * TIME_SCALE).toISOString();
  const roleArn = cfg.MEDIALIVE_ROLE_ARN;
  const tagged = (extra: Record<string, string>) => ({ ...managedTags(), ...extra });
  let ivsNext = 0;
  /** An IVS call paced under its 5 TPS, retried when throttled anyway. */
  async function ivsPaced<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const t = performance.now();
      const at = Math.max(t, ivsNext);
      ivsNext = at + IVS_GAP_MS;
      if (at > t) await sleep(at - t);
      try {
        return await call();
      } catch (err) {
        const reset = (err as { code?: string }).code === "ECONNRESET";
        if ((errorName(err) !== "ThrottlingException" && !reset) || attempt >= 20) throw err;
      }
    }
  }
  /** Retries a call that MediaLive refuses while the resource is still in motion (CREATING, ...). */
  async function whenSettled<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!["ConflictException", "BadRequestException"].includes(errorName(err)) || attempt >= 200)
          throw err;
        await sleep(Math.max(5, 100 * TIME_SCALE));
      }
    }
  }
  const createInput = async (req: CreateInputRequest) => {
    const res = await ml.send(new CreateInputCommand({ RequestId: randomUUID(), ...req }));
    if (!res.Input?.Id || !res.Input.Arn) throw new Error("CreateInput returned no input");
    return { id: res.Input.Id, arn: res.Input.Arn };
  };
  const createChannel = async (req: CreateChannelRequest) => {
    const res = await ml.send(new CreateChannelCommand(req));
    if (!res.Channel?.Id || !res.Channel.Arn) throw new Error("CreateChannel returned no channel");
    return { id: res.Channel.Id, arn: res.Channel.Arn };
  };
  const createIvs = async (name: string, tags: Record<string, string>) => {
    const res = await ivsPaced(() =>
      ivs.send(new CreateIvsChannelCommand({ name, latencyMode: "LOW", type: "STANDARD", tags })),
    );
    const c = res.channel;
    if (!c?.arn || !c.ingestEndpoint || !c.playbackUrl || !res.streamKey?.value)
      throw new Error("IVS CreateChannel returned an incomplete channel");
    return { arn: c.arn, ingest: c.ingestEndpoint, playback: c.playbackUrl, key: res.streamKey.value };
  };
  const executionArn = (lifecycle: string, name: string) =>
    `${(rt.stateMachineArns[lifecycle] ?? "").replace(":stateMachine:", ":execution:")}:${name}`;

  // The layout. Destinations: DESTINATIONS / 5 sources (SRT listeners, per-destination mode), five
  // destinations each, every destination with its MEDIACONNECT input and SINGLE_PIPELINE channel
  // (what destination-add makes); the destinations of the first sources run. Sessions: one active
  // session per host on its persistent channel (a relay channel each), the first ones live or
  // with a stopped channel and push input kept; legacy sessions with a program channel of their
  // own; the rest ended (their resources deleted).
  const SOURCES = Math.ceil(DESTINATIONS / 5);
  const RUNNING_DESTINATIONS = Math.min(50, Math.floor(DESTINATIONS / 10));
  const HOSTS = Math.max(2, Math.round(SESSIONS / 2));
  const LEGACY = Math.round(SESSIONS / 5);
  const ACTIVE = HOSTS - 1; // the last host's channel is a claim leak (below)
  const ENDED = SESSIONS - ACTIVE - LEGACY;
  const LIVE = Math.min(20, Math.floor(ACTIVE / 10));
  const STOPPED = Math.min(40, Math.floor(ACTIVE / 5));
  /** The last stopped sessions keep their channel past the idle TTL (72 h): idle spend. */
  const KEPT_STOPPED = 2;
  if (ENDED < 3 || SOURCES < 4 || ACTIVE < LIVE + STOPPED + 2)
    throw new Error("too small a scale for the deliberate findings");
  const sessionIds: string[] = range(SESSIONS).map(() => randomUUID());
  const destinationIds: string[] = range(DESTINATIONS).map(() => randomUUID());
  const sourceIds: string[] = range(SOURCES).map(() => randomUUID());
  /** Session i: active on host i's persistent channel (i < ACTIVE), legacy, or ended. */
  const kindOf = (i: number) => (i < ACTIVE ? "persistent" : i < ACTIVE + LEGACY ? "legacy" : "ended");
  const endedIndex = (k: number) => ACTIVE + LEGACY + k;
  const hostOf = (i: number) =>
    i < ACTIVE ? `host-${i}` : i < ACTIVE + LEGACY ? `legacy-host-${i}` : `host-${i % HOSTS}`;
  const PLATFORMS: { platform: Platform; key: (i: number) => string }[] = [
    { platform: "youtube", key: (i) => `bnch-${String(i).padStart(4, "0")}-abcd-efgh-ijkl` },
    { platform: "twitch", key: (i) => `live_${100000 + i}_benchKey${i}` },
    { platform: "facebook", key: (i) => `FB-${i}-0-Ab1Cd2Ef3Gh4` },
  ];
  const platformOf = (i: number) => PLATFORMS[i % PLATFORMS.length] ?? PLATFORMS[0];
  const rtmpUrlOf = (p: Platform) => PLATFORM_SPECS[p].rtmpUrl ?? "rtmp://ingest.example.com/live";

  // Deliberate findings (expected class -> what was made), checked against the report.
  const expected: { cls: string; what: string }[] = [];
  const ghost = () => `ghost-${randomUUID().slice(0, 8)}`;

  // 1. MediaConnect flows, one per source.
  const flows: { arn: string; sourceArn: string; sourceName: string; ingestIp: string }[] = [];
  await pool(range(SOURCES), CONCURRENCY, async (s) => {
    const name = flowName(sourceIds[s] ?? "");
    const res = await mc.send(
      new CreateFlowCommand({
        Name: name,
        Source: {
          Name: primarySourceName(name),
          Protocol: "srt-listener",
          WhitelistCidr: "0.0.0.0/0",
          IngestPort: 5000,
        },
      }),
    );
    const f = res.Flow;
    if (!f?.FlowArn) throw new Error("CreateFlow returned no flow");
    flows[s] = {
      arn: f.FlowArn,
      sourceArn: f.Source?.SourceArn ?? "",
      sourceName: f.Source?.Name ?? primarySourceName(name),
      ingestIp: f.Source?.IngestIp ?? "",
    };
  });

  // 2. Inputs, before any channel (each channel change makes the simulator re-derive its views).
  const isg = await ml.send(
    new CreateInputSecurityGroupCommand({
      WhitelistRules: [{ Cidr: "0.0.0.0/0" }],
      Tags: tagged({ [Tags.role]: "session-ingest" }),
    }),
  );
  const isgId = isg.SecurityGroup?.Id ?? "";
  const destinationInputTags = (
    d: number,
    sourceId: string,
    exec = `destination-add-${destinationIds[d]}-1`,
  ) =>
    tagged({
      [DestinationTags.destinationId]: destinationIds[d] ?? "",
      [DestinationTags.sourceId]: sourceId,
      [Tags.createdBy]: exec,
    });
  const destinationInputs: { id: string; arn: string }[] = [];
  await pool(range(DESTINATIONS), CONCURRENCY, async (d) => {
    const s = Math.floor(d / 5);
    destinationInputs[d] = await createInput({
      Name: `castflow-dest-${destinationIds[d]}`,
      Type: "MEDIACONNECT",
      MediaConnectFlows: [{ FlowArn: flows[s]?.arn }],
      RoleArn: roleArn,
      Tags: destinationInputTags(d, sourceIds[s] ?? ""),
    });
  });
  const pushInput = (sessionId: string, exec: string) =>
    createInput({
      Name: `castflow-${sessionId}-host`,
      Type: "RTMP_PUSH",
      Destinations: [{ StreamName: `castflow/${sessionId}` }],
      InputSecurityGroups: [isgId],
      Tags: tagged({ [Tags.sessionId]: sessionId, [Tags.createdBy]: exec }),
    });
  /** Sessions 0 .. LIVE+STOPPED-1 went live once: a push input each (and a channel, below). */
  const sessionInputs: { id: string; arn: string }[] = [];
  await pool(range(LIVE + STOPPED), CONCURRENCY, async (i) => {
    sessionInputs[i] = await pushInput(sessionIds[i] ?? "", `go-live-${sessionIds[i]}-1`);
  });
  // Deliberate: inputs nobody needs.
  const e0 = sessionIds[endedIndex(0)] ?? "";
  const e1 = sessionIds[endedIndex(1)] ?? "";
  const e2 = sessionIds[endedIndex(2)] ?? "";
  const endedChannelInput = await pushInput(e0, `go-live-${e0}-1`); // attached to the orphan channel below
  await pushInput(e2, `go-live-${e2}-1`);
  expected.push({ cls: "orphan", what: "push input of an ended session" });
  await createInput({
    Name: `castflow-dest-${destinationIds[7]}`,
    Type: "MEDIACONNECT",
    MediaConnectFlows: [{ FlowArn: flows[1]?.arn }],
    RoleArn: roleArn,
    Tags: destinationInputTags(7, sourceIds[1] ?? "", `destination-add-${destinationIds[7]}-2`),
  });
  expected.push({ cls: "orphan", what: "second input of a destination (its record names the first)" });
  await createInput({
    Name: "castflow-shared-input",
    Type: "MEDIACONNECT",
    MediaConnectFlows: [{ FlowArn: flows[2]?.arn }],
    RoleArn: roleArn,
    Tags: tagged({ [DestinationTags.sourceId]: ghost() }),
  });
  expected.push({ cls: "orphan", what: "input of a source that does not exist" });
  const ghostDestination = destinationIds.length; // index past the records: no record
  destinationIds.push(ghost());
  const ghostDestInput = await createInput({
    Name: "castflow-dest-ghost",
    Type: "MEDIACONNECT",
    MediaConnectFlows: [{ FlowArn: flows[3]?.arn }],
    RoleArn: roleArn,
    Tags: destinationInputTags(ghostDestination, sourceIds[3] ?? ""),
  });
  const dupInput = await pushInput(sessionIds[LIVE] ?? "", `go-live-${sessionIds[LIVE]}-2`);
  // A flow tagged with castflow's tags for a source that does not exist.
  const ghostSource = ghost();
  const ghostFlow = await mc.send(
    new CreateFlowCommand({
      Name: flowName(ghostSource),
      Source: {
        Name: primarySourceName(flowName(ghostSource)),
        Protocol: "srt-listener",
        WhitelistCidr: "0.0.0.0/0",
        IngestPort: 5000,
      },
    }),
  );
  await mc.send(
    new TagResourceCommand({
      ResourceArn: ghostFlow.Flow?.FlowArn,
      Tags: tagged({ [DestinationTags.sourceId]: ghostSource }),
    }),
  );
  expected.push({ cls: "orphan", what: "flow of a source that does not exist" });
  phase(`${SOURCES + 1} flows, ${DESTINATIONS + LIVE + STOPPED + 6} inputs`);

  // 3. Destination channels.
  const destinationChannel = (d: number, inputId: string, sourceId: string) => {
    const { platform, key } = platformOf(d) ?? { platform: "youtube" as Platform, key: String };
    return buildDestinationChannel({
      name: `castflow-dest-${destinationIds[d]}`,
      inputId,
      roleArn,
      preset: PLATFORM_SPECS[platform].defaultPreset,
      url: rtmpUrlOf(platform),
      streamKey: key(d),
      requestId: `destination-add-${destinationIds[d]}-1-channel`,
      tags: destinationInputTags(d, sourceId),
    });
  };
  const destinationChannels: { id: string; arn: string }[] = [];
  await pool(range(DESTINATIONS), CONCURRENCY, async (d) => {
    const s = Math.floor(d / 5);
    destinationChannels[d] = await createChannel(
      destinationChannel(d, destinationInputs[d]?.id ?? "", sourceIds[s] ?? ""),
    );
  });
  await createChannel(destinationChannel(ghostDestination, ghostDestInput.id, sourceIds[3] ?? ""));
  expected.push({ cls: "orphan", what: "channel of a destination that does not exist" });
  phase(`${DESTINATIONS + 1} destination channels`);

  // 4. What runs on the destinations' side: the first sources' flows and their destinations'
  // channels, a deleted destination's channel (orphan) and an idle destination's (idle spend).
  // Started, and settled, before any IVS channel exists: the simulator re-derives IVS stream
  // liveness (every IVS channel against every stream key) on each MediaLive change.
  const RUNNING_SOURCES = Math.ceil(RUNNING_DESTINATIONS / 5);
  const DELETED_D = RUNNING_DESTINATIONS; // record deleted, channel still RUNNING
  const IDLE_SPEND_D = RUNNING_DESTINATIONS + 1; // record idle, channel RUNNING
  const STUCK_D = RUNNING_DESTINATIONS + 2; // record starting, its execution unknown to Step Functions
  const DRIFT_D = RUNNING_DESTINATIONS + 3; // record running, channel IDLE
  const destinationsToStart = [...range(RUNNING_DESTINATIONS), DELETED_D, IDLE_SPEND_D].map(
    (d) => destinationChannels[d]?.id ?? "",
  );
  expected.push({ cls: "orphan", what: "RUNNING channel of a deleted destination" });
  expected.push({ cls: "idle-spend", what: "RUNNING channel of an idle destination" });
  expected.push({ cls: "drift", what: "running destination whose channel is IDLE" });
  expected.push({ cls: "stuck", what: "starting destination whose execution Step Functions does not know" });
  await pool(range(RUNNING_SOURCES), CONCURRENCY, async (s) => {
    await mc.send(new StartFlowCommand({ FlowArn: flows[s]?.arn }));
  });
  const startAll = (ids: readonly string[]) =>
    pool(ids, CONCURRENCY, async (channelId) => {
      await whenSettled(() => ml.send(new StartChannelCommand({ ChannelId: channelId })));
    });
  const settle = () => sleep((BASE_SECONDS.channelStart + BASE_SECONDS.flowStart) * TIME_SCALE * 1000 + 200);
  await startAll(destinationsToStart);
  await settle();
  phase(`${destinationsToStart.length} destination channels and ${RUNNING_SOURCES} flows started`);

  // 5. IVS persistent channels (one per host), then the sessions' MediaLive channels pushing to
  // them, as go-live makes them; the live ones started (session 0 is live on an IDLE channel:
  // drift). The sessions' own IVS channels come last (6).
  const persistent: Awaited<ReturnType<typeof createIvs>>[] = [];
  await pool(range(HOSTS), CONCURRENCY, async (h) => {
    persistent[h] = await createIvs(`castflow-persistent-host-${h}`, tagged({ [Tags.role]: "persistent" }));
  });
  const sessionChannel = (i: number, sessionId: string, inputId: string, exec: string) => {
    const target = persistent[i % HOSTS];
    return buildChannelRequest({
      name: `castflow-${sessionId}`,
      inputId,
      roleArn,
      ivsIngestEndpoint: target?.ingest ?? "",
      streamKey: target?.key ?? "",
      recordingBucket: cfg.RECORDING_BUCKET,
      sessionId,
      requestId: `${exec}-channel`,
      tags: tagged({ [Tags.sessionId]: sessionId, [Tags.createdBy]: exec }),
    });
  };
  const sessionChannels: { id: string; arn: string }[] = [];
  await pool(range(LIVE + STOPPED), CONCURRENCY, async (i) => {
    const id = sessionIds[i] ?? "";
    sessionChannels[i] = await createChannel(
      sessionChannel(i, id, sessionInputs[i]?.id ?? "", `go-live-${id}-1`),
    );
  });
  await createChannel(sessionChannel(endedIndex(0), e0, endedChannelInput.id, `go-live-${e0}-1`));
  expected.push({ cls: "orphan", what: "stopped channel of an ended session" });
  const dupSession = sessionIds[LIVE] ?? "";
  await createChannel(sessionChannel(LIVE, dupSession, dupInput.id, `go-live-${dupSession}-2`));
  expected.push({ cls: "orphan", what: "second channel of a session (its record names the first)" });
  expected.push({ cls: "drift", what: "live session whose channel is IDLE" });
  expected.push({ cls: "claim-leak", what: "persistent channel LIVE for a session that does not exist" });
  for (let k = 0; k < KEPT_STOPPED; k++)
    expected.push({ cls: "idle-spend", what: "stopped channel of a session kept past the idle TTL" });
  const sessionsToStart = range(LIVE)
    .slice(1)
    .map((i) => sessionChannels[i]?.id ?? "");
  await startAll(sessionsToStart);
  await settle();
  phase(
    `${HOSTS} persistent IVS channels, ${LIVE + STOPPED + 2} session channels, ${sessionsToStart.length} started`,
  );

  // 6. The sessions' own IVS channels: relay (sessions on a persistent channel), program (legacy);
  // deliberate: a relay of an ended session, channels of sessions that never existed.
  const sessionIvs: Awaited<ReturnType<typeof createIvs>>[] = [];
  await pool(range(ACTIVE + LEGACY), CONCURRENCY, async (i) => {
    const role = kindOf(i) === "persistent" ? "relay" : "program";
    sessionIvs[i] = await createIvs(
      `castflow-${role}-${sessionIds[i]}`,
      tagged({ [Tags.role]: role, [Tags.sessionId]: sessionIds[i] ?? "" }),
    );
  });
  await createIvs(`castflow-relay-${e1}`, tagged({ [Tags.role]: "relay", [Tags.sessionId]: e1 }));
  expected.push({ cls: "orphan", what: "relay IVS channel of an ended session" });
  for (const role of ["relay", "program"]) {
    const id = ghost();
    await createIvs(`castflow-${role}-${id}`, tagged({ [Tags.role]: role, [Tags.sessionId]: id }));
    expected.push({ cls: "orphan", what: `${role} IVS channel of a session that does not exist` });
  }
  phase(`${ACTIVE + LEGACY + 3} relay and program IVS channels`);

  // ------------------------------------------------------------ seeding: records
  const items: Record<string, unknown>[] = [];
  for (let h = 0; h < HOSTS; h++) {
    const p = persistent[h];
    if (!p) throw new Error(`no persistent channel for host ${h}`);
    const channelId = p.arn.slice(p.arn.lastIndexOf("/") + 1);
    const claimLeak = h === HOSTS - 1;
    const channel = PersistentChannel.parse({
      channelId,
      channelArn: p.arn,
      name: `host-${h}`,
      hostUserId: `host-${h}`,
      state: h < ACTIVE || claimLeak ? "LIVE" : "IDLE",
      ...(h < ACTIVE ? { currentSessionId: sessionIds[h] } : claimLeak ? { currentSessionId: ghost() } : {}),
      playbackUrl: p.playback,
      ingestEndpoint: p.ingest,
      totalBroadcasts: h % 7,
      totalStreamingMinutes: (h % 7) * 42.5,
      createdAt: daysAgo(90),
      updatedAt: daysAgo(2),
    } satisfies z.input<typeof PersistentChannel>);
    items.push({ ...channelKey(channelId), ...channel });
    const assignment = HostAssignment.parse({ hostUserId: `host-${h}`, channelId, assignedAt: daysAgo(90) });
    items.push({ ...hostKey(assignment.hostUserId), ...assignment });
  }
  for (let i = 0; i < SESSIONS; i++) {
    const sessionId = sessionIds[i] ?? "";
    const kind = kindOf(i);
    const host = persistent[i % HOSTS];
    const own = sessionIvs[i];
    const live = kind === "persistent" && i < LIVE;
    const stopped = kind === "persistent" && i >= LIVE && i < LIVE + STOPPED;
    const input = sessionInputs[i];
    const channel = sessionChannels[i];
    const ivs: NewSession["ivs"] =
      kind === "persistent"
        ? {
            persistentChannelId: host?.arn.slice(host.arn.lastIndexOf("/") + 1),
            persistentChannelArn: host?.arn,
            persistentPlaybackUrl: host?.playback,
            persistentIngestEndpoint: host?.ingest,
            relayChannelArn: own?.arn,
            relayPlaybackUrl: own?.playback,
            relayIngestEndpoint: own?.ingest,
          }
        : kind === "legacy"
          ? {
              programChannelArn: own?.arn,
              programIngestEndpoint: own?.ingest,
              programPlaybackUrl: own?.playback,
            }
          : {};
    const session = Session.parse({
      sessionId,
      hostUserId: hostOf(i),
      showId: `show-${i % 37}`,
      createdAt: daysAgo(kind === "ended" ? 30 : 3),
      // The sessions kept past the idle TTL last changed when they stopped (the TTL counts from the later).
      updatedAt: daysAgo(kind === "ended" ? 29 : stopped && i >= LIVE + STOPPED - KEPT_STOPPED ? 5 : 1),
      version: live || stopped ? 6 : 1,
      status: kind === "ended" ? "ended" : "active",
      ivs,
      mediaLive:
        live || stopped
          ? {
              channelId: channel?.id,
              channelArn: channel?.arn,
              inputIds: { host: input?.id },
              inputSecurityGroupId: isgId,
              rtmpEndpoints: { host: [{ url: "rtmp://203.0.113.10:1935/castflow", streamName: sessionId }] },
            }
          : { inputIds: {}, rtmpEndpoints: {} },
      streaming: {
        isLive: live,
        status: live ? "live" : "idle",
        attempt: live || stopped ? 1 : 0,
        ...(live || stopped
          ? {
              executionArn: executionArn("go-live", `go-live-${sessionId}-1`),
              startedAt: daysAgo(1.5),
              playbackUrl: host?.playback,
            }
          : {}),
        ...(stopped
          ? {
              stopExecutionArn: executionArn("stop-streaming", `stop-streaming-${sessionId}-1`),
              stoppedAt: daysAgo(i >= LIVE + STOPPED - KEPT_STOPPED ? 5 : 1.4),
            }
          : {}),
        totalStreamedSeconds: stopped ? 7200 : 0,
      },
      ...(kind === "ended"
        ? {
            end: {
              executionArn: executionArn("end-session", `end-session-${sessionId}-1`),
              streamedSeconds: 3600,
              statsRecorded: true,
              endedAt: daysAgo(29),
              cleanupResults: {
                mediaLive: { attempted: true, success: true, error: null },
                relayChannel: { attempted: true, success: true, error: null },
              },
            },
          }
        : {}),
    } satisfies NewSession);
    items.push({ ...sessionKey(sessionId), ...session });
  }
  for (let s = 0; s < SOURCES; s++) {
    const f = flows[s];
    const running = s < RUNNING_SOURCES;
    const users = running
      ? Object.fromEntries(
          range(5)
            .map((k) => s * 5 + k)
            .filter((d) => d < RUNNING_DESTINATIONS)
            .map((d) => [destinationIds[d], `destination-start-${destinationIds[d]}-1`]),
        )
      : {};
    const source = Source.parse({
      sourceId: sourceIds[s] ?? "",
      name: `Studio ${s}`,
      protocol: "srt-listener",
      deliveryMode: "per-destination",
      priority: 1,
      allowedCidr: "0.0.0.0/0",
      port: 5000,
      status: "ready",
      flow: {
        flowArn: f?.arn ?? "",
        sourceArn: f?.sourceArn,
        sourceName: f?.sourceName,
        ingestIp: f?.ingestIp,
        ingestPort: 5000,
      },
      flowUsers: users,
      flowPhase: running ? "active" : "standby",
      createdAt: daysAgo(60),
      updatedAt: daysAgo(1),
    } satisfies z.input<typeof Source>);
    items.push({ ...sourceKey(source.sourceId), ...source });
  }
  for (let d = 0; d < DESTINATIONS; d++) {
    const destinationId = destinationIds[d] ?? "";
    const { platform } = platformOf(d) ?? { platform: "youtube" as Platform };
    const running = d < RUNNING_DESTINATIONS || d === DRIFT_D;
    const status = running ? "running" : d === DELETED_D ? "deleted" : d === STUCK_D ? "starting" : "idle";
    const input = destinationInputs[d];
    const channel = destinationChannels[d];
    const destination = Destination.parse({
      destinationId,
      ownerUserId: `host-${d % HOSTS}`,
      name: `${PLATFORM_SPECS[platform].label} ${d}`,
      platform,
      sourceId: sourceIds[Math.floor(d / 5)] ?? "",
      deliveryMode: "per-destination",
      rtmpUrl: rtmpUrlOf(platform),
      preset: PLATFORM_SPECS[platform].defaultPreset,
      failoverEnabled: false,
      activeUrl: "primary",
      streamKeyParameter: streamKeyParameter(destinationId, "primary"),
      status,
      ...(status === "starting"
        ? {
            operation: {
              lifecycle: "destination-start",
              executionArn: executionArn("destination-start", `destination-start-${destinationId}-9`),
              startedAt: daysAgo(1),
            },
          }
        : {}),
      mediaLive: {
        inputId: input?.id,
        inputArn: input?.arn,
        channelId: channel?.id,
        channelArn: channel?.arn,
      },
      metrics: {
        starts: running ? 3 : d % 4,
        failovers: 0,
        runningSeconds: (d % 4) * 3600,
        ...(running ? { runningSince: daysAgo(0.5) } : {}),
      },
      executionCounters: { "destination-add": 1, ...(running ? { "destination-start": 1 } : {}) },
      createdAt: daysAgo(45),
      updatedAt: daysAgo(1),
      ...(status === "deleted" ? { deletedAt: daysAgo(1) } : {}),
    } satisfies NewDestination);
    items.push({ ...destinationKey(destinationId), ...destination });
  }
  await pool(
    range(Math.ceil(items.length / 25)).map((b) => items.slice(b * 25, b * 25 + 25)),
    8,
    async (batch) => {
      let requests = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await sleep(20 * attempt);
        const res = await ddb.send(new BatchWriteCommand({ RequestItems: { [rt.tableName]: requests } }));
        requests = (res.UnprocessedItems?.[rt.tableName] ?? []).flatMap((r) =>
          r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
        );
      }
    },
  );
  phase(`${items.length} records`);
  const seedDone = Date.now();

  const view = rt.simulator.resources();
  const byState = (xs: Record<string, unknown>[]) => {
    const n: Record<string, number> = {};
    for (const x of xs) n[String(x.state)] = (n[String(x.state)] ?? 0) + 1;
    return Object.entries(n)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ");
  };
  const roles: Record<string, number> = {};
  for (const c of view.ivs.channels) {
    const role = String((c.tags as Record<string, string> | undefined)?.[Tags.role]);
    roles[role] = (roles[role] ?? 0) + 1;
  }
  const seeded = {
    mlChannels: view.medialive.channels.length,
    mlInputs: view.medialive.inputs.length,
    ivsChannels: view.ivs.channels.length,
  };
  console.log(
    `seeded in ${((seedDone - seedStarted) / 1000).toFixed(1)} s (runtime start ${((seedStarted - scriptStarted) / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  records: ${SESSIONS} sessions (${ACTIVE} active on persistent channels: ${LIVE} live, ${STOPPED} with a stopped channel kept; ${LEGACY} legacy; ${ENDED} ended), ${HOSTS} persistent channels + host assignments, ${SOURCES} sources, ${DESTINATIONS} destinations (${RUNNING_DESTINATIONS + 1} running, 1 deleted, 1 starting, rest idle)`,
  );
  console.log(
    `  AWS: MediaLive ${seeded.mlChannels} channels (${byState(view.medialive.channels)}), ${seeded.mlInputs} inputs (${byState(view.medialive.inputs)}), 1 input security group; IVS ${seeded.ivsChannels} channels (${Object.entries(
      roles,
    )
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ", ",
      )}); MediaConnect ${view.mediaconnect.flows.length} flows (${byState(view.mediaconnect.flows.map((f) => ({ state: f.status })))})`,
  );
  console.log(`  deliberate findings: ${expected.length} (${countBy(expected.map((e) => e.cls))})`);
  ml.destroy();
  ivs.destroy();
  mc.destroy();

  // ------------------------------------------------------------ measuring
  /**
   * Every HTTP attempt castflow's own clients make (inside the SDK's retry loop): MediaLive, IVS and
   * MediaConnect (the simulator's log counts the same), DynamoDB and Step Functions.
   */
  interface Attempt {
    readonly call: string;
    readonly by: "reconcile" | "lifecycles";
    /** The reconcile task that made it. */
    readonly task?: string;
    readonly start: number;
    readonly end: number;
    readonly error?: string;
  }
  const attempts: Attempt[] = [];
  // Whose call it is: reconcile's tasks run their handlers inside `inReconcile` (below), whose
  // store follows every call they make; any other call is the lifecycles' (tasks or the API).
  for (const t of [takeInventory, writeReport]) {
    const handler = t.handler as unknown as (event: unknown, context: unknown) => Promise<unknown>;
    Object.defineProperty(t, "handler", {
      value: (event: unknown, context: unknown) => inReconcile.run(t.name, () => handler(event, context)),
    });
  }
  type Middleware = Parameters<MediaLiveClient["middlewareStack"]["addRelativeTo"]>[0];
  for (const [service, client] of [
    ["medialive", castflowMediaLive()],
    ["ivs", castflowIvs()],
    ["mediaconnect", castflowMediaConnect()],
    ["dynamodb", castflowDynamo()],
    ["states", castflowSfn()],
  ] as const) {
    const record =
      (
        next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
        context: { commandName?: string },
      ) =>
      async (args: { input: Record<string, unknown> }) => {
        const call = `${service}:${(context.commandName ?? "").replace(/Command$/, "")}`;
        const task = inReconcile.getStore();
        const who = task ? { by: "reconcile" as const, task } : { by: "lifecycles" as const };
        const start = performance.now();
        try {
          const out = await next(args);
          attempts.push({ call, ...who, start, end: performance.now() });
          return out;
        } catch (err) {
          attempts.push({ call, ...who, start, end: performance.now(), error: errorName(err) });
          throw err;
        }
      };
    (client as MediaLiveClient).middlewareStack.addRelativeTo(record as unknown as Middleware, {
      name: "benchAttemptLog",
      relation: "after",
      toMiddleware: "retryMiddleware",
      override: true,
    });
  }
  const THROTTLES = new Set(["ThrottlingException", "TooManyRequestsException"]);
  /** Pages a second the inventory asks of each list operation, in AWS time. */
  const awsPagesPerSecond = cfg.RECONCILE_LIST_PAGES_PER_SECOND * TIME_SCALE;

  interface RunFigures {
    readonly name: string;
    readonly wallMs: number;
    readonly inventoryMs: number;
    readonly listSpanMs: number;
    readonly pages: Record<string, number>;
    /** First request to last answer of each paced operation (ms). */
    readonly opSpanMs: Record<string, number>;
    readonly floorSeconds: number;
    readonly calls: Record<string, { n: number; errors: Record<string, number> }>;
    readonly simCalls: number;
    readonly attempts: Attempt[];
    readonly counts: Record<string, number>;
    readonly found: number;
    readonly omitted: number;
    readonly report: { findings: { class: string; reason: string; resource: { id: string } }[] };
  }

  async function startReconcile() {
    const res = await api("POST", "/admin/reconcile", { dryRun: true });
    if (res.status !== 202) throw new Error(`reconcile: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { runId: string; executionArn: string };
  }

  async function finishReconcile(
    name: string,
    run: { runId: string; executionArn: string },
    started: number,
  ) {
    const done = await rt.sfn.waitForExecution(run.executionArn, 600_000);
    const wallMs = Date.now() - started;
    if (done.status !== "SUCCEEDED") throw new Error(`reconcile ${name}: ${done.status} ${done.error}`);
    const report = await api("GET", `/admin/reconcile/runs/${run.runId}`);
    if (report.status !== 200) throw new Error(`report: ${report.status}`);
    const events = await fullHistory(sfn, run.executionArn);
    const at = (type: string) =>
      events.find((e) => e.type === type && e.stateEnteredEventDetails?.name === "Take Inventory")
        ?.timestamp ??
      events.find((e) => e.type === type && e.stateExitedEventDetails?.name === "Take Inventory")?.timestamp;
    const inventoryMs = (at("TaskStateExited")?.getTime() ?? 0) - (at("TaskStateEntered")?.getTime() ?? 0);
    return { name, wallMs, inventoryMs, report: report.body };
  }

  /** The calls since the log was cleared: the simulator's log (what it received) and castflow's attempts. */
  async function callFigures() {
    const log = (await sim("GET", "/_sim/calls")) as {
      calls: { service: string; operation: string; error?: string }[];
    };
    const calls: RunFigures["calls"] = {};
    for (const c of log.calls) {
      const k = `${c.service}:${c.operation}`;
      const entry = calls[k] ?? { n: 0, errors: {} };
      calls[k] = entry;
      entry.n++;
      if (c.error) entry.errors[c.error] = (entry.errors[c.error] ?? 0) + 1;
    }
    const mine = attempts.splice(0);
    const reconcileLists = mine.filter((a) => a.by === "reconcile" && PACED.includes(a.call));
    const pages: Record<string, number> = {};
    for (const a of reconcileLists) if (!a.error) pages[a.call] = (pages[a.call] ?? 0) + 1;
    // The inventory lists one operation after another (three loops in gatherAwsResources), each
    // paced on its own: the floor is the sum of each operation's (pages - 1) gaps.
    const floorSeconds = Object.values(pages).reduce((s, n) => s + Math.max(0, n - 1) / awsPagesPerSecond, 0);
    const span = (xs: Attempt[]) =>
      xs.length > 0 ? Math.max(...xs.map((x) => x.end)) - Math.min(...xs.map((x) => x.start)) : 0;
    const listSpanMs = span(reconcileLists);
    const opSpanMs = Object.fromEntries(
      Object.keys(pages).map((op) => [op, span(reconcileLists.filter((x) => x.call === op))]),
    );
    return { calls, simCalls: log.calls.length, attempts: mine, pages, opSpanMs, floorSeconds, listSpanMs };
  }

  const withReport = (
    f: Awaited<ReturnType<typeof finishReconcile>>,
    calls: Awaited<ReturnType<typeof callFigures>>,
  ): RunFigures => {
    const body = f.report as unknown as { counts: Record<string, number>; omitted: number };
    const counts = body.counts;
    return {
      ...f,
      ...calls,
      counts,
      omitted: body.omitted,
      found: Object.values(counts).reduce((a, n) => a + n, 0),
    };
  };

  // Run A: reconcile alone.
  await sim("DELETE", "/_sim/calls");
  attempts.length = 0;
  const startedA = Date.now();
  const aRun = await finishReconcile("A alone", await startReconcile(), startedA);
  const a = withReport(aRun, await callFigures());

  // Run B: reconcile while hosts get a persistent channel, create a session and go live.
  await sleep(300 * TIME_SCALE * 1000 + 50); // past the grace period, as a later scheduled run would be
  await sim("DELETE", "/_sim/calls");
  attempts.length = 0;
  const startedB = Date.now();
  const runB = startReconcile();
  const lifecycles = range(LIFECYCLES).map(async (k) => {
    const host = `bench-new-host-${k}`;
    const token = await rt.token(host);
    const t0 = Date.now();
    const channel = await api("POST", "/admin/channels", { hostUserId: host });
    if (channel.status !== 201) return { ok: false, why: `channel ${channel.status}`, ms: 0 };
    const session = await api("POST", "/sessions", { showId: `bench-${k}` }, token);
    if (session.status !== 201) return { ok: false, why: `session ${session.status}`, ms: 0 };
    const start = await api("POST", `/sessions/${session.body.sessionId}/streaming/start`, undefined, token);
    if (start.status !== 202) return { ok: false, why: `start ${start.status}`, ms: 0 };
    const done = await rt.sfn.waitForExecution(start.body.executionArn, 600_000);
    return { ok: done.status === "SUCCEEDED", why: done.status, ms: Date.now() - t0 };
  });
  const [bRun, outcomes] = await Promise.all([
    runB.then((run) => finishReconcile("B beside go-lives", run, startedB)),
    Promise.all(lifecycles),
  ]);
  // Every call from the start of run B until the last go-live closed (the lifecycles' all count).
  const b = withReport(bRun, await callFigures());

  // DynamoDB read work of one inventory, replayed with the same requests (gatherRecords).
  const readsStarted = Date.now();
  const reads = await dynamoReads(ddb, rt.tableName);
  const readsMs = Date.now() - readsStarted;
  const reports = await reportItems(ddb, rt.tableName);

  // ------------------------------------------------------------ report
  const runs = [a, b];
  const throttles = (f: RunFigures, by: Attempt["by"]) =>
    f.attempts.filter((x) => x.by === by && x.error && THROTTLES.has(x.error)).length;
  console.log(
    "\nrun                   wall ms  AWS s  Take Inventory ms  list span ms (AWS s)  floor AWS s  wall/floor  list/floor  calls  throttles rec/lc  found",
  );
  for (const f of runs) {
    const awsS = f.wallMs / 1000 / TIME_SCALE;
    const listAws = f.listSpanMs / 1000 / TIME_SCALE;
    console.log(
      `${f.name.padEnd(20)}${pad(f.wallMs, 9)}${pad(awsS.toFixed(0), 7)}${pad(f.inventoryMs, 19)}${pad(`${f.listSpanMs.toFixed(0)} (${listAws.toFixed(1)})`, 22)}${pad(f.floorSeconds.toFixed(1), 13)}${pad((awsS / f.floorSeconds).toFixed(1), 12)}${pad((listAws / f.floorSeconds).toFixed(2), 12)}${pad(f.simCalls, 7)}${pad(`${throttles(f, "reconcile")}/${throttles(f, "lifecycles")}`, 18)}${pad(f.found, 7)}`,
    );
  }
  console.log(
    `\nfloor = sum over the paced list operations of (pages - 1) / ${awsPagesPerSecond} pages a second (AWS time; the lists run one after another). AWS s = wall / ${TIME_SCALE}: local CPU time is not scaled, so it overstates AWS time; list span = first to last list call of the inventory.`,
  );
  console.log(
    "\ncalls by service and operation (simulator's log; reconcile's / lifecycles' attempts by castflow's clients; errors)",
  );
  const keys = [...new Set(runs.flatMap((f) => Object.keys(f.calls)))].sort();
  console.log(`${"operation".padEnd(34)}${runs.map((f) => f.name.padStart(28)).join("")}`);
  for (const k of keys) {
    const cells = runs.map((f) => {
      const c = f.calls[k];
      if (!c) return pad("-", 28);
      const rec = f.attempts.filter((x) => x.call === k && x.by === "reconcile").length;
      const lc = f.attempts.filter((x) => x.call === k && x.by === "lifecycles").length;
      const errors = Object.entries(c.errors)
        .map(([e, n]) => `${n} ${e.replace(/Exception$/, "")}`)
        .join(" ");
      const who = k.startsWith("ssm") ? "" : ` (${rec}/${lc})`;
      return pad(`${c.n}${who}${errors ? ` ${errors}` : ""}`, 28);
    });
    console.log(`${k.padEnd(34)}${cells.join("")}`);
  }
  for (const f of runs) {
    const unattributed =
      f.attempts.filter((x) => MEDIA.includes(x.call.split(":")[0] ?? "")).length -
      Object.entries(f.calls)
        .filter(([k]) => !k.startsWith("ssm"))
        .reduce((n, [, c]) => n + c.n, 0);
    console.log(
      `${f.name}: pages ${Object.entries(f.pages)
        .map(([k, n]) => `${k} ${n} in ${(f.opSpanMs[k] ?? 0).toFixed(0)} ms`)
        .join(
          ", ",
        )}; castflow's attempts vs the simulator's MediaLive+IVS+MediaConnect calls: ${unattributed === 0 ? "equal" : `differ by ${unattributed}`}`,
    );
  }
  for (const f of runs) {
    const mine = f.attempts.filter((x) => x.task === takeInventory.name);
    const of = (services: string[]) => mine.filter((x) => services.includes(x.call.split(":")[0] ?? ""));
    const part = (label: string, xs: readonly Attempt[]) =>
      `${label} ${xs.length} calls over ${covered(xs).toFixed(0)} ms`;
    console.log(
      `${f.name}: Take Inventory ${f.inventoryMs} ms = ${part("MediaLive/IVS/MediaConnect", of(MEDIA))}, ${part("DynamoDB", of(["dynamodb"]))}, ${part("Step Functions", of(["states"]))} (all together ${covered(mine).toFixed(0)} ms) + the rest (parsing, classifying, the event loop shared with the simulator) ${(f.inventoryMs - covered(mine)).toFixed(0)} ms`,
    );
  }
  console.log(`\nfindings per class (seeded deliberately: ${countBy(expected.map((e) => e.cls))})`);
  console.log(`${"class".padEnd(14)}${runs.map((f) => f.name.padStart(20)).join("")}`);
  for (const c of FINDING_CLASSES)
    console.log(`${c.padEnd(14)}${runs.map((f) => pad(f.counts[c] ?? 0, 20)).join("")}`);
  console.log(
    `${"found".padEnd(14)}${runs.map((f) => pad(`${f.found} (${f.omitted} omitted)`, 20)).join("")}`,
  );
  const ok = outcomes.filter((o) => o.ok).length;
  console.log(
    `\nrun B lifecycles: ${ok}/${LIFECYCLES} go-lives succeeded (persistent channel + session + go-live each, started with the reconcile; median ${median(outcomes.map((o) => o.ms))} ms)${
      outcomes.some((o) => !o.ok)
        ? `; failed: ${outcomes
            .filter((o) => !o.ok)
            .map((o) => o.why)
            .join(", ")}`
        : ""
    }`,
  );
  console.log(
    "who: every HTTP attempt castflow's own MediaLive, IVS and MediaConnect clients make is recorded inside the SDK's retry loop; it is reconcile's when it is made while one of reconcile's tasks runs (its handler wrapped in an AsyncLocalStorage scope), else the lifecycles' (their tasks and the API).",
  );
  console.log(
    `\nDynamoDB reads of one inventory (gatherRecords, replayed one after another: ${readsMs} ms here): ${reads.map((r) => `${r.what} ${r.pages} pages, ${r.scanned} items read, ${r.returned} returned${r.rcu === undefined ? "" : `, ${r.rcu.toFixed(0)} RCU`}`).join("; ")}`,
  );
  console.log(
    `the Scan reads every item of the table, the ${reports.items} reconcile report items among them (largest ~${(reports.largest / 1024).toFixed(1)} KB as JSON; one run and one pointer item per run, kept ${REPORT_RETENTION_DAYS} days)`,
  );
  console.log(
    `Take Inventory on AWS: floor ${a.floorSeconds.toFixed(1)} s of list pacing alone against its Lambda timeout of ${takeInventory.timeoutSeconds ?? 30} s (the task's timeoutSeconds)`,
  );
  console.log(`\nwhole script ${((Date.now() - scriptStarted) / 1000).toFixed(1)} s`);
}

/** Milliseconds during which at least one of the calls was open. */
function covered(xs: readonly { start: number; end: number }[]): number {
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const x of [...xs].sort((p, q) => p.start - q.start)) {
    if (x.end <= end) continue;
    total += x.end - Math.max(x.start, end);
    end = x.end;
  }
  return total;
}

function countBy(xs: readonly string[]): string {
  const n: Record<string, number> = {};
  for (const x of xs) n[x] = (n[x] ?? 0) + 1;
  return Object.entries(n)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
}

/** What gatherRecords reads: one Scan of the table (sessions), three partition Queries. */
async function dynamoReads(ddb: DynamoDBDocumentClient, table: string) {
  const out: { what: string; pages: number; scanned: number; returned: number; rcu?: number }[] = [];
  const tally = async (
    what: string,
    pages: AsyncIterable<{
      ScannedCount?: number;
      Count?: number;
      ConsumedCapacity?: { CapacityUnits?: number };
    }>,
  ) => {
    const r: { what: string; pages: number; scanned: number; returned: number; rcu?: number } = {
      what,
      pages: 0,
      scanned: 0,
      returned: 0,
    };
    for await (const page of pages) {
      r.pages++;
      r.scanned += page.ScannedCount ?? 0;
      r.returned += page.Count ?? 0;
      if (page.ConsumedCapacity?.CapacityUnits !== undefined)
        r.rcu = (r.rcu ?? 0) + page.ConsumedCapacity.CapacityUnits;
    }
    out.push(r);
  };
  const scan: ScanCommandInput = {
    TableName: table,
    FilterExpression: "begins_with(pk, :prefix) AND sk = :sk",
    ExpressionAttributeValues: { ":prefix": "SESSION#", ":sk": "SESSION" },
    ConsistentRead: true,
    ReturnConsumedCapacity: "TOTAL",
  };
  await tally("sessions (Scan)", paginateScan({ client: ddb }, scan));
  for (const [what, pk, consistent] of [
    ["destinations", DESTINATION_PARTITION, true],
    ["sources", SOURCE_PARTITION, true],
    ["persistent channels", CHANNEL_PARTITION, false],
  ] as const) {
    const query: QueryCommandInput = {
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      ConsistentRead: consistent,
      ReturnConsumedCapacity: "TOTAL",
    };
    await tally(`${what} (Query)`, paginateQuery({ client: ddb }, query));
  }
  return out;
}

/** The reconcile reports in the table (the sessions Scan reads them too), and the largest one's size. */
async function reportItems(ddb: DynamoDBDocumentClient, table: string) {
  let items = 0;
  let largest = 0;
  const query: QueryCommandInput = {
    TableName: table,
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": RECONCILE_PARTITION },
  };
  for await (const page of paginateQuery({ client: ddb }, query))
    for (const item of page.Items ?? []) {
      items++;
      largest = Math.max(largest, JSON.stringify(item).length);
    }
  return { items, largest };
}

// After every declaration above: the helpers are initialised by now.
let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  console.error(err);
} finally {
  await rt.stop();
}
process.exit(exitCode);
