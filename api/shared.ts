import { randomUUID } from "node:crypto";
import {
  CreateInputCommand,
  CreateInputSecurityGroupCommand,
  DeleteInputCommand,
  DeleteInputSecurityGroupCommand,
  type Input,
} from "@aws-sdk/client-medialive";
import { medialive } from "#lib/aws/clients.ts";
import { deleteFlow, describeFlow, stopFlow } from "#lib/aws/mediaconnect.ts";
import {
  channelState,
  findInputSecurityGroupsByTags,
  inputState,
  liveChannelCount,
} from "#lib/aws/medialive.ts";
import { deleteStreamKey, putStreamKey, streamKeyParameter } from "#lib/aws/stream-keys.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import {
  type Destination,
  type DestinationStatus,
  DestinationTags,
  isTransitional,
  Source,
} from "#lib/destinations/model.ts";
import type { Preset } from "#lib/destinations/platforms.ts";
import { interruptedBy, SHARED_ROLE, wantsChannel } from "#lib/destinations/shared-plan.ts";
import { countSharedRequest } from "#lib/destinations/shared-store.ts";
import {
  deleteSourceRecord,
  getDestination,
  getSource,
  listDestinations,
  putNewSource,
  updateDestination,
  updateSource,
} from "#lib/destinations/store.ts";
import { errorName, isNotFound } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags, Tags } from "#lib/sessions/model.ts";
import { secondsBetween } from "#lib/usage.ts";
import { sharedChannelApply } from "#state-machines/destinations/shared-channel-apply/lifecycle.ts";
import type { Caller } from "./auth.ts";
import {
  type CreateDestinationBody,
  checkedUpdate,
  destinationView,
  newDestination,
  putOnReadySource,
  requireNotDeleted,
  type UpdateDestinationBody,
} from "./destinations.ts";
import { isRunning, startLifecycle } from "./executions.ts";
import { ApiError, conflict, fieldError } from "./http.ts";
import type { CreateSourceBody } from "./sources.ts";

/**
 * Shared-channel mode (the "MediaLive Integration" design) in the API: one MediaLive channel per
 * shared source carries one RTMP output per running destination. Every change a destination asks
 * for (start, stop, edit, failover, delete) is one conditional write on the destination (its
 * transitional status, what it now `wanted`, a fresh `requestId`), then one atomic count on the
 * source, then the source's shared-channel-apply: the execution that holds the channel (it sees
 * the count and plans again), or a new one. When the change restarts a running channel, the
 * answer names the destinations it interrupts (`interrupts`) and their status is `restarting`
 * until they receive again: never a silent interruption.
 */

type Answer = { status: 200 | 202; body: Record<string, unknown> };
type Created = { status: 201; body: Record<string, unknown> };

// ---------- sources ----------

/** RTMP's port; MediaLive's RTMP_PUSH inputs listen on it. */
const RTMP_PORT = 1935;
/** How long a request waits for MediaLive to finish deleting an input before it answers "delete again". */
const INPUT_DELETE_WAIT_MS = 5_000;

const sourceTags = (sourceId: string) => ({
  ...managedTags(),
  [DestinationTags.sourceId]: sourceId,
});

/** `rtmp://1.2.3.4:1935/castflow/<id>` -> server `rtmp://1.2.3.4:1935/castflow`, stream name `<id>` (OBS's two fields). */
function endpointsOf(input: Input | undefined): { url: string; streamName: string }[] {
  return (input?.Destinations ?? []).flatMap((d) => {
    if (!d.Url) return [];
    const cut = d.Url.lastIndexOf("/");
    return [{ url: d.Url.slice(0, cut), streamName: d.Url.slice(cut + 1) }];
  });
}

