import {
  AwsError,
  matchRest,
  type OperationCall,
  type OperationResult,
  type RestRoute,
  type ServiceHandler,
} from "./http.ts";
import { paginate, toInt } from "./pagination.ts";
import {
  asString,
  asTags,
  isObject,
  type Json,
  type JsonObject,
  type MlChannel,
  type MlInput,
  type MlSecurityGroup,
  randomDigits,
  type SimContext,
} from "./store.ts";

/** Paths, methods and success codes from the SDK's schemas (@aws-sdk/client-medialive dist-cjs `http` traits). */
const ROUTES: readonly RestRoute[] = [
  { method: "POST", path: "/prod/channels", operation: "CreateChannel", status: 201 },
  { method: "GET", path: "/prod/channels", operation: "ListChannels", status: 200 },
  { method: "GET", path: "/prod/channels/{ChannelId}", operation: "DescribeChannel", status: 200 },
  { method: "PUT", path: "/prod/channels/{ChannelId}", operation: "UpdateChannel", status: 200 },
  { method: "DELETE", path: "/prod/channels/{ChannelId}", operation: "DeleteChannel", status: 200 },
  { method: "POST", path: "/prod/channels/{ChannelId}/start", operation: "StartChannel", status: 200 },
  { method: "POST", path: "/prod/channels/{ChannelId}/stop", operation: "StopChannel", status: 200 },
  { method: "POST", path: "/prod/batch/stop", operation: "BatchStop", status: 200 },
  { method: "POST", path: "/prod/inputs", operation: "CreateInput", status: 201 },
  { method: "GET", path: "/prod/inputs", operation: "ListInputs", status: 200 },
  { method: "GET", path: "/prod/inputs/{InputId}", operation: "DescribeInput", status: 200 },
  { method: "DELETE", path: "/prod/inputs/{InputId}", operation: "DeleteInput", status: 200 },
  { method: "POST", path: "/prod/inputSecurityGroups", operation: "CreateInputSecurityGroup", status: 200 },
  { method: "GET", path: "/prod/inputSecurityGroups", operation: "ListInputSecurityGroups", status: 200 },
  {
    method: "GET",
    path: "/prod/inputSecurityGroups/{InputSecurityGroupId}",
    operation: "DescribeInputSecurityGroup",
    status: 200,
  },
  {
    method: "DELETE",
    path: "/prod/inputSecurityGroups/{InputSecurityGroupId}",
    operation: "DeleteInputSecurityGroup",
    status: 200,
  },
  { method: "POST", path: "/prod/tags/{ResourceArn}", operation: "CreateTags", status: 204 },
  { method: "DELETE", path: "/prod/tags/{ResourceArn}", operation: "DeleteTags", status: 204 },
  { method: "GET", path: "/prod/tags/{ResourceArn}", operation: "ListTagsForResource", status: 200 },
];

/** Error names and statuses from the MediaLive service model (aws-facts.md, SDK `httpError` traits). */
const ERROR_STATUS: Record<string, number> = {
  BadRequestException: 400,
  ForbiddenException: 403,
  NotFoundException: 404,
  ConflictException: 409,
  UnprocessableEntityException: 422,
  TooManyRequestsException: 429,
  InternalServerErrorException: 500,
  BadGatewayException: 502,
  ServiceUnavailableException: 503,
  GatewayTimeoutException: 504,
};

/** Default account quotas (aws-facts.md, archived user guide): per region, adjustable. */
export const MEDIALIVE_QUOTAS = { channels: 5, pushInputs: 5, inputSecurityGroups: 5 } as const;

const err = (name: keyof typeof ERROR_STATUS & string, message: string, extra: JsonObject = {}) =>
  new AwsError(name, ERROR_STATUS[name] ?? 400, message, extra);

interface ValidationError {
  elementPath: string;
  errorMessage: string;
}

/** An UnprocessableEntityException carrying `validationErrors`, as MediaLive reports bad channel specs. */
class ChannelValidationError extends AwsError {
  constructor(errors: ValidationError[]) {
    super("UnprocessableEntityException", 422, "Failed to create or update channel: validation errors", {
      validationErrors: errors.map((e) => ({ elementPath: e.elementPath, errorMessage: e.errorMessage })),
    });
  }
}

