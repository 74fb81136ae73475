import { randomUUID } from "node:crypto";
import * as z from "zod";
import { ownerIsActive } from "#lib/aws/executions.ts";
import { describeFlow } from "#lib/aws/mediaconnect.ts";
import { liveChannelCount } from "#lib/aws/medialive.ts";
import { putStreamKey, streamKeyParameter } from "#lib/aws/stream-keys.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { config, stateMachineArn } from "#lib/config.ts";
import {
  type Destination,
  type DestinationStatus,
  type NewDestination,
  type Source,
  TRANSITIONAL,
  uncountedRunningSeconds,
} from "#lib/destinations/model.ts";
import {
  PLATFORM_SPECS,
  PLATFORMS,
  type Platform,
  PRESETS,
  type Preset,
  presetProblem,
  rtmpUrlProblem,
  streamKeyProblem,
} from "#lib/destinations/platforms.ts";
import { channelCost, ratesView } from "#lib/destinations/rates.ts";
import {
  confirmSourceReady,
  deleteDestinationRecord,
  getDestination,
  getSource,
  heldBy,
  listDestinations,
  putNewDestination,
  updateDestination,
} from "#lib/destinations/store.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { destinationAdd } from "#state-machines/destinations/destination-add/lifecycle.ts";
import { destinationDelete } from "#state-machines/destinations/destination-delete/lifecycle.ts";
import { destinationStart } from "#state-machines/destinations/destination-start/lifecycle.ts";
import { destinationStop } from "#state-machines/destinations/destination-stop/lifecycle.ts";
import { destinationUpdate } from "#state-machines/destinations/destination-update/lifecycle.ts";
import type { DestinationExecutionInput } from "#state-machines/destinations/lifecycles.ts";
import { executionName, type Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import type { Caller } from "./auth.ts";
import { startLifecycle } from "./executions.ts";
import { ApiError, conflict, fieldError, notFound } from "./http.ts";
import {
  addSharedDestination,
  deleteSharedDestination,
  failoverSharedDestination,
  startSharedDestination,
  stopSharedDestination,
  updateSharedDestination,
} from "./shared.ts";
import { Id } from "./validation.ts";

/** MediaConnect: 50 outputs per flow, not adjustable (aws-facts.md). */
export const FLOW_OUTPUT_LIMIT = 50;

const Name = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
/** A stream key is checked against the platform below; here only its type, so the message names the platform rule. */
const Key = z.string({ error: "must be a string" });
const Url = z.string({ error: "must be a string" });

export const CreateDestinationBody = z.strictObject({
  name: Name,
  platform: z.enum(PLATFORMS, { error: `must be one of ${PLATFORMS.join(", ")}` }),
  sourceId: Id,
  streamKey: Key,
  rtmpUrl: Url.optional(),
  preset: z.enum(PRESETS, { error: `must be one of ${PRESETS.join(", ")}` }).optional(),
  backupRtmpUrl: Url.optional(),
  backupStreamKey: Key.optional(),
  failoverEnabled: z.boolean().optional(),
});
export type CreateDestinationBody = z.infer<typeof CreateDestinationBody>;

export const UpdateDestinationBody = z
  .strictObject({
    name: Name.optional(),
    rtmpUrl: Url.optional(),
    streamKey: Key.optional(),
    preset: z.enum(PRESETS, { error: `must be one of ${PRESETS.join(", ")}` }).optional(),
    backupRtmpUrl: Url.optional(),
    backupStreamKey: Key.optional(),
    failoverEnabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "must change at least one field" });
export type UpdateDestinationBody = z.infer<typeof UpdateDestinationBody>;

export const FailoverBody = z.strictObject({
  to: z.enum(["primary", "backup"], { error: 'must be "primary" or "backup"' }),
});

/** The settings a destination pushes with, checked against its platform; 400 naming the field otherwise. */
export function checkedSettings(
  platform: Platform,
  s: {
    rtmpUrl?: string | undefined;
    streamKey?: string | undefined;
    backupRtmpUrl?: string | undefined;
    backupStreamKey?: string | undefined;
    preset?: Preset | undefined;
  },
): { rtmpUrl: string; backupRtmpUrl?: string; preset: Preset } {
  const spec = PLATFORM_SPECS[platform];
  const rtmpUrl = s.rtmpUrl ?? spec.rtmpUrl;
  if (!rtmpUrl) throw fieldError("rtmpUrl", `is required for ${platform} (it has no fixed ingest URL)`);
  const urlProblem = rtmpUrlProblem(platform, rtmpUrl);
  if (urlProblem) throw fieldError("rtmpUrl", urlProblem);
  if (s.streamKey !== undefined) {
    const keyProblem = streamKeyProblem(platform, s.streamKey);
    if (keyProblem) throw fieldError("streamKey", keyProblem);
  }
  if (s.backupRtmpUrl !== undefined) {
    const p = rtmpUrlProblem(platform, s.backupRtmpUrl);
    if (p) throw fieldError("backupRtmpUrl", p);
  }
  if (s.backupStreamKey !== undefined) {
    const p = streamKeyProblem(platform, s.backupStreamKey);
    if (p) throw fieldError("backupStreamKey", p);
  }
  const preset = s.preset ?? spec.defaultPreset;
  const presetIssue = presetProblem(platform, preset);
  if (presetIssue) throw fieldError("preset", presetIssue);
  const backupRtmpUrl = s.backupRtmpUrl ?? (s.backupStreamKey !== undefined ? spec.backupRtmpUrl : undefined);
  return { rtmpUrl, preset, ...(backupRtmpUrl ? { backupRtmpUrl } : {}) };
}

/** What the API shows of a destination: never a stream key, nor a part of one, nor its parameter name. */
export function destinationView(d: Destination) {
  const {
    streamKeyParameter: _k,
    backupStreamKeyParameter: backupKey,
    executionCounters: _c,
    operation,
    version: _v,
    ...rest
  } = d;
  const { runs: _runs, ...metrics } = d.metrics;
  return {
    ...rest,
    metrics,
    streamKeySet: true,
    backupStreamKeySet: backupKey !== undefined,
    ...(operation ? { executionArn: operation.executionArn, operationStartedAt: operation.startedAt } : {}),
  };
}

/** The destination, if the caller may see it (its owner or an admin); others get 404, not 403. */
export async function destinationFor(caller: Caller, destinationId: string): Promise<Destination> {
  const d = Id.safeParse(destinationId).success ? await getDestination(destinationId) : undefined;
  if (!d || (d.ownerUserId !== caller.userId && !caller.isAdmin)) throw notFound("Destination");
  return d;
}

/** A new destination record from a checked create request; `extra` sets the mode's fields. */
export function newDestination(
  caller: Caller,
  body: CreateDestinationBody,
  source: Source,
  settings: { rtmpUrl: string; backupRtmpUrl?: string; preset: Preset },
  destinationId: string,
  now: string,
  extra: Partial<NewDestination> & Pick<NewDestination, "status">,
): Destination {
  return {
    destinationId,
    ownerUserId: caller.userId,
    name: body.name,
    platform: body.platform,
    sourceId: source.sourceId,
    deliveryMode: source.deliveryMode,
    rtmpUrl: settings.rtmpUrl,
    ...(settings.backupRtmpUrl ? { backupRtmpUrl: settings.backupRtmpUrl } : {}),
    preset: settings.preset,
    failoverEnabled: body.failoverEnabled ?? false,
    activeUrl: "primary",
    streamKeyParameter: streamKeyParameter(destinationId, "primary"),
    ...(body.backupStreamKey !== undefined
      ? { backupStreamKeyParameter: streamKeyParameter(destinationId, "backup") }
      : {}),
    mediaLive: {},
    metrics: { starts: 0, failovers: 0, runningSeconds: 0 },
    createdAt: now,
    updatedAt: now,
    ...extra,
  } as Destination;
}

/**
 * Stores a new destination, then confirms its source is still `ready` (one conditional write on
 * the source): a source delete that marked it `deleting` meanwhile either sees this destination or
 * makes this fail, and then the record is withdrawn (409). No destination on a deleted source.
 */
export async function putOnReadySource(d: Destination): Promise<void> {
  await putNewDestination(d);
  if (!(await confirmSourceReady(d.sourceId))) {
    await deleteDestinationRecord(d.destinationId);
    throw conflict("The source is being deleted", { sourceStatus: "deleting" });
  }
}

/**
 * POST /destinations. Checks everything before creating anything (platform, URLs, key shape,
 * preset against the platform's limit, the source, the MediaLive channel quota and the flow's 50
 * outputs), stores the stream keys as SSM SecureString parameters, writes the record `creating`
 * and starts destination-add. If the execution cannot be started the record becomes `error`.
 */
export async function createDestination(caller: Caller, body: CreateDestinationBody) {
  const settings = checkedSettings(body.platform, body);
  if (body.backupStreamKey !== undefined && !settings.backupRtmpUrl)
    throw fieldError(
      "backupRtmpUrl",
      `is required with backupStreamKey (${body.platform} has no default backup URL)`,
    );
  if (body.backupRtmpUrl !== undefined && body.backupStreamKey === undefined)
    throw fieldError("backupStreamKey", "is required with backupRtmpUrl");
  if (body.failoverEnabled && !settings.backupRtmpUrl)
    throw fieldError("failoverEnabled", "needs a backup URL and key to fail over to");
  const source = await getSource(body.sourceId);
  if (!source) throw notFound("Source");
  if (source.status !== "ready")
    throw conflict(`The source is ${source.status}`, { sourceStatus: source.status });
  if (source.backupOf)
    throw conflict("The source is a backup; add destinations to its primary source", {
      primarySourceId: source.backupOf,
    });
  if (source.deliveryMode === "shared" || source.protocol === "rtmp-push")
    return await addSharedDestination(caller, body, source, settings);
  if (!source.flow) throw conflict("The source has no flow", { deliveryMode: source.deliveryMode });
  const quota = config().MEDIALIVE_CHANNEL_QUOTA;
  const channels = await liveChannelCount();
  if (channels >= quota)
    throw new ApiError(
      429,
      "quota_exceeded",
      `MediaLive channel quota reached: ${channels} of ${quota} channels exist in this region; delete a destination or raise the quota (MEDIALIVE_CHANNEL_QUOTA)`,
      { quota: "medialive-channels", used: channels, limit: quota },
    );
  const flow = await describeFlow(source.flow.flowArn);
  const outputs = flow?.Outputs?.length ?? 0;
  if (outputs >= FLOW_OUTPUT_LIMIT)
    throw conflict(
      `The source's flow has ${outputs} of ${FLOW_OUTPUT_LIMIT} outputs (MediaConnect's fixed limit)`,
      {
        quota: "flow-outputs",
        used: outputs,
        limit: FLOW_OUTPUT_LIMIT,
      },
    );

  const destinationId = randomUUID();
  const now = new Date().toISOString();
  const addArn = executionArnOf(destinationAdd, destinationId, 1);
  const record = newDestination(caller, body, source, settings, destinationId, now, {
    status: "creating",
    // The add's execution is named before it starts, so the record is held from its first write.
    operation: { lifecycle: "destination-add", executionArn: addArn, startedAt: now },
    executionCounters: { [destinationAdd.name]: 1 },
  });
  const primaryParameter = record.streamKeyParameter;
  const backupParameter = record.backupStreamKeyParameter;
  // Record first, then the keys: a request that dies in between leaves a record (which delete
  // cleans up), never a key parameter nothing refers to.
  await putOnReadySource(record);
  let started: Started;
  try {
    await putStreamKey(primaryParameter, body.streamKey);
    if (backupParameter && body.backupStreamKey !== undefined)
      await putStreamKey(backupParameter, body.backupStreamKey);
    started = await startHeld(destinationAdd, destinationId, 1);
  } catch (err) {
    await updateDestination(destinationId, {
      set: {
        status: "error",
        error: {
          code: "AddNotStarted",
          message: "The add could not be started; delete the destination and add it again",
        },
      },
      remove: ["operation"],
      condition: heldBy(addArn, "creating"),
    }).catch(() => undefined);
    throw err;
  }
  const d = (await getDestination(destinationId)) as Destination;
  return { status: 202 as const, body: { ...destinationView(d), status: "creating", ...started } };
}

/** GET /destinations: the caller's (admins: everyone's), newest first; deleted ones only with `includeDeleted=true`. */
export async function listDestinationsFor(caller: Caller, query: Record<string, string | undefined>) {
  if (query.sourceId !== undefined && !Id.safeParse(query.sourceId).success)
    throw fieldError("sourceId", "is not a valid id");
  const all = await listDestinations({
    ...(caller.isAdmin ? {} : { ownerUserId: caller.userId }),
    ...(query.sourceId ? { sourceId: query.sourceId } : {}),
  });
  const shown = query.includeDeleted === "true" ? all : all.filter((d) => d.status !== "deleted");
  return { destinations: shown.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(destinationView) };
}

type Response = { status: 200 | 202; body: Record<string, unknown> };

/**
 * A lifecycle already holds the destination: the same lifecycle answers its execution (a repeated
 * request starts nothing), another one is 409 naming the status, so no request is silently
 * dropped. A destination held by an execution that has closed is free (the claim takes it over).
 */
async function busy(d: Destination, lifecycle: Lifecycle): Promise<Response | undefined> {
  if (!TRANSITIONAL.includes(d.status)) return undefined;
  const owner = d.operation?.executionArn;
  if (!owner || !d.operation || !(await ownerIsActive(owner, d.operation.startedAt))) return undefined;
  if (d.operation.lifecycle === lifecycle.name)
    return { status: 202, body: { destinationId: d.destinationId, status: d.status, executionArn: owner } };
  throw conflict(`The destination is ${d.status}; try again once it settles`, {
    status: d.status,
    executionArn: owner,
  });
}

type Started = { executionArn: string; executionName: string; startDate: string };

/** The ARN the execution `<lifecycle>-<destinationId>-<n>` will have. */
function executionArnOf(lifecycle: Lifecycle, destinationId: string, n: number): string {
  const machine = stateMachineArn(lifecycle.name);
  return `${machine.replace(":stateMachine:", ":execution:")}:${executionName(lifecycle, destinationId, n)}`;
}

/**
 * Starts the execution the record already names (`<lifecycle>-<id>-<n>`). Names come from the
 * record's counter, written in the same conditional write that holds the destination, so the name
 * is free; should a closed execution hold it anyway, the next name is taken and the record follows.
 */
async function startHeld(
  lifecycle: Lifecycle<typeof DestinationExecutionInput>,
  destinationId: string,
  n: number,
): Promise<Started> {
  const started = await startLifecycle(lifecycle, n, (k) => ({ destinationId, attempt: k }));
  if (started.n !== n) {
    const expected = executionArnOf(lifecycle, destinationId, n);
    await updateDestination(destinationId, {
      set: {
        "operation.executionArn": started.executionArn,
        [`executionCounters.${lifecycle.name}`]: started.n,
      },
      condition: heldBy(expected),
    });
  }
  return {
    executionArn: started.executionArn,
    executionName: started.executionName,
    startDate: started.startDate,
  };
}

/**
 * Holds the destination for `lifecycle` and starts it: one conditional write (at the version
 * read) moves the status to the lifecycle's transitional one, names the execution about to start
 * as its owner and advances the counter; then the execution starts, and its claim finds the
 * destination already its own. From that write on, any other request sees the destination busy
 * (409, or this execution for the same request), so no request is answered and then dropped. A
 * request that lost the write answers 409; if the start fails, the record goes back as it was.
 */
async function run(
  d: Destination,
  lifecycle: Lifecycle<typeof DestinationExecutionInput>,
  status: DestinationStatus,
  change: {
    /** Settings the execution applies, written in the same conditional write (dotted paths). */
    readonly set?: Record<string, unknown>;
    /** Done after the write and before the start (storing new stream keys in SSM). */
    readonly beforeStart?: () => Promise<void>;
  } = {},
): Promise<Started> {
  const n = (d.executionCounters?.[lifecycle.name] ?? 0) + 1;
  const executionArn = executionArnOf(lifecycle, d.destinationId, n);
  const held = await updateDestination(d.destinationId, {
    set: {
      ...change.set,
      status,
      operation: { lifecycle: lifecycle.name, executionArn, startedAt: new Date().toISOString() },
      executionCounters: { ...d.executionCounters, [lifecycle.name]: n },
    },
    condition: atVersion(d.version),
  });
  if (!held) {
    // A concurrent request got there first. The same request (a double click, a retry) gets that
    // execution, as Step Functions' own name idempotency would give it; another one is a conflict.
    const now = await getDestination(d.destinationId);
    const op = now?.operation;
    if (op?.lifecycle === lifecycle.name && now && TRANSITIONAL.includes(now.status))
      return {
        executionArn: op.executionArn,
        executionName: op.executionArn.slice(op.executionArn.lastIndexOf(":") + 1),
        startDate: op.startedAt,
      };
    throw conflict("The destination changed while handling this request; read it and try again", {
      status: now?.status,
    });
  }
  try {
    await change.beforeStart?.();
    return await startHeld(lifecycle, d.destinationId, n);
  } catch (err) {
    // Give the record back as it was: the settings too, so the next lifecycle does not apply
    // what this request could not.
    const previous: Record<string, unknown> = {};
    const gone: string[] = [];
    for (const path of Object.keys(change.set ?? {})) {
      const value = path
        .split(".")
        .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], d);
      if (value === undefined) gone.push(path);
      else previous[path] = value;
    }
    await updateDestination(d.destinationId, {
      set: { ...previous, status: d.status, operation: d.operation },
      ...(d.operation ? { remove: gone } : { remove: [...gone, "operation"] }),
      condition: heldBy(executionArn),
    }).catch((e: unknown) =>
      logger.error("Could not give back a destination whose execution did not start", {
        destinationId: d.destinationId,
        error: errorName(e),
      }),
    );
    throw err;
  }
}

