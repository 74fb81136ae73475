import { randomUUID } from "node:crypto";
import { type Flow, TagResourceCommand } from "@aws-sdk/client-mediaconnect";
import * as z from "zod";
import { mediaconnect } from "#lib/aws/clients.ts";
import { createFlow, deleteFlow, describeFlow, stopFlow } from "#lib/aws/mediaconnect.ts";
import { atVersion } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { DeliveryMode, DestinationTags, Source, SourceProtocol } from "#lib/destinations/model.ts";
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
import { Tags } from "#lib/sessions/model.ts";
import { FLOW_OUTPUT_LIMIT } from "./destinations.ts";
import { badRequest, conflict, notFound } from "./http.ts";
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
  encryption: z
    .strictObject({
      algorithm: z.enum(["aes128", "aes192", "aes256"]),
      secretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:/, "must be a Secrets Manager secret ARN"),
    })
    .optional(),
});
export type CreateSourceBody = z.infer<typeof CreateSourceBody>;

export const UpdateSourceBody = z
  .strictObject({ name: z.string().trim().min(1, "must not be empty").max(100).optional() })
  .refine((b) => Object.keys(b).length > 0, { message: "must change at least one field" });

const fieldError = (field: string, reason: string) =>
  badRequest(`${field}: ${reason}`, { fields: [{ field, reason }] });

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

export const flowName = (sourceId: string) => `castflow-source-${sourceId}`;

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

export function sourceView(s: Source) {
  const { flowUsers, flowPhase: _p, flowPhaseAt: _a, version: _v, ...rest } = s;
  return { ...rest, ingest: ingest(s), flowUsers: Object.keys(flowUsers).length };
}

async function sourceOr404(sourceId: string): Promise<Source> {
  const s = Id.safeParse(sourceId).success ? await getSource(sourceId) : undefined;
  if (!s) throw notFound("Source");
  return s;
}

/**
 * POST /admin/sources. A MediaConnect protocol gets a flow, created STANDBY (free until a
 * destination starts it), found again by name if an earlier attempt's answer was lost; if the
 * record cannot be written the flow is deleted again. RTMP push (OBS) and shared delivery need
 * the shared-channel mode, which this version does not run yet: 400 says so.
 */
export async function createSource(body: CreateSourceBody) {
  if (body.protocol === "rtmp-push")
    throw fieldError(
      "protocol",
      "rtmp-push sources are delivered in shared mode, which this version does not run yet",
    );
  if (body.deliveryMode === "shared")
    throw fieldError("deliveryMode", "shared mode is not available in this version; use per-destination");
  if (body.backupOf !== undefined)
    throw fieldError(
      "backupOf",
      "backup sources (flow source failover) are not available in this version yet",
    );
  if (body.protocol === "srt-caller" && body.allowedCidr !== undefined)
    throw fieldError("allowedCidr", "does not apply to srt-caller (MediaConnect calls the encoder)");
  if (body.encryption && !body.protocol.startsWith("srt"))
    throw fieldError("encryption", "applies to SRT sources only");
  const sourceId = randomUUID();
  const port = body.port ?? DEFAULT_PORT[body.protocol];
  const allowedCidr = body.allowedCidr ?? "0.0.0.0/0";
  const flow: Flow = await createFlow({
    name: flowName(sourceId),
    protocol: FLOW_PROTOCOL[body.protocol],
    allowedCidr,
    port,
    ...(body.encryption ? { decryption: { ...body.encryption, roleArn: config().MEDIALIVE_ROLE_ARN } } : {}),
    tags: {},
  });
  const flowArn = flow.FlowArn as string;
  const now = new Date().toISOString();
  const source = Source.parse({
    sourceId,
    name: body.name,
    protocol: body.protocol,
    deliveryMode: "per-destination",
    priority: body.priority ?? 1,
    allowedCidr,
    port,
    ...(body.encryption ? { encryption: body.encryption } : {}),
    status: "ready",
    flow: {
      flowArn,
      sourceArn: flow.Source?.SourceArn,
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
        Tags: { [Tags.managedBy]: "castflow", [DestinationTags.sourceId]: sourceId },
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

export async function listSourcesView() {
  const all = await listSources();
  return { sources: all.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(sourceView) };
}

export async function getSourceView(sourceId: string) {
  return sourceView(await sourceOr404(sourceId));
}

/** PUT /admin/sources/{id}: rename. */
export async function updateSourceSettings(sourceId: string, body: z.infer<typeof UpdateSourceBody>) {
  const s = await sourceOr404(sourceId);
  const saved = await updateSource(sourceId, { set: { name: body.name }, condition: atVersion(s.version) });
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

/** GET /sources/{id}/status: flow status, outputs used of 50, running destinations. */
export async function sourceStatus(sourceId: string) {
  const s = await sourceOr404(sourceId);
  const flow = s.flow ? await describeFlow(s.flow.flowArn) : undefined;
  const destinations = (await listDestinations({ sourceId })).filter((d) => d.status !== "deleted");
  return {
    sourceId,
    name: s.name,
    flowStatus: flow?.Status ?? "DELETED",
    outputs: { used: flow?.Outputs?.length ?? 0, limit: FLOW_OUTPUT_LIMIT },
    runningDestinations: destinations.filter((d) => d.status === "running").map((d) => d.destinationId),
    destinations: destinations.length,
    checkedAt: new Date().toISOString(),
  };
}