/** Where OBS sends for an rtmp-push source: the server URL and stream key to paste, and the full URL. */
export function sharedIngest(s: Source) {
  const endpoints = s.shared?.input?.endpoints ?? [];
  return {
    protocol: s.protocol,
    port: RTMP_PORT,
    servers: endpoints.map((e) => ({ server: e.url, streamKey: e.streamName })),
    urls: endpoints.map((e) => `${e.url}/${e.streamName}`),
    ...(endpoints[0] ? { url: `${endpoints[0].url}/${endpoints[0].streamName}` } : {}),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (briefly) while the input is in `states`; its state at the end. */
async function inputLeaves(inputId: string, states: readonly string[], budgetMs: number): Promise<string> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const state = await inputState(inputId);
    if (!states.includes(state) || Date.now() > deadline) return state;
    await sleep(100);
  }
}

/**
 * Deletes an rtmp-push source's input, then its input security group (MediaLive refuses to delete
 * a group an input still names, and deleting an input takes a moment). "pending" when MediaLive is
 * not done yet within this request: the caller answers "delete again".
 */
async function deletePushInput(inputId: string | undefined, groupId: string | undefined) {
  if (inputId) {
    const before = await inputLeaves(inputId, ["CREATING"], INPUT_DELETE_WAIT_MS);
    if (before !== "DELETED" && before !== "DELETING") {
      try {
        await medialive().send(new DeleteInputCommand({ InputId: inputId }));
      } catch (err) {
        if (!isNotFound(err)) {
          if (errorName(err) === "ConflictException") return "pending" as const;
          throw err;
        }
      }
    }
    if ((await inputLeaves(inputId, ["DELETING"], INPUT_DELETE_WAIT_MS)) !== "DELETED")
      return "pending" as const;
  }
  if (groupId) {
    try {
      await medialive().send(new DeleteInputSecurityGroupCommand({ InputSecurityGroupId: groupId }));
    } catch (err) {
      if (isNotFound(err)) return "done" as const;
      if (errorName(err) === "ConflictException" || errorName(err) === "BadRequestException")
        return "pending" as const;
      throw err;
    }
  }
  return "done" as const;
}

/** A MediaLive create refused for a quota: 429 naming it, before anything else is made. */
function quotaAnswer(err: unknown, what: string): unknown {
  if (errorName(err) === "TooManyRequestsException" && /quota|limit/i.test(String((err as Error).message)))
    return new ApiError(429, "quota_exceeded", `MediaLive refused to create ${what}: its quota is reached`, {
      quota: what,
    });
  return err;
}

/**
 * POST /admin/sources for `rtmp-push` (OBS): always shared mode. Makes the source's input
 * security group (allowing `allowedCidr`) and its RTMP_PUSH input (SINGLE_INPUT: one endpoint,
 * stream name `castflow/<sourceId>`), both tagged `castflow:managed-by` and `castflow:source`,
 * and answers the ingest server and stream key. If the record cannot be written, both are deleted
 * again.
 */