export function requireNotDeleted(d: Destination): void {
  if (d.status === "deleted" || d.status === "deleting")
    throw conflict(`The destination is ${d.status}`, { status: d.status });
}

/** POST /destinations/{id}/start: 202 with the execution; 200 when it already runs. */
export async function startDestination(d: Destination): Promise<Response> {
  if (d.deliveryMode === "shared") return await startSharedDestination(d);
  requireNotDeleted(d);
  const held = await busy(d, destinationStart);
  if (held) return held;
  if (d.status === "running")
    return { status: 200, body: { destinationId: d.destinationId, status: "running" } };
  if (!d.mediaLive.channelId)
    throw conflict("The destination has no channel (its add failed); delete it and add it again", {
      status: d.status,
    });
  const source = await getSource(d.sourceId);
  if (source?.status !== "ready")
    throw conflict("The destination's source is not ready", { sourceId: d.sourceId });
  return {
    status: 202,
    body: {
      destinationId: d.destinationId,
      status: "starting",
      ...(await run(d, destinationStart, "starting")),
    },
  };
}

/** POST /destinations/{id}/stop: 202 with the execution; 200 when it is already idle. */
export async function stopDestination(d: Destination): Promise<Response> {
  if (d.deliveryMode === "shared") return await stopSharedDestination(d);
  requireNotDeleted(d);
  const held = await busy(d, destinationStop);
  if (held) return held;
  if (d.status === "idle") return { status: 200, body: { destinationId: d.destinationId, status: "idle" } };
  return {
    status: 202,
    body: {
      destinationId: d.destinationId,
      status: "stopping",
      ...(await run(d, destinationStop, "stopping")),
    },
  };
}