/** Members of a request that are not part of the stored resource description. */
const NON_SPEC_KEYS = new Set(["requestId", "dryRun", "tags", "channelId", "inputId"]);
function specOf(body: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (!NON_SPEC_KEYS.has(k)) out[k] = v;
  return out;
}

function objects(v: Json | undefined): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** Every `destinationRefId` in the encoder settings, with its JSON path. */
function destinationRefs(v: Json | undefined, path: string, out: { path: string; ref: string }[]): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      destinationRefs(x, `${path}/${i}`, out);
    });
  } else if (isObject(v))
    for (const [k, x] of Object.entries(v)) {
      if (k === "destinationRefId" && typeof x === "string") out.push({ path: `${path}/${k}`, ref: x });
      else destinationRefs(x, `${path}/${k}`, out);
    }
}

export interface RtmpTarget {
  url: string;
  streamName: string;
}

export interface MediaLiveService extends ServiceHandler {
  /** RTMP(S) pushes of RUNNING channels, for the IVS liveness link. */
  rtmpTargets(): RtmpTarget[];
  view(): { channels: JsonObject[]; inputs: JsonObject[]; inputSecurityGroups: JsonObject[] };
  /**
   * Puts a channel in a state at once, cancelling its pending transitions: how tests reach the
   * states AWS produces on its own (CREATE_FAILED, RECOVERING, ...). False if there is no such channel.
   */
  forceChannelState(id: string, state: MlChannel["state"]): boolean;
}