/** POST /admin/sources for an rtmp-push source: the new record (the caller shows it with `sourceView`). */
export async function createSharedSource(body: CreateSourceBody): Promise<Source> {
  if (body.protocol !== "rtmp-push")
    throw fieldError("protocol", "only rtmp-push sources are created here (a shared flow keeps its flow)");
  if (body.deliveryMode === "per-destination")
    throw fieldError(
      "deliveryMode",
      "rtmp-push sources are always shared (MediaConnect carries no RTMP, so an RTMP_PUSH input feeds one channel)",
    );
  if (body.backupOf !== undefined) throw fieldError("backupOf", "rtmp-push sources have no backup source");
  if (body.port !== undefined) throw fieldError("port", `rtmp-push ingest uses port ${RTMP_PORT}`);
  if (body.encryption !== undefined) throw fieldError("encryption", "applies to SRT sources only");
  const sourceId = randomUUID();
  const allowedCidr = body.allowedCidr ?? "0.0.0.0/0";
  const tags = sourceTags(sourceId);
  let groupId: string | undefined;
  let input: Input | undefined;
  try {
    // CreateInputSecurityGroup has no idempotency token (tried once): the id is new, nothing to find.
    const group = await medialive()
      .send(
        new CreateInputSecurityGroupCommand({
          WhitelistRules: [{ Cidr: allowedCidr }],
          Tags: { ...tags, [Tags.role]: SHARED_ROLE.pushInput },
        }),
      )
      .catch(async (err: unknown) => {
        // A lost answer: look for the group this request made.
        const [found] = await findInputSecurityGroupsByTags(tags).catch(() => []);
        if (found?.Id) return { SecurityGroup: found };
        throw quotaAnswer(err, "the input security group");
      });
    groupId = group.SecurityGroup?.Id;
    if (!groupId) throw new Error("CreateInputSecurityGroup returned no id");
    const res = await medialive()
      .send(
        new CreateInputCommand({
          Name: `castflow-source-${sourceId}`,
          Type: "RTMP_PUSH",
          Destinations: [{ StreamName: `castflow/${sourceId}` }],
          InputSecurityGroups: [groupId],
          RequestId: `castflow-source-${sourceId}-input`,
          Tags: { ...tags, [Tags.role]: SHARED_ROLE.pushInput },
        }),
      )
      .catch((err: unknown) => {
        throw quotaAnswer(err, "an input");
      });
    input = res.Input;
    if (!input?.Id) throw new Error("CreateInput returned an input without an id");
    const now = new Date().toISOString();
    const source = Source.parse({
      sourceId,
      name: body.name,
      protocol: "rtmp-push",
      deliveryMode: "shared",
      priority: body.priority ?? 1,
      allowedCidr,
      status: "ready",
      shared: {
        input: {
          inputId: input.Id,
          inputArn: input.Arn,
          type: "RTMP_PUSH",
          inputSecurityGroupId: groupId,
          endpoints: endpointsOf(input),
        },
        outputs: {},
        requested: 0,
      },
      createdAt: now,
      updatedAt: now,
    });
    await putNewSource(source);
    return source;
  } catch (err) {
    if (groupId || input?.Id)
      await deletePushInput(input?.Id, groupId).catch((e: unknown) =>
        logger.error("Could not delete the input of a failed source create", {
          sourceId,
          error: errorName(e),
        }),
      );
    throw err;
  }
}

/** The flow's users (how many) and billed time as the API shows them (its runs are in GET /admin/cost). */
export function flowFields(s: Source) {
  const { activeSince, activeSeconds } = s.flowUsage;
  return {
    flowUsers: Object.keys(s.flowUsers).length,
    flowUsage: {
      activeSeconds: Math.round(activeSeconds + (activeSince ? secondsBetween(activeSince, new Date()) : 0)),
      ...(activeSince ? { activeSince } : {}),
    },
  };
}

/**
 * DELETE /admin/sources/{id} for a shared source: 409 while destinations use it. A shared channel
 * (or MEDIACONNECT input) still there is removed by shared-channel-apply first (409 naming the
 * execution: delete again once it is done). Then the RTMP_PUSH input and its security group, or
 * the flow (once STANDBY), and the record.
 */
export async function deleteSharedSource(s: Source): Promise<{ status: 200; body: Record<string, unknown> }> {
  // `deleting` first: no destination is added to the source from now on (an add confirms the
  // source is ready after writing its record), so none can appear between this check and the
  // delete. A refusal puts it back to `ready`.
  const marking = await updateSource(s.sourceId, {
    set: { status: "deleting" },
    condition: {
      expression: "#status = :ready OR #status = :deleting",
      values: { ":ready": "ready", ":deleting": "deleting" },
    },
  });
  if (!marking) throw conflict("The source changed meanwhile; read it and try again");
  try {
    return await deleteMarkedSharedSource(marking);
  } catch (err) {
    await updateSource(s.sourceId, { set: { status: "ready" } }).catch(() => undefined);
    throw err;
  }
}