/**
 * A PUT's settings, checked against the destination's platform and what it already has (400
 * naming the field): the resulting URLs, preset and failover flag, and whether the channel must
 * change (URL, key or preset) or only the record (name, failover).
 */
export function checkedUpdate(d: Destination, body: UpdateDestinationBody) {
  const settings = checkedSettings(d.platform, {
    rtmpUrl: body.rtmpUrl ?? d.rtmpUrl,
    streamKey: body.streamKey,
    backupRtmpUrl: body.backupRtmpUrl,
    backupStreamKey: body.backupStreamKey,
    preset: body.preset ?? d.preset,
  });
  const backupUrl =
    body.backupRtmpUrl ??
    d.backupRtmpUrl ??
    (body.backupStreamKey !== undefined ? settings.backupRtmpUrl : undefined);
  if (body.backupStreamKey !== undefined && !backupUrl)
    throw fieldError(
      "backupRtmpUrl",
      `is required with backupStreamKey (${d.platform} has no default backup URL)`,
    );
  if (body.backupRtmpUrl !== undefined && body.backupStreamKey === undefined && !d.backupStreamKeyParameter)
    throw fieldError("backupStreamKey", "is required with backupRtmpUrl");
  const failover = body.failoverEnabled ?? d.failoverEnabled;
  if (failover && !backupUrl)
    throw fieldError("failoverEnabled", "needs a backup URL and key to fail over to");
  const channelChange =
    body.rtmpUrl !== undefined ||
    body.streamKey !== undefined ||
    body.preset !== undefined ||
    body.backupRtmpUrl !== undefined ||
    body.backupStreamKey !== undefined;
  return { settings, backupUrl, failover, channelChange };
}

