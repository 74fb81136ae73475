import { randomUUID } from "node:crypto";
import { type Flow, TagResourceCommand } from "@aws-sdk/client-mediaconnect";
import * as z from "zod";
import { mediaconnect } from "#lib/aws/clients.ts";
import {
  addBackupSource,
  createFlow,
  deleteFlow,
  describeFlow,
  flowCount,
  flowSourceMetadata,
  primarySourceName,
  removeFlowSource,
  setPreferredSource,
  stopFlow,
} from "#lib/aws/mediaconnect.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { DeliveryMode, DestinationTags, flowName, Source, SourceProtocol } from "#lib/destinations/model.ts";
import {
  deleteSourceRecord,
  getSource,
  listDestinations,
  listSources,
  putNewSource,
  updateSource,
} from "#lib/destinations/store.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { managedTags } from "#lib/sessions/model.ts";
import { FLOW_OUTPUT_LIMIT } from "./destinations.ts";
import { ApiError, conflict, fieldError, notFound } from "./http.ts";
import {
  createSharedSource,
  deleteSharedSource,
  flowFields,
  sharedIngest,
  sharedSourceStatus,
} from "./shared.ts";
import { Id } from "./validation.ts";

const Cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, "must be an IPv4 CIDR such as 203.0.113.0/24");

export const CreateSourceBody = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
  protocol: SourceProtocol,
  deliveryMode: DeliveryMode.optional(),
  priority: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: "must be 1, 2 or 3" }).optional(),
  backupOf: Id.optional(),
  allowedCidr: Cidr.optional(),
  port: z.number().int().min(1024, "must be 1024 or above").max(65535, "must be at most 65535").optional(),
  /** srt-caller: the host name or IPv4 address of the encoder's SRT listener, which MediaConnect calls at `port`. */
  listenerAddress: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$/, "must be a host name or an IPv4 address")
    .optional(),
  encryption: z
    .strictObject({
      algorithm: z.enum(["aes128", "aes192", "aes256"]),
      secretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:/, "must be a Secrets Manager secret ARN"),
    })
    .optional(),
});
export type CreateSourceBody = z.infer<typeof CreateSourceBody>;

export const UpdateSourceBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(100).optional(),
    /** Manual override: which of a primary's two sources feeds the flow while both deliver. */
    activeSource: z.enum(["primary", "backup"], { error: 'must be "primary" or "backup"' }).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "must change at least one field" });

/** MediaConnect's protocol names for castflow's. */
const FLOW_PROTOCOL = {
  "srt-listener": "srt-listener",
  "srt-caller": "srt-caller",
  rtp: "rtp",
  "rtp-fec": "rtp-fec",
  rist: "rist",
} as const;

/** Default ingest ports per protocol (a listener needs one; MediaConnect picks none itself). */
const DEFAULT_PORT: Record<keyof typeof FLOW_PROTOCOL, number> = {
  "srt-listener": 5000,
  "srt-caller": 5000,
  rtp: 5000,
  "rtp-fec": 5000,
  rist: 5000,
};

function decryptionRole(): string {
  const role = config().MEDIACONNECT_ROLE_ARN;
  if (!role)
    throw fieldError(
      "encryption",
      "this deployment has no MediaConnect role (MEDIACONNECT_ROLE_ARN) to read the secret with",
    );
  return role;
}

/** Where an encoder sends: the flow's ingest address as a URL. */
function ingest(source: Source) {
  if (!source.flow) return undefined;
  const { ingestIp, ingestPort } = source.flow;
  const scheme = source.protocol.startsWith("srt") ? "srt" : source.protocol === "rist" ? "rist" : "rtp";
  return {
    protocol: source.protocol,
    ip: ingestIp,
    port: ingestPort,
    ...(ingestIp && ingestPort ? { url: `${scheme}://${ingestIp}:${ingestPort}` } : {}),
  };
}

/** A source as the API shows it (MediaConnect or shared): its ingest, not its bookkeeping. */
export function sourceView(s: Source) {
  const { flowPhase: _p, flowPhaseAt: _a, flowPhaseBy: _b, version: _v, executionCounters: _c, ...rest } = s;
  return {
    ...rest,
    ...flowFields(s),
    ingest: s.protocol === "rtmp-push" ? sharedIngest(s) : ingest(s),
  };
}

async function sourceOr404(sourceId: string): Promise<Source> {
  const s = Id.safeParse(sourceId).success ? await getSource(sourceId) : undefined;
  if (!s) throw notFound("Source");
  return s;
}