async function deleteMarkedSharedSource(s: Source): Promise<{ status: 200; body: Record<string, unknown> }> {
  const users = (await listDestinations({ sourceId: s.sourceId })).filter((d) => d.status !== "deleted");
  if (users.length > 0)
    throw conflict(`${users.length} destination(s) still use this source; delete them first`, {
      destinations: users.map((d) => ({ destinationId: d.destinationId, status: d.status })),
    });
  const shared = s.shared;
  const channelLeft = shared?.channelId !== undefined && (await channelState(shared.channelId)) !== "DELETED";
  const ownInputLeft =
    shared?.input?.type === "MEDIACONNECT" && (await inputState(shared.input.inputId)) !== "DELETED";
  if (channelLeft || ownInputLeft || (shared?.apply && (await isRunning(shared.apply.executionArn)))) {
    const started = await applySharedChanges(s.sourceId);
    throw conflict("The source's shared channel is being deleted; delete the source again once it is gone", {
      executionArn: started.executionArn,
    });
  }
  if (shared?.input?.type === "RTMP_PUSH") {
    const result = await deletePushInput(shared.input.inputId, shared.input.inputSecurityGroupId);
    if (result === "pending")
      throw conflict("MediaLive is still deleting the source's input; delete the source again shortly", {
        status: "deleting",
      });
  }
  if (s.flow) {
    const flow = await describeFlow(s.flow.flowArn);
    if (flow && flow.Status !== "STANDBY") {
      if (flow.Status === "ACTIVE") await stopFlow(s.flow.flowArn);
      throw conflict("The source's flow is stopping; delete again once it is STANDBY", {
        flowStatus: flow.Status,
      });
    }
    if (flow) await deleteFlow(s.flow.flowArn);
  }
  await deleteSourceRecord(s.sourceId);
  return { status: 200, body: { sourceId: s.sourceId, deleted: true } };
}

/** GET /sources/{id}/status for an rtmp-push source: its input, its shared channel, its destinations. */
export async function sharedSourceStatus(s: Source) {
  const shared = s.shared;
  const destinations = (await listDestinations({ sourceId: s.sourceId })).filter(
    (d) => d.status !== "deleted",
  );
  return {
    sourceId: s.sourceId,
    name: s.name,
    protocol: s.protocol,
    deliveryMode: "shared",
    inputState: shared?.input ? await inputState(shared.input.inputId) : "DELETED",
    channel: {
      channelId: shared?.channelId ?? null,
      state: shared?.channelId ? await channelState(shared.channelId) : null,
      outputs: Object.keys(shared?.outputs ?? {}).length,
    },
    // MediaLive reports no RTMP push input health through its API; castflow does not guess.
    health: null,
    runningDestinations: destinations.filter((d) => d.status === "running").map((d) => d.destinationId),
    destinations: destinations.length,
    checkedAt: new Date().toISOString(),
  };
}

/**
 * No apply could be started for a request (throttled, or the source is gone): the destination goes
 * back to what it was, and the destinations marked `restarting` for it back to `running`, each
 * only if nothing wrote it since, so no record stays transitional without an execution.
 */
async function giveBack(
  before: Destination,
  written: Destination,
  marked: { id: string; requestId: string }[],
) {
  const sameRequest = (requestId: string | undefined) => ({
    expression: "#requestId = :requestId",
    values: { ":requestId": requestId },
  });
  const restore = (x: Destination) =>
    Object.fromEntries(
      Object.entries({ status: x.status, wanted: x.wanted, requestId: x.requestId }).filter(
        ([, v]) => v !== undefined,
      ),
    );
  await updateDestination(before.destinationId, {
    set: restore(before),
    condition: sameRequest(written.requestId),
  }).catch((err: unknown) =>
    logger.error("Could not give back a destination whose apply did not start", { error: errorName(err) }),
  );
  for (const m of marked)
    await updateDestination(m.id, { set: { status: "running" }, condition: sameRequest(m.requestId) }).catch(
      () => undefined,
    );
}

// ---------- the apply ----------

/**
 * Counts a change on the source's shared channel and returns the apply that will make it: the one
 * holding the channel now (it plans again, because the count moved before it could let go), or a
 * new `shared-channel-apply-<sourceId>-<n>` (concurrent requests compute the same name and input:
 * Step Functions starts one).
 */