/**
 * PUT /destinations/{id}. The name and `failoverEnabled` change the record only (200). URLs, keys
 * and preset are stored (keys in SSM) and written into the destination's own channel by
 * destination-update (202): an idle channel is updated in place, a running one is stopped,
 * updated and started again. Only this destination is interrupted (`interrupts` is empty: no other
 * destination shares its channel).
 */
export async function updateDestinationSettings(
  d: Destination,
  body: UpdateDestinationBody,
): Promise<Response> {
  if (d.deliveryMode === "shared") return await updateSharedDestination(d, body);
  requireNotDeleted(d);
  const { settings, backupUrl, failover, channelChange } = checkedUpdate(d, body);
  if (channelChange) {
    const held = await busy(d, destinationUpdate);
    if (held)
      throw conflict(`The destination is ${d.status}; try again once it settles`, { status: d.status });
    if (!d.mediaLive.channelId)
      throw conflict("The destination has no channel (its add failed); delete it and add it again");
  }

  const backupParameter = d.backupStreamKeyParameter ?? streamKeyParameter(d.destinationId, "backup");
  const settingsSet = {
    name: body.name,
    rtmpUrl: settings.rtmpUrl,
    preset: settings.preset,
    backupRtmpUrl: backupUrl,
    backupStreamKeyParameter: body.backupStreamKey !== undefined ? backupParameter : undefined,
    failoverEnabled: failover,
  };
  if (!channelChange) {
    const saved = await updateDestination(d.destinationId, {
      set: settingsSet,
      condition: atVersion(d.version),
    });
    if (!saved) throw conflict("The destination changed while it was being edited; read it and try again");
    return { status: 200, body: destinationView(saved) };
  }
  // Hold the destination with the new settings first, then store the keys, then start: a request
  // refused (409) or failed changes nothing, not even the keys.
  const started = await run(d, destinationUpdate, "updating", {
    set: Object.fromEntries(Object.entries(settingsSet).filter(([, v]) => v !== undefined)),
    beforeStart: async () => {
      if (body.streamKey !== undefined) await putStreamKey(d.streamKeyParameter, body.streamKey);
      if (body.backupStreamKey !== undefined) await putStreamKey(backupParameter, body.backupStreamKey);
    },
  });
  const saved = (await getDestination(d.destinationId)) ?? d;
  return {
    status: 202,
    body: {
      ...destinationView(saved),
      status: "updating",
      restarts: d.status === "running",
      interrupts: [],
      ...started,
    },
  };
}