/**
 * POST /admin/sources. A MediaConnect protocol gets a flow, created STANDBY (free until a
 * destination starts it), found again by name if an earlier attempt's answer was lost; if the
 * record cannot be written the flow is deleted again. RTMP push (OBS) is always shared mode
 * (api/shared.ts); a MediaConnect source with `deliveryMode: "shared"` keeps its flow for its
 * shared channel.
 */
export async function createSource(body: CreateSourceBody) {
  if (body.protocol === "rtmp-push") return sourceView(await createSharedSource(body));
  if (body.protocol === "srt-caller" && body.allowedCidr !== undefined)
    throw fieldError("allowedCidr", "does not apply to srt-caller (MediaConnect calls the encoder)");
  if (body.encryption && !body.protocol.startsWith("srt"))
    throw fieldError("encryption", "applies to SRT sources only");
  if (body.protocol === "srt-caller" && body.backupOf === undefined && !body.listenerAddress)
    throw fieldError(
      "listenerAddress",
      "is required for srt-caller (the encoder's SRT listener MediaConnect calls)",
    );
  if (body.protocol !== "srt-caller" && body.listenerAddress !== undefined)
    throw fieldError("listenerAddress", "applies to srt-caller sources only");
  if (body.backupOf === undefined) {
    const quota = config().MEDIACONNECT_FLOW_QUOTA;
    const flows = await flowCount();
    if (flows >= quota)
      throw new ApiError(
        429,
        "quota_exceeded",
        `MediaConnect flow quota reached: ${flows} of ${quota} flows exist in this region; delete a source or raise the quota (MEDIACONNECT_FLOW_QUOTA)`,
        { quota: "mediaconnect-flows", used: flows, limit: quota },
      );
  }
  const sourceId = randomUUID();
  const port = body.port ?? DEFAULT_PORT[body.protocol];
  const allowedCidr = body.allowedCidr ?? "0.0.0.0/0";
  if (body.backupOf !== undefined)
    return await createBackupSource(sourceId, body, body.backupOf, body.protocol, port, allowedCidr);
  const flow: Flow = await createFlow({
    name: flowName(sourceId),
    protocol: FLOW_PROTOCOL[body.protocol],
    allowedCidr,
    port,
    ...(body.listenerAddress ? { listenerAddress: body.listenerAddress } : {}),
    ...(body.encryption ? { decryption: { ...body.encryption, roleArn: decryptionRole() } } : {}),
    tags: {},
  });
  const flowArn = flow.FlowArn as string;
  const now = new Date().toISOString();
  const source = Source.parse({
    sourceId,
    name: body.name,
    protocol: body.protocol,
    deliveryMode: body.deliveryMode ?? "per-destination",
    priority: body.priority ?? 1,
    allowedCidr,
    port,
    ...(body.encryption ? { encryption: body.encryption } : {}),
    status: "ready",
    flow: {
      flowArn,
      sourceArn: flow.Source?.SourceArn,
      sourceName: primarySourceName(flowName(sourceId)),
      ingestIp: flow.Source?.IngestIp,
      ingestPort: flow.Source?.IngestPort ?? port,
    },
    createdAt: now,
    updatedAt: now,
  });
  try {
    await mediaconnect().send(
      new TagResourceCommand({
        ResourceArn: flowArn,
        Tags: { ...managedTags(), [DestinationTags.sourceId]: sourceId },
      }),
    );
    await putNewSource(source);
  } catch (err) {
    await deleteFlow(flowArn).catch((e: unknown) =>
      logger.error("Could not delete the flow of a failed source create", { flowArn, error: errorName(e) }),
    );
    throw err;
  }
  return sourceView(source);
}

/**
 * A backup source: the primary's flow gets it as its second source, with source failover ENABLED
 * and the primary preferred, so MediaConnect switches to it when the primary stops delivering.
 * One backup per primary (MediaConnect allows two sources per flow).
 */