async function applySharedChanges(sourceId: string) {
  const source = await countSharedRequest(sourceId);
  if (!source) throw conflict("The source no longer exists");
  const holder = source.shared?.apply?.executionArn;
  if (holder && (await isRunning(holder)))
    return {
      executionArn: holder,
      executionName: holder.slice(holder.lastIndexOf(":") + 1),
      startDate: source.shared?.apply?.startedAt,
    };
  const name = sharedChannelApply.name;
  const from = source.executionCounters?.[name] ?? 0;
  // From the next number: the last one may still be running its final states after letting the
  // channel go, and Step Functions would answer with it instead of starting an apply that plans.
  const started = await startLifecycle(sharedChannelApply, from + 1, (n) => ({ sourceId, attempt: n }));
  await updateSource(sourceId, {
    set: { executionCounters: { ...source.executionCounters, [name]: Math.max(started.n, from) } },
  }).catch((err: unknown) =>
    logger.warn("Could not record the execution counter", { sourceId, error: errorName(err) }),
  );
  return {
    executionArn: started.executionArn,
    executionName: started.executionName,
    startDate: started.startDate,
  };
}

/** How a request changes a destination (its status, what it wants) and any settings written with it. */
interface Change {
  readonly status: DestinationStatus;
  readonly wanted: "running" | "idle" | "deleted";
  readonly set?: Record<string, unknown>;
}

const MAX_WRITE_ATTEMPTS = 4;

/**
 * Writes the change onto the destination (conditioned on the version read; a race with the apply's
 * own writes is read again), marks the destinations it interrupts `restarting`, and has the
 * shared channel apply it. `change` is computed from the destination as read each time.
 */
async function request(first: Destination, change: (d: Destination) => Change | Answer): Promise<Answer> {
  let d = first;
  for (let attempt = 1; ; attempt++) {
    const c = change(d);
    if ("body" in c) return c;
    const others = (await listDestinations({ sourceId: d.sourceId })).filter(
      (x) => x.destinationId !== d.destinationId && x.status !== "deleted",
    );
    const wasOnChannel = wantsChannel(d);
    // A destination joining, leaving or changing its output restarts a running channel.
    const interrupts = wasOnChannel || c.wanted === "running" ? interruptedBy(others, d.destinationId) : [];
    const saved = await updateDestination(d.destinationId, {
      set: { ...c.set, status: c.status, wanted: c.wanted, requestId: randomUUID() },
      remove: ["error"],
      condition: atVersion(d.version),
    });
    if (saved) {
      const marked: { id: string; requestId: string }[] = [];
      let execution: Awaited<ReturnType<typeof applySharedChanges>>;
      try {
        for (const id of interrupts) {
          const requestId = randomUUID();
          const restarting = await updateDestination(id, {
            set: { status: "restarting", requestId },
            condition: {
              expression: "#status IN (:running, :restarting) AND #wanted = :running",
              values: { ":running": "running", ":restarting": "restarting" },
            },
          });
          if (restarting) marked.push({ id, requestId });
        }
        execution = await applySharedChanges(d.sourceId);
      } catch (err) {
        await giveBack(d, saved, marked);
        throw err;
      }
      return {
        status: 202,
        body: {
          destinationId: d.destinationId,
          status: c.status,
          wanted: c.wanted,
          interrupts,
          ...execution,
        },
      };
    }
    const again = await getDestination(d.destinationId);
    if (!again || attempt >= MAX_WRITE_ATTEMPTS)
      throw conflict("The destination changed while the request was written; try again");
    d = again;
  }
}

/** The same change is already pending: have the apply look again, announce nothing new. */
async function pending(d: Destination): Promise<Answer> {
  const execution = await applySharedChanges(d.sourceId);
  return {
    status: 202,
    body: {
      destinationId: d.destinationId,
      status: d.status,
      wanted: d.wanted,
      interrupts: [],
      ...execution,
    },
  };
}