/**
 * POST /destinations/{id}/failover {"to"}: switch the channel to the backup (or back to the
 * primary) URL and key. A SINGLE_PIPELINE channel fails over by changing its destination, which
 * MediaLive allows only while IDLE: a running destination is stopped, re-pointed and started
 * (destination-update). 200 when it already uses that URL.
 */
export async function failoverDestination(d: Destination, to: "primary" | "backup"): Promise<Response> {
  if (d.deliveryMode === "shared") return await failoverSharedDestination(d, to);
  requireNotDeleted(d);
  if (to === "backup" && (!d.backupRtmpUrl || !d.backupStreamKeyParameter))
    throw fieldError("to", "the destination has no backup URL and key");
  if (d.activeUrl === to)
    return { status: 200, body: { destinationId: d.destinationId, activeUrl: to, status: d.status } };
  const held = await busy(d, destinationUpdate);
  if (held) throw conflict(`The destination is ${d.status}; try again once it settles`, { status: d.status });
  if (!d.mediaLive.channelId)
    throw conflict("The destination has no channel (its add failed); delete it and add it again");
  const started = await run(d, destinationUpdate, "updating", {
    set: { activeUrl: to, "metrics.failovers": d.metrics.failovers + 1 },
  });
  return {
    status: 202,
    body: {
      destinationId: d.destinationId,
      activeUrl: to,
      status: "updating",
      restarts: d.status === "running",
      ...started,
    },
  };
}