async function createBackupSource(
  sourceId: string,
  body: CreateSourceBody,
  backupOf: string,
  protocol: keyof typeof FLOW_PROTOCOL,
  port: number,
  allowedCidr: string,
) {
  const primary = await getSource(backupOf);
  if (!primary) throw fieldError("backupOf", "names no source");
  if (primary.backupOf) throw fieldError("backupOf", "names a backup source; name its primary");
  if (!primary.flow?.flowArn || !primary.flow.sourceName)
    throw fieldError("backupOf", "names a source without a flow");
  if (primary.backupSourceId)
    throw conflict("The primary already has a backup source (a flow takes two sources)", {
      backupSourceId: primary.backupSourceId,
    });
  const name = flowName(sourceId);
  const added = await addBackupSource(primary.flow.flowArn, primary.flow.sourceName, {
    name,
    protocol: FLOW_PROTOCOL[protocol],
    allowedCidr,
    port,
  });
  const now = new Date().toISOString();
  const source = Source.parse({
    sourceId,
    name: body.name,
    protocol,
    deliveryMode: primary.deliveryMode,
    priority: body.priority ?? 2,
    backupOf,
    allowedCidr,
    port,
    status: "ready",
    flow: {
      flowArn: primary.flow.flowArn,
      sourceArn: added.sourceArn,
      sourceName: name,
      ingestIp: added.ingestIp,
      ingestPort: added.ingestPort ?? port,
    },
    createdAt: now,
    updatedAt: now,
  });
  try {
    await putNewSource(source);
    const linked = await updateSource(backupOf, {
      set: { backupSourceId: sourceId },
      condition: { expression: "attribute_not_exists(#backupSourceId)" },
    });
    if (!linked) {
      await deleteSourceRecord(sourceId);
      throw conflict("The primary got another backup source meanwhile");
    }
  } catch (err) {
    if (added.sourceArn)
      await removeFlowSource(primary.flow.flowArn, added.sourceArn).catch((e: unknown) =>
        logger.error("Could not remove the flow source of a failed backup create", { error: errorName(e) }),
      );
    throw err;
  }
  return sourceView(source);
}

export async function listSourcesView() {
  const all = await listSources();
  return { sources: all.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(sourceView) };
}

export async function getSourceView(sourceId: string) {
  return sourceView(await sourceOr404(sourceId));
}

/**
 * PUT /admin/sources/{id}: rename, and (on a primary with a backup) the manual override of which
 * source the flow prefers: `activeSource` becomes the flow's SourcePriority.PrimarySource, so the
 * flow takes it whenever it delivers and fails over to the other when it does not.
 */
export async function updateSourceSettings(sourceId: string, body: z.infer<typeof UpdateSourceBody>) {
  const s = await sourceOr404(sourceId);
  if (body.activeSource !== undefined) {
    if (s.backupOf) throw fieldError("activeSource", "is set on the primary source, not on its backup");
    const backup = s.backupSourceId ? await getSource(s.backupSourceId) : undefined;
    if (!backup?.flow?.sourceName || !s.flow?.sourceName)
      throw fieldError("activeSource", "needs a backup source (create one with backupOf)");
    const name = body.activeSource === "primary" ? s.flow.sourceName : backup.flow.sourceName;
    await setPreferredSource(s.flow.flowArn, name);
  }
  const saved = await updateSource(sourceId, {
    set: { name: body.name, preferredSource: body.activeSource },
    condition: atVersion(s.version),
  });
  if (!saved) throw conflict("The source changed meanwhile; read it and try again");
  return sourceView(saved);
}

/**
 * DELETE /admin/sources/{id}: 409 while any destination still uses the source (each one's
 * MediaLive input is attached to the flow: delete the destinations first). The flow is deleted
 * once STANDBY; one still stopping answers 409 with its status.
 */
export async function deleteSource(sourceId: string) {
  const s = await sourceOr404(sourceId);
  if (s.backupSourceId)
    throw conflict("The source has a backup source; delete the backup first", {
      backupSourceId: s.backupSourceId,
    });
  if (s.backupOf && s.flow) {
    // A backup is one source of its primary's flow: remove it from the flow, keep the flow.
    if (s.flow.sourceArn) await removeFlowSource(s.flow.flowArn, s.flow.sourceArn);
    await updateSource(s.backupOf, { remove: ["backupSourceId"], set: { preferredSource: "primary" } });
    const primary = await getSource(s.backupOf);
    if (primary?.flow?.sourceName) await setPreferredSource(primary.flow.flowArn, primary.flow.sourceName);
    await deleteSourceRecord(sourceId);
    return { sourceId, deleted: true };
  }
  if (s.deliveryMode === "shared" || s.protocol === "rtmp-push") return (await deleteSharedSource(s)).body;
  // `deleting` first: from now on no destination is added to the source or starts its flow, so
  // none can appear between the check below and the delete. Any refusal puts it back to `ready`.
  const marked = await updateSource(sourceId, {
    set: { status: "deleting" },
    condition: {
      expression: "#status = :ready OR #status = :deleting",
      values: { ":ready": "ready", ":deleting": "deleting" },
    },
  });
  if (!marked) throw conflict("The source changed meanwhile; read it and try again");
  try {
    return await deleteMarkedSource(marked);
  } catch (err) {
    await updateSource(sourceId, { set: { status: "ready" } }).catch(() => undefined);
    throw err;
  }
}

