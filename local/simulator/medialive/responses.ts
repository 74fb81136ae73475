/**
 * MediaLive's wire protocol (restJson1): parse a request's path labels, query and JSON body into
 * backend calls, and render resources in MediaLive's field casing (lowerCamelCase members, e.g.
 * `channelClass`, `pipelinesRunningCount`; the SDK maps them to its PascalCase names).
 */
import * as z from "zod";
import type { OperationCall, OperationResult } from "#local/simulator/http.ts";
import { paginate, toInt } from "#local/simulator/pagination.ts";
import {
  asObjects,
  asString,
  asTags,
  type JsonObject,
  type MlAlert,
  type MlChannel,
  type MlInput,
  type MlSecurityGroup,
} from "#local/simulator/store.ts";
import { mlError } from "./errors.ts";
import type { AlertStateFilter, MediaLiveBackend } from "./models.ts";
import { isMediaLiveOperation, type MediaLiveOperation, successStatus } from "./routes.ts";

/** Members of a request that are not part of the stored resource description. */
const NON_SPEC_KEYS = new Set(["requestId", "dryRun", "tags", "channelId", "inputId"]);
function specOf(body: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (!NON_SPEC_KEYS.has(k)) out[k] = v;
  return out;
}

/** ListAlerts `stateFilter` query: the values the model documents; absent = ALL. */
const StateFilter = z.enum(["SET", "CLEARED", "ALL"]).optional();

/** The `stateFilter` of a ListAlerts call, or BadRequestException (wording ours). */
function stateFilterOf(query: URLSearchParams): AlertStateFilter | undefined {
  const raw = query.get("stateFilter") ?? undefined;
  const parsed = StateFilter.safeParse(raw);
  if (!parsed.success)
    throw mlError("BadRequestException", `stateFilter must be SET, CLEARED or ALL, got '${raw}'`);
  return parsed.data;
}

/** The body of a successful answer; undefined for 204 (no content). */
type Handler = (call: OperationCall) => JsonObject | undefined;

export class MediaLiveResponses {
  constructor(private readonly backend: MediaLiveBackend) {}