// ---------- destinations ----------

/**
 * POST /destinations on a shared source: the keys go to SSM, the record is written `idle` (201):
 * nothing to create until it starts, since the source's shared channel carries it then.
 */
export async function addSharedDestination(
  caller: Caller,
  body: CreateDestinationBody,
  source: Source,
  settings: { rtmpUrl: string; backupRtmpUrl?: string; preset: Preset },
): Promise<Created> {
  const destinationId = randomUUID();
  const primary = streamKeyParameter(destinationId, "primary");
  const backup = body.backupStreamKey !== undefined ? streamKeyParameter(destinationId, "backup") : undefined;
  const now = new Date().toISOString();
  try {
    const streamKeyVersion = await putStreamKey(primary, body.streamKey);
    const backupStreamKeyVersion =
      backup && body.backupStreamKey !== undefined
        ? await putStreamKey(backup, body.backupStreamKey)
        : undefined;
    const record = newDestination(caller, body, source, settings, destinationId, now, {
      deliveryMode: "shared",
      streamKeyVersion,
      ...(backupStreamKeyVersion !== undefined ? { backupStreamKeyVersion } : {}),
      status: "idle",
      wanted: "idle",
    });
    await putOnReadySource(record);
  } catch (err) {
    await Promise.all(
      [primary, backup].filter((p): p is string => !!p).map((p) => deleteStreamKey(p).catch(() => undefined)),
    );
    throw err;
  }
  const d = (await getDestination(destinationId)) as Destination;
  return { status: 201, body: { ...destinationView(d), interrupts: [] } };
}

/** POST /destinations/{id}/start (shared): the channel starts with the first destination; a running one restarts. */
export async function startSharedDestination(d: Destination): Promise<Answer> {
  requireNotDeleted(d);
  if (d.wanted === "running" && d.status === "running")
    return { status: 200, body: { destinationId: d.destinationId, status: "running", interrupts: [] } };
  if (d.wanted === "running" && isTransitional(d.status)) return await pending(d);
  const source = await getSource(d.sourceId);
  if (source?.status !== "ready")
    throw conflict("The destination's source is not ready", { sourceId: d.sourceId });
  const channelId = source.shared?.channelId;
  if (!channelId || (await channelState(channelId)) === "DELETED") {
    const quota = config().MEDIALIVE_CHANNEL_QUOTA;
    const channels = await liveChannelCount();
    if (channels >= quota)
      throw new ApiError(
        429,
        "quota_exceeded",
        `MediaLive channel quota reached: ${channels} of ${quota} channels exist in this region; the source's shared channel cannot be created`,
        { quota: "medialive-channels", used: channels, limit: quota },
      );
  }
  return await request(d, (now) => {
    requireNotDeleted(now);
    return { status: "starting", wanted: "running" };
  });
}

/** POST /destinations/{id}/stop (shared): the channel drops its output (restarting the others) or stops with the last one. */
export async function stopSharedDestination(d: Destination): Promise<Answer> {
  requireNotDeleted(d);
  if (d.status === "idle")
    return { status: 200, body: { destinationId: d.destinationId, status: "idle", interrupts: [] } };
  if (d.wanted === "idle" && isTransitional(d.status)) return await pending(d);
  return await request(d, (now) => {
    requireNotDeleted(now);
    if (now.status === "idle")
      return { status: 200, body: { destinationId: d.destinationId, status: "idle", interrupts: [] } };
    return { status: "stopping", wanted: "idle" };
  });
}

/**
 * PUT /destinations/{id} (shared). Settings are stored (keys in SSM, with their versions); a
 * destination that is on the channel (wants to run) is `updating` and the channel is stopped,
 * updated and started again, interrupting the others (`interrupts`). A destination that is not on
 * the channel only changes its record (200): the channel gets its settings when it starts.
 */
