/**
 * MediaConnect's wire protocol (restJson1): members travel in lowerCamelCase (`flowArn`,
 * `outputs`, `ingestIp`; the SDK maps them to FlowArn, Outputs, IngestIp), per the
 * `locationName` of each member in the service model.
 */
import type { OperationCall, OperationResult } from "#local/simulator/http.ts";
import { paginate, toInt } from "#local/simulator/pagination.ts";
import {
  asObjects,
  asString,
  asTags,
  isObject,
  type JsonObject,
  type McFlow,
  type McOutput,
  type McSource,
} from "#local/simulator/store.ts";
import { mcError } from "./errors.ts";
import type { MediaConnectBackend } from "./models.ts";
import { isMediaConnectOperation, type MediaConnectOperation, successStatus } from "./routes.ts";

/** Request members (SetSourceRequest / AddOutputRequest) that the model moves into `transport`. */
const TRANSPORT_KEYS = [
  "cidrAllowList",
  "maxBitrate",
  "maxLatency",
  "maxSyncBuffer",
  "minLatency",
  "protocol",
  "remoteId",
  "senderControlPort",
  "senderIpAddress",
  "smoothingLatency",
  "sourceListenerAddress",
  "sourceListenerPort",
  "streamId",
] as const;

function transport(spec: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of TRANSPORT_KEYS) {
    const v = spec[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function pick(spec: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) {
    const v = spec[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

type Handler = (call: OperationCall) => JsonObject | undefined;

export class MediaConnectResponses {
  constructor(private readonly backend: MediaConnectBackend) {}

  output(o: McOutput): JsonObject {
    return {
      ...pick(o.spec, ["description", "destination", "port", "encryption", "vpcInterfaceAttachment"]),
      ...(o.mediaLiveInputArn !== undefined ? { mediaLiveInputArn: o.mediaLiveInputArn } : {}),
      name: o.name,
      outputArn: o.arn,
      outputStatus: asString(o.spec.outputStatus) ?? "ENABLED",
      transport: transport(o.spec),
    };
  }

  source(f: McFlow, s: McSource): JsonObject {
    const port = toInt(s.spec.ingestPort) ?? 5000; // default ingest port: ours (unverified)
    return {
      ...pick(s.spec, ["decryption", "description", "entitlementArn", "whitelistCidr", "vpcInterfaceName"]),
      name: s.name,
      sourceArn: s.arn,
      ingestIp: f.ingestIp,
      ingestPort: port,
      transport: transport(s.spec),
    };
  }

  flow(f: McFlow): JsonObject {
    const sources = f.sources.map((s) => this.source(f, s));
    return {
      availabilityZone: f.availabilityZone,
      ...(f.description !== undefined ? { description: f.description } : {}),
      egressIp: f.ingestIp.replace(/\.(\d+)$/, (_, d: string) => `.${Number(d) + 1}`),
      entitlements: [],
      flowArn: f.arn,
      mediaStreams: [],
      name: f.name,
      outputs: f.outputs.map((o) => this.output(o)),
      // `source` is the flow's first source; `sources` lists both when failover is set up.
      ...(sources[0] !== undefined ? { source: sources[0] } : {}),
      ...(f.sourceFailoverConfig !== undefined ? { sourceFailoverConfig: f.sourceFailoverConfig } : {}),
      sources,
      status: f.status,
      vpcInterfaces: [],
    };
  }

  listedFlow(f: McFlow): JsonObject {
    return {
      availabilityZone: f.availabilityZone,
      description: f.description ?? "",
      flowArn: f.arn,
      name: f.name,
      sourceType: asString(f.sources[0]?.spec.entitlementArn) ? "ENTITLED" : "OWNED",
      status: f.status,
    };
  }

  private readonly handlers: Record<MediaConnectOperation, Handler> = {
    CreateFlow: ({ body }) => ({
      flow: this.flow(
        this.backend.createFlow({
          name: asString(body.name),
          availabilityZone: asString(body.availabilityZone),
          description: asString(body.description),
          source: isObject(body.source) ? body.source : undefined,
          sources: asObjects(body.sources),
          sourceFailoverConfig: body.sourceFailoverConfig,
          outputs: asObjects(body.outputs),
          tags: asTags(body.flowTags),
        }),
      ),
    }),
    DescribeFlow: ({ params }) => ({
      flow: this.flow(this.backend.flow(params.FlowArn)),
      messages: { errors: [] },
    }),
    ListFlows: ({ query }) => {
      // Model: "If MaxResults is not included in the request, the service defaults to pagination
      // with a maximum of 10 results per page." MaxResults is 1..1000.
      const max = toInt(query.get("maxResults"));
      if (max !== undefined && (max < 1 || max > 1000))
        throw mcError("BadRequestException", "maxResults must be between 1 and 1000");
      const { page, nextToken } = paginate(
        this.backend.allFlows(),
        max,
        query.get("nextToken") ?? undefined,
        "BadRequestException",
        10,
      );
      return { flows: page.map((f) => this.listedFlow(f)), ...(nextToken ? { nextToken } : {}) };
    },
    StartFlow: ({ params }) => {
      const f = this.backend.startFlow(params.FlowArn);
      return { flowArn: f.arn, status: f.status };
    },
    StopFlow: ({ params }) => {
      const f = this.backend.stopFlow(params.FlowArn);
      return { flowArn: f.arn, status: f.status };
    },
    DeleteFlow: ({ params }) => {
      const f = this.backend.deleteFlow(params.FlowArn);
      return { flowArn: f.arn, status: f.status };
    },
    AddFlowOutputs: ({ params, body }) => {
      const { flow, added } = this.backend.addOutputs(params.FlowArn, asObjects(body.outputs));
      return { flowArn: flow.arn, outputs: added.map((o) => this.output(o)) };
    },
    RemoveFlowOutput: ({ params }) => {
      const o = this.backend.removeOutput(params.FlowArn, params.OutputArn);
      return { flowArn: params.FlowArn ?? "", outputArn: o.arn };
    },
    AddFlowSources: ({ params, body }) => {
      const { flow, added } = this.backend.addSources(params.FlowArn, asObjects(body.sources));
      return { flowArn: flow.arn, sources: added.map((s) => this.source(flow, s)) };
    },
    RemoveFlowSource: ({ params }) => {
      const s = this.backend.removeSource(params.FlowArn, params.SourceArn);
      return { flowArn: params.FlowArn ?? "", sourceArn: s.arn };
    },
    DescribeFlowSourceMetadata: ({ params }) => this.backend.sourceMetadata(params.FlowArn),
    UpdateFlow: ({ params, body }) => ({
      flow: this.flow(this.backend.updateFlow(params.FlowArn, body.sourceFailoverConfig)),
    }),
    TagResource: ({ params, body }) => {
      Object.assign(this.backend.taggable(params.ResourceArn ?? "").tags, asTags(body.tags));
      return undefined;
    },
    UntagResource: ({ params, query }) => {
      const r = this.backend.taggable(params.ResourceArn ?? "");
      for (const k of query.getAll("tagKeys")) delete r.tags[k];
      return undefined;
    },
    ListTagsForResource: ({ params }) => ({ tags: this.backend.taggable(params.ResourceArn ?? "").tags }),
  };

  dispatch(call: OperationCall): OperationResult {
    if (!isMediaConnectOperation(call.operation))
      throw mcError("NotFoundException", `Unknown MediaConnect operation ${call.operation}`);
    const body = this.handlers[call.operation](call);
    return body === undefined
      ? { status: successStatus(call.operation) }
      : { status: successStatus(call.operation), body };
  }
}