async function deleteMarkedSource(s: Source) {
  const { sourceId } = s;
  const users = (await listDestinations({ sourceId })).filter((d) => d.status !== "deleted");
  const running = users.filter((d) => d.status !== "idle" && d.status !== "error");
  if (users.length > 0)
    throw conflict(
      running.length > 0
        ? `${running.length} destination(s) on this source are running or busy; stop and delete them first`
        : `${users.length} destination(s) still use this source; delete them first`,
      { destinations: users.map((d) => ({ destinationId: d.destinationId, status: d.status })) },
    );
  if (s.flow) {
    const flow = await describeFlow(s.flow.flowArn);
    if (flow && flow.Status !== "STANDBY") {
      if (flow.Status === "ACTIVE") await stopFlow(s.flow.flowArn);
      throw conflict(
        `The source's flow is ${flow.Status === "ACTIVE" ? "STOPPING" : flow.Status}; delete again once it is STANDBY`,
        {
          flowStatus: flow.Status,
        },
      );
    }
    if (flow) await deleteFlow(s.flow.flowArn);
  }
  await deleteSourceRecord(sourceId);
  return { sourceId, deleted: true };
}

/**
 * Source health from DescribeFlowSourceMetadata, while the flow is ACTIVE: HEALTHY (media
 * arrives, no source reports a problem), DEGRADED (media arrives, but a source, e.g. the primary
 * after a failover, reports one), FAILED (no media). A STANDBY flow receives nothing by design:
 * `health` is null then, with the reason.
 */
async function health(s: Source, primary: Source, backup: Source | undefined, flowStatus: string) {
  if (flowStatus !== "ACTIVE" || !primary.flow)
    return { health: null, reason: `The flow is ${flowStatus}; it receives only while a destination runs` };
  const meta = await flowSourceMetadata(primary.flow.flowArn);
  const silent = new Set((meta.Messages ?? []).map((m) => m.ResourceName));
  const media = (meta.TransportMediaInfo?.Programs?.length ?? 0) > 0;
  const preferred = primary.preferredSource === "backup" && backup ? backup : primary;
  const other = preferred === primary ? backup : primary;
  const active =
    media && preferred.flow?.sourceName && silent.has(preferred.flow.sourceName) && other ? other : preferred;
  return {
    health: !media ? "FAILED" : silent.size > 0 ? "DEGRADED" : "HEALTHY",
    activeSource: active === primary ? "primary" : "backup",
    activeSourceId: active.sourceId,
    problems: (meta.Messages ?? []).map((m) => ({
      source: m.ResourceName,
      code: m.Code,
      message: m.Message,
    })),
    lastCheck: (meta.Timestamp ?? new Date()).toISOString(),
    ...(s !== primary ? { primarySourceId: primary.sourceId } : {}),
  };
}

/** GET /sources/{id}/status: flow status, source health, active source, outputs used of 50, running destinations. */
export async function sourceStatus(sourceId: string) {
  const s = await sourceOr404(sourceId);
  if (s.protocol === "rtmp-push") return await sharedSourceStatus(s);
  const primary = s.backupOf ? ((await getSource(s.backupOf)) ?? s) : s;
  const backup = primary.backupSourceId ? await getSource(primary.backupSourceId) : undefined;
  const flow = s.flow ? await describeFlow(s.flow.flowArn) : undefined;
  const flowStatus = flow?.Status ?? "DELETED";
  const destinations = (await listDestinations({ sourceId: primary.sourceId })).filter(
    (d) => d.status !== "deleted",
  );
  return {
    sourceId,
    name: s.name,
    flowStatus,
    ...(await health(s, primary, backup, flowStatus)),
    outputs: { used: flow?.Outputs?.length ?? 0, limit: FLOW_OUTPUT_LIMIT },
    runningDestinations: destinations.filter((d) => d.status === "running").map((d) => d.destinationId),
    destinations: destinations.length,
    checkedAt: new Date().toISOString(),
  };
}