export function createMediaLive(ctx: SimContext, onChannelsChanged: () => void): MediaLiveService {
  const { store } = ctx;
  const ml = () => store.state.medialive;
  const arnPrefix = `arn:aws:medialive:${ctx.region}:${ctx.accountId}`;

  function newId(taken: Record<string, unknown>): string {
    let id = randomDigits(7);
    while (taken[id]) id = randomDigits(7);
    return id;
  }

  // ---------- descriptions (wire JSON) ----------
  function pipelineCount(c: MlChannel): number {
    return c.spec.channelClass === "SINGLE_PIPELINE" ? 1 : 2;
  }
  function describeChannel(c: MlChannel): JsonObject {
    const pipelines = pipelineCount(c);
    const running = c.state === "RUNNING";
    const firstAttachment = asString(objects(c.spec.inputAttachments)[0]?.inputAttachmentName) ?? "";
    return {
      ...c.spec,
      arn: c.arn,
      id: c.id,
      channelClass: asString(c.spec.channelClass) ?? "STANDARD",
      destinations: c.spec.destinations ?? [],
      inputAttachments: c.spec.inputAttachments ?? [],
      logLevel: asString(c.spec.logLevel) ?? "DISABLED",
      egressEndpoints: Array.from({ length: pipelines }, (_, i) => ({ sourceIp: `198.51.100.${10 + i}` })),
      pipelineDetails: running
        ? Array.from({ length: pipelines }, (_, i) => ({
            pipelineId: String(i),
            activeInputAttachmentName: firstAttachment,
          }))
        : [],
      pipelinesRunningCount: running ? pipelines : 0,
      state: c.state,
      tags: c.tags,
    };
  }
  function summarizeChannel(c: MlChannel): JsonObject {
    const { encoderSettings: _e, pipelineDetails: _p, ...summary } = describeChannel(c);
    return summary;
  }
  function describeInput(i: MlInput): JsonObject {
    return {
      arn: i.arn,
      id: i.id,
      name: asString(i.spec.name) ?? "",
      type: asString(i.spec.type) ?? "",
      inputClass: i.inputClass,
      inputSourceType: "STATIC",
      state: i.state,
      attachedChannels: i.attachedChannels,
      destinations: i.destinations,
      securityGroups: Array.isArray(i.spec.inputSecurityGroups) ? i.spec.inputSecurityGroups : [],
      sources: objects(i.spec.sources),
      mediaConnectFlows: objects(i.spec.mediaConnectFlows),
      inputDevices: objects(i.spec.inputDevices),
      inputPartnerIds: [],
      ...(i.spec.roleArn !== undefined ? { roleArn: i.spec.roleArn } : {}),
      tags: i.tags,
    };
  }
  function inputsOfGroup(g: MlSecurityGroup): MlInput[] {
    return Object.values(ml().inputs).filter(
      (i) =>
        i.state !== "DELETED" &&
        Array.isArray(i.spec.inputSecurityGroups) &&
        i.spec.inputSecurityGroups.includes(g.id),
    );
  }
  function describeGroup(g: MlSecurityGroup): JsonObject {
    const inputs = inputsOfGroup(g);
    return {
      arn: g.arn,
      id: g.id,
      inputs: inputs.map((i) => i.id),
      state: g.state === "DELETED" ? "DELETED" : inputs.length > 0 ? "IN_USE" : "IDLE",
      tags: g.tags,
      whitelistRules: g.whitelistRules,
    };
  }

  // ---------- lookups ----------
  function channel(id: string | undefined): MlChannel {
    const c = id ? ml().channels[id] : undefined;
    if (!c) throw err("NotFoundException", `Channel '${id}' not found`);
    return c;
  }
  function input(id: string | undefined): MlInput {
    const i = id ? ml().inputs[id] : undefined;
    if (!i) throw err("NotFoundException", `Input '${id}' not found`);
    return i;
  }
  function group(id: string | undefined): MlSecurityGroup {
    const g = id ? ml().securityGroups[id] : undefined;
    if (!g) throw err("NotFoundException", `Input security group '${id}' not found`);
    return g;
  }
  function taggable(arn: string): { tags: Record<string, string> } {
    const all = [
      ...Object.values(ml().channels),
      ...Object.values(ml().inputs),
      ...Object.values(ml().securityGroups),
    ];
    const r = all.find((x) => x.arn === arn);
    if (!r) throw err("NotFoundException", `Resource '${arn}' not found`);
    return r;
  }

  // ---------- validation ----------
  function validateChannel(spec: JsonObject, selfId: string | undefined): ValidationError[] {
    const errors: ValidationError[] = [];
    const channelClass = asString(spec.channelClass) ?? "STANDARD";
    if (channelClass !== "STANDARD" && channelClass !== "SINGLE_PIPELINE")
      errors.push({ elementPath: "/channelClass", errorMessage: `Unknown channel class '${channelClass}'` });
    const attachments = objects(spec.inputAttachments);
    if (attachments.length === 0)
      errors.push({
        elementPath: "/inputAttachments",
        errorMessage: "At least one input attachment is required",
      });
    attachments.forEach((a, idx) => {
      const id = asString(a.inputId);
      const i = id ? ml().inputs[id] : undefined;
      if (!i || i.state === "DELETED" || i.state === "DELETING")
        errors.push({
          elementPath: `/inputAttachments/${idx}/inputId`,
          errorMessage: `Input '${id}' does not exist`,
        });
      else {
        // A push input feeds one channel at a time (unverified exact error; MediaLive user guide on input attachment).
        const other = i.attachedChannels.find((c) => c !== selfId && ml().channels[c]?.state !== "DELETED");
        if (other)
          errors.push({
            elementPath: `/inputAttachments/${idx}/inputId`,
            errorMessage: `Input '${id}' is already attached to channel '${other}'`,
          });
      }
    });
    if (!isObject(spec.encoderSettings))
      errors.push({ elementPath: "/encoderSettings", errorMessage: "encoderSettings is required" });
    const destinations = objects(spec.destinations);
    const wanted = channelClass === "SINGLE_PIPELINE" ? 1 : 2;
    destinations.forEach((d, idx) => {
      // MediaPackage/multiplex destinations have no per-pipeline URL settings.
      if (d.mediaPackageSettings !== undefined || d.multiplexSettings !== undefined) return;
      const n = Array.isArray(d.settings) ? d.settings.length : 0;
      if (n !== wanted)
        errors.push({
          elementPath: `/destinations/${idx}/settings`,
          errorMessage:
            channelClass === "SINGLE_PIPELINE"
              ? `A SINGLE_PIPELINE channel needs exactly 1 destination setting, found ${n}`
              : `A STANDARD channel needs 2 destination settings (one per pipeline), found ${n}; set channelClass SINGLE_PIPELINE for one`,
        });
    });
    const ids = new Set(destinations.map((d) => asString(d.id)));
    const refs: { path: string; ref: string }[] = [];
    destinationRefs(spec.encoderSettings, "/encoderSettings", refs);
    for (const r of refs)
      if (!ids.has(r.ref))
        errors.push({
          elementPath: r.path,
          errorMessage: `Destination '${r.ref}' is not defined in destinations`,
        });
    return errors;
  }

  // ---------- operations ----------
  function createChannel(body: JsonObject): OperationResult {
    const requestId = asString(body.requestId);
    const key = requestId ? `channel:${requestId}` : undefined;
    const known = key ? ml().requestIds[key] : undefined;
    if (known && ml().channels[known])
      return { status: 201, body: { channel: describeChannel(channel(known)) } };
    const spec = specOf(body);
    const errors = validateChannel(spec, undefined);
    if (errors.length > 0) throw new ChannelValidationError(errors);
    const live = Object.values(ml().channels).filter((c) => c.state !== "DELETED").length;
    // Quota error: AWS does not document which error a quota breach returns; the API reference
    // models 429 as "LimitExceeded", so TooManyRequestsException is used (unverified).
    if (live >= MEDIALIVE_QUOTAS.channels)
      throw err(
        "TooManyRequestsException",
        `You have reached the limit of ${MEDIALIVE_QUOTAS.channels} channels`,
      );
    const id = newId(ml().channels);
    const c: MlChannel = {
      id,
      arn: `${arnPrefix}:channel:${id}`,
      spec,
      state: "CREATING",
      tags: asTags(body.tags),
    };
    ml().channels[id] = c;
    if (key) ml().requestIds[key] = id;
    for (const a of objects(spec.inputAttachments)) {
      const i = ml().inputs[asString(a.inputId) ?? ""];
      if (!i) continue;
      if (!i.attachedChannels.includes(id)) i.attachedChannels.push(id);
      if (i.state === "DETACHED") i.state = "ATTACHED";
    }
    store.schedule("ml.channel.created", id, "channelCreate");
    return { status: 201, body: { channel: describeChannel(c) } };
  }

  function updateChannel(id: string | undefined, body: JsonObject): OperationResult {
    const c = channel(id);
    if (c.state !== "IDLE")
      throw err(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; it can only be updated while IDLE`,
      );
    const patch = specOf(body);
    const spec: JsonObject = { ...c.spec, ...patch };
    if (patch.inputAttachments !== undefined) {
      // aws-facts.md (user guide, "Editing and deleting a channel"): an edit cannot change the input attachment.
      const before = objects(c.spec.inputAttachments).map((a) => asString(a.inputId));
      const after = objects(patch.inputAttachments).map((a) => asString(a.inputId));
      if (before.join(",") !== after.join(","))
        throw new ChannelValidationError([
          {
            elementPath: "/inputAttachments",
            errorMessage: "The input attachment of a channel cannot be changed",
          },
        ]);
    }
    const errors = validateChannel(spec, c.id);
    if (errors.length > 0) throw new ChannelValidationError(errors);
    c.spec = spec;
    c.state = "UPDATING";
    store.schedule("ml.channel.updated", c.id, "channelUpdate");
    return { status: 200, body: { channel: describeChannel(c) } };
  }

  function startChannel(id: string | undefined): OperationResult {
    const c = channel(id);
    if (c.state !== "IDLE")
      throw err(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; only an IDLE channel can be started`,
      );
    c.state = "STARTING";
    store.schedule("ml.channel.started", c.id, "channelStart");
    return { status: 200, body: describeChannel(c) };
  }

  function stopChannel(c: MlChannel): void {
    // Stopping an IDLE or STARTING channel: ConflictException (unverified for IDLE; the API
    // lists 409 for StopChannel and the brief asks for a conflict on STARTING).
    if (c.state !== "RUNNING" && c.state !== "RECOVERING")
      throw err(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; only a running channel can be stopped`,
      );
    c.state = "STOPPING";
    store.schedule("ml.channel.stopped", c.id, "channelStop");
    onChannelsChanged();
  }

  function deleteChannel(id: string | undefined): OperationResult {
    const c = channel(id);
    if (c.state === "DELETED" || c.state === "DELETING") return { status: 200, body: describeChannel(c) };
    if (c.state !== "IDLE" && c.state !== "CREATE_FAILED")
      throw err(
        "ConflictException",
        "Cannot delete a channel that has not been stopped yet. Please stop the channel first.",
      );
    c.state = "DELETING";
    store.schedule("ml.channel.deleted", c.id, "channelDelete");
    return { status: 200, body: describeChannel(c) };
  }

  function createInput(body: JsonObject): OperationResult {
    const requestId = asString(body.requestId);
    const key = requestId ? `input:${requestId}` : undefined;
    const known = key ? ml().requestIds[key] : undefined;
    if (known && ml().inputs[known]) return { status: 201, body: { input: describeInput(input(known)) } };
    const type = asString(body.type);
    if (!type) throw err("BadRequestException", "Input type is required");
    const isPush = type.endsWith("_PUSH");
    const spec = specOf(body);
    let destinations: JsonObject[] = [];
    let inputClass: MlInput["inputClass"];
    if (type === "RTMP_PUSH") {
      const requested = objects(body.destinations);
      if (requested.length < 1 || requested.length > 2)
        throw err(
          "BadRequestException",
          "An RTMP_PUSH input needs 1 (SINGLE_INPUT) or 2 (STANDARD) destinations",
        );
      requested.forEach((d, idx) => {
        const streamName = asString(d.streamName) ?? "";
        if (!/^[^/\s]+\/[^/\s]+$/.test(streamName))
          throw err(
            "BadRequestException",
            `destinations[${idx}].streamName must be "appName/appInstance", got "${streamName}"`,
          );
      });
      // Documentation-range addresses (RFC 5737): realistic shape, never routable.
      destinations = requested.map((d, idx) => {
        const ip = `203.0.113.${10 + (Number(randomDigits(2)) % 200) + idx}`;
        return { ip, port: "1935", url: `rtmp://${ip}:1935/${asString(d.streamName)}` };
      });
      inputClass = requested.length === 2 ? "STANDARD" : "SINGLE_INPUT";
    } else {
      destinations = objects(body.destinations);
      inputClass =
        objects(body.sources).length === 1 || destinations.length === 1 ? "SINGLE_INPUT" : "STANDARD";
    }
    if (isPush) {
      const pushInputs = Object.values(ml().inputs).filter(
        (i) => i.state !== "DELETED" && (asString(i.spec.type) ?? "").endsWith("_PUSH"),
      ).length;
      // Same quota-error choice as channels (unverified).
      if (pushInputs >= MEDIALIVE_QUOTAS.pushInputs)
        throw err(
          "TooManyRequestsException",
          `You have reached the limit of ${MEDIALIVE_QUOTAS.pushInputs} push inputs`,
        );
    }
    for (const g of Array.isArray(body.inputSecurityGroups) ? body.inputSecurityGroups : []) {
      const sg = typeof g === "string" ? ml().securityGroups[g] : undefined;
      if (!sg || sg.state === "DELETED")
        throw err("BadRequestException", `Input security group '${String(g)}' not found`);
    }
    const id = newId(ml().inputs);
    const i: MlInput = {
      id,
      arn: `${arnPrefix}:input:${id}`,
      spec,
      destinations,
      inputClass,
      state: "CREATING",
      attachedChannels: [],
      tags: asTags(body.tags),
    };
    ml().inputs[id] = i;
    if (key) ml().requestIds[key] = id;
    store.schedule("ml.input.created", id, "inputCreate");
    return { status: 201, body: { input: describeInput(i) } };
  }

  function deleteInput(id: string | undefined): OperationResult {
    const i = input(id);
    if (i.state === "DELETED" || i.state === "DELETING") return { status: 200, body: {} };
    if (i.state === "ATTACHED" || i.attachedChannels.length > 0)
      // The API reference lists 409 for DELETE /prod/inputs/{inputId}; message wording is ours.
      throw err(
        "ConflictException",
        `Input '${i.id}' is attached to channel(s) ${i.attachedChannels.join(", ")}; it cannot be deleted`,
      );
    if (i.state === "CREATING") throw err("ConflictException", `Input '${i.id}' is still being created`);
    i.state = "DELETING";
    store.schedule("ml.input.deleted", i.id, "inputDelete");
    return { status: 200, body: {} };
  }

  function createGroup(body: JsonObject): OperationResult {
    const live = Object.values(ml().securityGroups).filter((g) => g.state !== "DELETED").length;
    if (live >= MEDIALIVE_QUOTAS.inputSecurityGroups)
      throw err(
        "TooManyRequestsException",
        `You have reached the limit of ${MEDIALIVE_QUOTAS.inputSecurityGroups} input security groups`,
      );
    const rules = objects(body.whitelistRules);
    // aws-facts.md: 10 CIDR rules per input security group.
    if (rules.length > 10)
      throw err("BadRequestException", "An input security group allows at most 10 CIDR rules");
    const id = newId(ml().securityGroups);
    const g: MlSecurityGroup = {
      id,
      arn: `${arnPrefix}:inputSecurityGroup:${id}`,
      whitelistRules: rules.map((r) => ({ cidr: asString(r.cidr) ?? "" })),
      state: "IDLE",
      tags: asTags(body.tags),
    };
    ml().securityGroups[id] = g;
    return { status: 200, body: { securityGroup: describeGroup(g) } };
  }

  function deleteGroup(id: string | undefined): OperationResult {
    const g = group(id);
    if (g.state === "DELETED") return { status: 200, body: {} };
    const users = inputsOfGroup(g);
    // Deleting a group still used by inputs fails ("still being used by inputs"); 409 is our choice (unverified).
    if (users.length > 0)
      throw err(
        "ConflictException",
        `Input security group '${g.id}' is still being used by inputs ${users.map((u) => u.id).join(", ")}`,
      );
    g.state = "DELETED";
    store.schedule("ml.isg.purge", g.id, "deletedRetention");
    return { status: 200, body: {} };
  }

  function list<T>(
    items: T[],
    call: OperationCall,
    field: string,
    render: (t: T) => JsonObject,
  ): OperationResult {
    const { page, nextToken } = paginate(
      items,
      toInt(call.query.get("maxResults")),
      call.query.get("nextToken") ?? undefined,
      "BadRequestException",
      1000,
    );
    return { status: 200, body: { [field]: page.map(render), ...(nextToken ? { nextToken } : {}) } };
  }

  // ---------- timers ----------
  function setChannelState(
    id: string,
    from: MlChannel["state"][],
    to: MlChannel["state"],
  ): MlChannel | undefined {
    const c = ml().channels[id];
    if (!c || !from.includes(c.state)) return undefined;
    c.state = to;
    return c;
  }
  store.on("ml.channel.created", (id) => setChannelState(id, ["CREATING"], "IDLE"));
  store.on("ml.channel.updated", (id) => setChannelState(id, ["UPDATING"], "IDLE"));
  store.on("ml.channel.started", (id) => {
    if (setChannelState(id, ["STARTING"], "RUNNING")) onChannelsChanged();
  });
  store.on("ml.channel.stopped", (id) => {
    if (setChannelState(id, ["STOPPING"], "IDLE")) onChannelsChanged();
  });
  store.on("ml.channel.deleted", (id) => {
    const c = setChannelState(id, ["DELETING"], "DELETED");
    if (!c) return;
    for (const a of objects(c.spec.inputAttachments)) {
      const inputId = asString(a.inputId);
      if (inputId) store.schedule("ml.input.detach", inputId, "inputDetach");
    }
    store.schedule("ml.channel.purge", id, "deletedRetention");
  });
  store.on("ml.channel.purge", (id) => {
    delete ml().channels[id];
    for (const [k, v] of Object.entries(ml().requestIds))
      if (k.startsWith("channel:") && v === id) delete ml().requestIds[k];
  });
  store.on("ml.input.created", (id) => {
    const i = ml().inputs[id];
    if (i?.state === "CREATING") i.state = i.attachedChannels.length > 0 ? "ATTACHED" : "DETACHED";
  });
  store.on("ml.input.detach", (id) => {
    const i = ml().inputs[id];
    if (!i) return;
    i.attachedChannels = i.attachedChannels.filter((c) => {
      const ch = ml().channels[c];
      return ch !== undefined && ch.state !== "DELETED";
    });
    if (i.attachedChannels.length === 0 && i.state === "ATTACHED") i.state = "DETACHED";
  });
  store.on("ml.input.deleted", (id) => {
    const i = ml().inputs[id];
    if (i?.state !== "DELETING") return;
    i.state = "DELETED";
    store.schedule("ml.input.purge", id, "deletedRetention");
  });
  store.on("ml.input.purge", (id) => {
    delete ml().inputs[id];
    for (const [k, v] of Object.entries(ml().requestIds))
      if (k.startsWith("input:") && v === id) delete ml().requestIds[k];
  });
  store.on("ml.isg.purge", (id) => {
    delete ml().securityGroups[id];
  });

  const visible = <T extends { state: string }>(xs: T[]) => xs.filter((x) => x.state !== "DELETED");

  return {
    name: "medialive",
    protocol: "restJson1",
    operations: ROUTES.map((r) => r.operation),
    errorStatus: (name) => ERROR_STATUS[name],
    match: (method, pathname) => matchRest(ROUTES, method, pathname),
    invoke(call: OperationCall): OperationResult {
      const p = call.params;
      switch (call.operation) {
        case "CreateChannel":
          return createChannel(call.body);
        case "DescribeChannel":
          return { status: 200, body: describeChannel(channel(p.ChannelId)) };
        case "ListChannels":
          return list(visible(Object.values(ml().channels)), call, "channels", summarizeChannel);
        case "UpdateChannel":
          return updateChannel(p.ChannelId, call.body);
        case "StartChannel":
          return startChannel(p.ChannelId);
        case "StopChannel": {
          const c = channel(p.ChannelId);
          stopChannel(c);
          return { status: 200, body: describeChannel(c) };
        }
        case "DeleteChannel":
          return deleteChannel(p.ChannelId);
        case "BatchStop": {
          const successful: JsonObject[] = [];
          const failed: JsonObject[] = [];
          for (const id of Array.isArray(call.body.channelIds) ? call.body.channelIds : []) {
            try {
              const c = channel(asString(id));
              stopChannel(c);
              successful.push({ arn: c.arn, id: c.id, state: c.state });
            } catch (e) {
              if (!(e instanceof AwsError)) throw e;
              failed.push({ id: String(id), code: e.name, message: e.message });
            }
          }
          return { status: 200, body: { successful, failed } };
        }
        case "CreateInput":
          return createInput(call.body);
        case "DescribeInput":
          return { status: 200, body: describeInput(input(p.InputId)) };
        case "ListInputs":
          return list(visible(Object.values(ml().inputs)), call, "inputs", describeInput);
        case "DeleteInput":
          return deleteInput(p.InputId);
        case "CreateInputSecurityGroup":
          return createGroup(call.body);
        case "DescribeInputSecurityGroup":
          return { status: 200, body: describeGroup(group(p.InputSecurityGroupId)) };
        case "ListInputSecurityGroups":
          return list(
            visible(Object.values(ml().securityGroups)),
            call,
            "inputSecurityGroups",
            describeGroup,
          );
        case "DeleteInputSecurityGroup":
          return deleteGroup(p.InputSecurityGroupId);
        case "CreateTags": {
          const r = taggable(p.ResourceArn ?? "");
          Object.assign(r.tags, asTags(call.body.tags));
          return { status: 204 };
        }
        case "DeleteTags": {
          const r = taggable(p.ResourceArn ?? "");
          for (const k of call.query.getAll("tagKeys")) delete r.tags[k];
          return { status: 204 };
        }
        case "ListTagsForResource":
          return { status: 200, body: { tags: taggable(p.ResourceArn ?? "").tags } };
        default:
          throw err("NotFoundException", `Unknown MediaLive operation ${call.operation}`);
      }
    },
    rtmpTargets(): RtmpTarget[] {
      const out: RtmpTarget[] = [];
      for (const c of Object.values(ml().channels)) {
        if (c.state !== "RUNNING") continue;
        for (const d of objects(c.spec.destinations))
          for (const s of objects(d.settings)) {
            const url = asString(s.url);
            if (url?.startsWith("rtmp")) out.push({ url, streamName: asString(s.streamName) ?? "" });
          }
      }
      return out;
    },
    forceChannelState(id: string, state: MlChannel["state"]): boolean {
      const c = ml().channels[id];
      if (!c) return false;
      store.cancel(id);
      c.state = state;
      onChannelsChanged();
      store.changed();
      return true;
    },
    view: () => ({
      channels: Object.values(ml().channels).map(describeChannel),
      inputs: Object.values(ml().inputs).map(describeInput),
      inputSecurityGroups: Object.values(ml().securityGroups).map(describeGroup),
    }),
  };
}