/** DELETE /destinations/{id}: 202 with destination-delete's execution; 200 once deleted. */
export async function deleteDestination(d: Destination): Promise<Response> {
  if (d.deliveryMode === "shared") return await deleteSharedDestination(d);
  if (d.status === "deleted")
    return {
      status: 200,
      body: { destinationId: d.destinationId, status: "deleted", deletedAt: d.deletedAt },
    };
  const held = await busy(d, destinationDelete);
  if (held) return held;
  return {
    status: 202,
    body: {
      destinationId: d.destinationId,
      status: "deleting",
      ...(await run(d, destinationDelete, "deleting")),
    },
  };
}

/**
 * GET /destinations/{id}/metrics: running time, starts, failovers (manual and automatic), reconnects
 * (the platform took the stream back on its own), the last error and a cost estimate.
 */
export function destinationMetrics(d: Destination) {
  const running = d.metrics.runningSeconds + uncountedRunningSeconds(d, new Date());
  return {
    destinationId: d.destinationId,
    status: d.status,
    runningSeconds: Math.round(running),
    starts: d.metrics.starts,
    failovers: d.metrics.failovers,
    reconnects: d.metrics.reconnects,
    activeUrl: d.activeUrl,
    ...(d.metrics.lastError ? { lastError: d.metrics.lastError } : {}),
    estimatedCostUsd: channelCost(running, d.metrics.starts),
    rates: ratesView(),
  };
}