  // ---------- rendering (DescribeX shapes) ----------
  channel(c: MlChannel): JsonObject {
    const pipelines = c.spec.channelClass === "SINGLE_PIPELINE" ? 1 : 2;
    const running = c.state === "RUNNING";
    const firstAttachment = asString(asObjects(c.spec.inputAttachments)[0]?.inputAttachmentName) ?? "";
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

  /** ListChannels items: the description without encoder settings and pipeline details. */
  channelSummary(c: MlChannel): JsonObject {
    const { encoderSettings: _e, pipelineDetails: _p, ...summary } = this.channel(c);
    return summary;
  }

  input(i: MlInput): JsonObject {
    return {
      arn: i.arn,
      id: i.id,
      name: asString(i.spec.name) ?? "",
      type: asString(i.spec.type) ?? "",
      inputClass: i.inputClass,
      inputSourceType: "STATIC",
      state: i.state,
      attachedChannels: i.attachedChannels,
      // A MEDIACONNECT input reads from its flows: it has no destinations.
      ...(i.spec.type === "MEDIACONNECT" ? {} : { destinations: i.destinations }),
      securityGroups: Array.isArray(i.spec.inputSecurityGroups) ? i.spec.inputSecurityGroups : [],
      sources: asObjects(i.spec.sources),
      mediaConnectFlows: asObjects(i.spec.mediaConnectFlows),
      inputDevices: asObjects(i.spec.inputDevices),
      inputPartnerIds: [],
      ...(i.spec.roleArn !== undefined ? { roleArn: i.spec.roleArn } : {}),
      tags: i.tags,
    };
  }

  inputSecurityGroup(g: MlSecurityGroup): JsonObject {
    const inputs = this.backend.inputsOfGroup(g);
    return {
      arn: g.arn,
      id: g.id,
      inputs: inputs.map((i) => i.id),
      state: g.state === "DELETED" ? "DELETED" : inputs.length > 0 ? "IN_USE" : "IDLE",
      tags: g.tags,
      whitelistRules: g.whitelistRules,
    };
  }

  /**
   * A ChannelAlert. Its timestamps are `__timestampIso8601` members (botocore
   * medialive/2017-10-14: `timestampFormat: iso8601`; the JS SDK schema marks them date-time), so
   * they travel as RFC 3339 strings, not restJson1's default epoch seconds; the SDK parses them
   * into Date.
   */
  alert(a: MlAlert): JsonObject {
    return {
      alertType: a.alertType,
      id: a.id,
      message: a.message,
      pipelineId: a.pipelineId,
      setTimestamp: a.setTimestamp,
      state: a.state,
      ...(a.clearedTimestamp !== undefined ? { clearedTimestamp: a.clearedTimestamp } : {}),
    };
  }

  /** A List answer: `{[field]: items, nextToken?}` paged by the `maxResults`/`nextToken` query. */
  private list<T>(items: T[], call: OperationCall, field: string, render: (t: T) => JsonObject): JsonObject {
    const { page, nextToken } = paginate(
      items,
      toInt(call.query.get("maxResults")),
      call.query.get("nextToken") ?? undefined,
      "BadRequestException",
      1000,
    );
    return { [field]: page.map(render), ...(nextToken ? { nextToken } : {}) };
  }

  // ---------- operations ----------
  private readonly handlers: Record<MediaLiveOperation, Handler> = {
    CreateChannel: ({ body }) => ({
      channel: this.channel(
        this.backend.createChannel({
          requestId: asString(body.requestId),
          spec: specOf(body),
          tags: asTags(body.tags),
        }),
      ),
    }),
    DescribeChannel: ({ params }) => this.channel(this.backend.channel(params.ChannelId)),
    ListChannels: (call) =>
      this.list(this.backend.listChannels(), call, "channels", (c) => this.channelSummary(c)),
    UpdateChannel: ({ params, body }) => ({
      channel: this.channel(this.backend.updateChannel(params.ChannelId, specOf(body))),
    }),
    StartChannel: ({ params }) => this.channel(this.backend.startChannel(params.ChannelId)),
    StopChannel: ({ params }) => this.channel(this.backend.stopChannel(params.ChannelId)),
    DeleteChannel: ({ params }) => this.channel(this.backend.deleteChannel(params.ChannelId)),
    ListAlerts: (call) =>
      this.list(
        this.backend.listAlerts(call.params.ChannelId, stateFilterOf(call.query)),
        call,
        "alerts",
        (a) => this.alert(a),
      ),
    BatchStop: ({ body }) => {
      const { successful, failed } = this.backend.batchStop(
        Array.isArray(body.channelIds) ? body.channelIds : [],
      );
      return {
        successful: successful.map((c) => ({ arn: c.arn, id: c.id, state: c.state })),
        failed: failed.map((f) => ({ id: f.id, code: f.error.name, message: f.error.message })),
      };
    },
    CreateInput: ({ body }) => ({
      input: this.input(
        this.backend.createInput({
          requestId: asString(body.requestId),
          type: asString(body.type),
          spec: specOf(body),
          destinations: asObjects(body.destinations),
          sources: asObjects(body.sources),
          inputSecurityGroups: Array.isArray(body.inputSecurityGroups) ? body.inputSecurityGroups : [],
          mediaConnectFlows: body.mediaConnectFlows,
          roleArn: body.roleArn,
          tags: asTags(body.tags),
        }),
      ),
    }),
    DescribeInput: ({ params }) => this.input(this.backend.input(params.InputId)),
    ListInputs: (call) => this.list(this.backend.listInputs(), call, "inputs", (i) => this.input(i)),
    DeleteInput: ({ params }) => {
      this.backend.deleteInput(params.InputId);
      return {};
    },
    CreateInputSecurityGroup: ({ body }) => ({
      securityGroup: this.inputSecurityGroup(
        this.backend.createInputSecurityGroup({
          whitelistRules: asObjects(body.whitelistRules),
          tags: asTags(body.tags),
        }),
      ),
    }),
    DescribeInputSecurityGroup: ({ params }) =>
      this.inputSecurityGroup(this.backend.inputSecurityGroup(params.InputSecurityGroupId)),
    ListInputSecurityGroups: (call) =>
      this.list(this.backend.listInputSecurityGroups(), call, "inputSecurityGroups", (g) =>
        this.inputSecurityGroup(g),
      ),
    DeleteInputSecurityGroup: ({ params }) => {
      this.backend.deleteInputSecurityGroup(params.InputSecurityGroupId);
      return {};
    },
    CreateTags: ({ params, body }) => {
      this.backend.createTags(params.ResourceArn ?? "", asTags(body.tags));
      return undefined;
    },
    DeleteTags: ({ params, query }) => {
      this.backend.deleteTags(params.ResourceArn ?? "", query.getAll("tagKeys"));
      return undefined;
    },
    ListTagsForResource: ({ params }) => ({ tags: this.backend.taggable(params.ResourceArn ?? "").tags }),
  };

  /** Run a routed call: the operation's success status with its rendered body, or a thrown AwsError. */
  dispatch(call: OperationCall): OperationResult {
    if (!isMediaLiveOperation(call.operation))
      throw mlError("NotFoundException", `Unknown MediaLive operation ${call.operation}`);
    const body = this.handlers[call.operation](call);
    return body === undefined
      ? { status: successStatus(call.operation) }
      : { status: successStatus(call.operation), body };
  }
}