export async function updateSharedDestination(d: Destination, body: UpdateDestinationBody): Promise<Answer> {
  requireNotDeleted(d);
  const { settings, backupUrl, failover, channelChange } = checkedUpdate(d, body);
  const set: Record<string, unknown> = {
    name: body.name,
    rtmpUrl: settings.rtmpUrl,
    preset: settings.preset,
    backupRtmpUrl: backupUrl,
    failoverEnabled: failover,
  };
  if (body.streamKey !== undefined)
    set.streamKeyVersion = await putStreamKey(d.streamKeyParameter, body.streamKey);
  if (body.backupStreamKey !== undefined) {
    const backupParameter = d.backupStreamKeyParameter ?? streamKeyParameter(d.destinationId, "backup");
    set.backupStreamKeyParameter = backupParameter;
    set.backupStreamKeyVersion = await putStreamKey(backupParameter, body.backupStreamKey);
  }
  const onChannel = (x: Destination) => wantsChannel(x);
  if (channelChange && onChannel(d)) {
    const answer = await request(d, (now) => {
      requireNotDeleted(now);
      return { status: "updating", wanted: "running", set };
    });
    return { ...answer, body: { ...answer.body, restarts: true } };
  }
  const saved = await updateDestination(d.destinationId, { set, condition: atVersion(d.version) });
  if (!saved) throw conflict("The destination changed while it was being edited; read it and try again");
  return { status: 200, body: { ...destinationView(saved), restarts: false, interrupts: [] } };
}

/**
 * POST /destinations/{id}/failover (shared): the destination's output moves to its backup URL and
 * key (or back); on a running channel that is a restart like any other edit, named in `interrupts`.
 */
export async function failoverSharedDestination(d: Destination, to: "primary" | "backup"): Promise<Answer> {
  requireNotDeleted(d);
  if (to === "backup" && (!d.backupRtmpUrl || !d.backupStreamKeyParameter))
    throw fieldError("to", "the destination has no backup URL and key");
  if (d.activeUrl === to)
    return { status: 200, body: { destinationId: d.destinationId, activeUrl: to, status: d.status } };
  const set = { activeUrl: to, "metrics.failovers": d.metrics.failovers + 1 };
  if (wantsChannel(d)) {
    const answer = await request(d, (now) => {
      requireNotDeleted(now);
      // Decided again on the record as it is now (the request may re-read it): a failover that
      // already happened is answered as such, and one on a destination stopped meanwhile would
      // start it against its owner's wish.
      if (now.activeUrl === to)
        return { status: 200, body: { destinationId: now.destinationId, activeUrl: to, status: now.status } };
      if (!wantsChannel(now))
        throw conflict(`The destination is ${now.status}; fail it over once it settles`, {
          status: now.status,
        });
      return {
        status: "updating",
        wanted: "running",
        set: { ...set, "metrics.failovers": now.metrics.failovers + 1 },
      };
    });
    return { ...answer, body: { ...answer.body, activeUrl: to, restarts: true } };
  }
  const saved = await updateDestination(d.destinationId, { set, condition: atVersion(d.version) });
  if (!saved) throw conflict("The destination changed meanwhile; read it and try again");
  return { status: 200, body: { destinationId: d.destinationId, activeUrl: to, status: saved.status } };
}

/**
 * DELETE /destinations/{id} (shared): its output leaves the channel (a restart for the others when
 * it ran), its stream key parameters are deleted and the record ends `deleted`; the last
 * destination of a source takes the shared channel with it.
 */
export async function deleteSharedDestination(d: Destination): Promise<Answer> {
  if (d.status === "deleted")
    return {
      status: 200,
      body: { destinationId: d.destinationId, status: "deleted", deletedAt: d.deletedAt },
    };
  if (d.status === "deleting" && d.wanted === "deleted") return await pending(d);
  return await request(d, (now) => {
    if (now.status === "deleted")
      return {
        status: 200,
        body: { destinationId: d.destinationId, status: "deleted", deletedAt: now.deletedAt },
      };
    return { status: "deleting", wanted: "deleted" };
  });
}
