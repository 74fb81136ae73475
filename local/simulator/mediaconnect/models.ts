/**
 * MediaConnect flows and their state machine (aws-facts.md "MediaConnect"):
 * CreateFlow -> STANDBY; StartFlow: STANDBY -> STARTING -> ACTIVE; StopFlow: ACTIVE (or
 * STARTING) -> STOPPING -> STANDBY; DeleteFlow (STANDBY only): DELETING -> gone (404).
 * Outputs are added while ACTIVE or STANDBY (at most 50 per flow) and removed asynchronously.
 * Nothing here knows about HTTP (responses.ts renders the records).
 */
import {
  asString,
  type JsonObject,
  type McFlow,
  type McOutput,
  randomAlnum,
  type SimContext,
  type Tags,
} from "#local/simulator/store.ts";
import { mcError } from "./errors.ts";

/** aws-facts.md (MediaConnect user guide, quotas): 20 flows per region (adjustable), 50 outputs per flow (not adjustable). */
export const MEDIACONNECT_QUOTAS = { flows: 20, outputsPerFlow: 50 } as const;

const T_START = "mediaconnect.flowStarted";
const T_STOP = "mediaconnect.flowStopped";
const T_DELETE = "mediaconnect.flowDeleted";
const T_REMOVE_OUTPUT = "mediaconnect.outputRemoved";

export interface CreateFlowRequest {
  name: string | undefined;
  availabilityZone: string | undefined;
  description: string | undefined;
  source: JsonObject | undefined;
  sources: JsonObject[];
  outputs: JsonObject[];
  tags: Tags;
}

/** A name as MediaConnect puts it in ARNs (letters, digits, '-' and '_'; other characters dropped). */
const arnName = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, "") || "unnamed";

export class MediaConnectBackend {
  private readonly arnPrefix: string;

  constructor(private readonly ctx: SimContext) {
    this.arnPrefix = `arn:aws:mediaconnect:${ctx.region}:${ctx.accountId}`;
    const store = ctx.store;
    store.on(T_START, (arn) => {
      const f = this.state.flows[arn];
      if (f?.status === "STARTING") f.status = "ACTIVE";
    });
    store.on(T_STOP, (arn) => {
      const f = this.state.flows[arn];
      if (f?.status === "STOPPING") f.status = "STANDBY";
    });
    store.on(T_DELETE, (arn) => {
      if (this.state.flows[arn]?.status === "DELETING") delete this.state.flows[arn];
    });
    store.on(T_REMOVE_OUTPUT, (outputArn) => {
      for (const f of Object.values(this.state.flows))
        f.outputs = f.outputs.filter((o) => !(o.arn === outputArn && o.removing));
    });
  }

  private get state() {
    return this.ctx.store.state.mediaconnect;
  }

  /** `1-<16>-<12>` like `arn:aws:mediaconnect:us-west-2:111122223333:flow:1-23aBC45dEF67hiJ8-12AbC34DE5fG:Name`. */
  private arn(kind: "flow" | "source" | "output", name: string): string {
    const prefix = kind === "flow" ? "1" : "2";
    return `${this.arnPrefix}:${kind}:${prefix}-${randomAlnum(16)}-${randomAlnum(12)}:${arnName(name)}`;
  }

  flow(arn: string | undefined): McFlow {
    const f = arn ? this.state.flows[arn] : undefined;
    if (!f) throw mcError("NotFoundException", `Flow not found: ${arn}`);
    return f;
  }

  allFlows(): McFlow[] {
    return Object.values(this.state.flows);
  }

  private newOutputs(flow: McFlow, requests: JsonObject[]): McOutput[] {
    const names = new Set(flow.outputs.map((o) => o.name));
    const out: McOutput[] = [];
    for (const r of requests) {
      const name = asString(r.name);
      if (!name) throw mcError("BadRequestException", "Each output needs a name");
      if (names.has(name))
        throw mcError("BadRequestException", `An output named ${name} already exists on flow ${flow.name}`);
      names.add(name);
      out.push({ arn: this.arn("output", name), name, spec: r, removing: false });
    }
    if (flow.outputs.length + out.length > MEDIACONNECT_QUOTAS.outputsPerFlow)
      throw mcError(
        "AddFlowOutputs420Exception",
        `Flow ${flow.name} would have ${flow.outputs.length + out.length} outputs; ` +
          `the limit is ${MEDIACONNECT_QUOTAS.outputsPerFlow} outputs per flow`,
      );
    return out;
  }

  createFlow(req: CreateFlowRequest): McFlow {
    if (!req.name) throw mcError("BadRequestException", "Name is required");
    const sources = req.source ? [req.source, ...req.sources] : req.sources;
    if (sources.length !== 1)
      throw mcError(
        "BadRequestException",
        `A flow needs exactly one source (the simulator does not model source failover); got ${sources.length}`,
      );
    const source = sources[0] as JsonObject;
    const sourceName = asString(source.name) ?? req.name;
    if (Object.keys(this.state.flows).length >= MEDIACONNECT_QUOTAS.flows)
      throw mcError(
        "CreateFlow420Exception",
        `Limit exceeded: this account has reached its quota of ${MEDIACONNECT_QUOTAS.flows} flows in ` +
          `${this.ctx.region}. Delete unused flows or request a quota increase.`,
      );
    const n = Object.keys(this.state.flows).length;
    const flow: McFlow = {
      arn: this.arn("flow", req.name),
      name: req.name,
      status: "STANDBY",
      availabilityZone: req.availabilityZone ?? `${this.ctx.region}a`,
      ...(req.description !== undefined ? { description: req.description } : {}),
      source: { ...source, name: sourceName },
      sourceArn: this.arn("source", sourceName),
      ingestIp: `203.0.113.${10 + (n % 200)}`,
      outputs: [],
      tags: req.tags,
    };
    flow.outputs = this.newOutputs(flow, req.outputs);
    this.state.flows[flow.arn] = flow;
    this.ctx.store.changed();
    return flow;
  }

  startFlow(arn: string | undefined): McFlow {
    const f = this.flow(arn);
    if (f.status !== "STANDBY")
      throw mcError("BadRequestException", `Flow ${f.name} cannot be started while ${f.status}`);
    f.status = "STARTING";
    this.ctx.store.schedule(T_START, f.arn, "flowStart");
    return f;
  }

  stopFlow(arn: string | undefined): McFlow {
    const f = this.flow(arn);
    if (f.status !== "ACTIVE" && f.status !== "STARTING")
      throw mcError("BadRequestException", `Flow ${f.name} cannot be stopped while ${f.status}`);
    this.ctx.store.cancel(f.arn, [T_START]);
    f.status = "STOPPING";
    this.ctx.store.schedule(T_STOP, f.arn, "flowStop");
    return f;
  }

  deleteFlow(arn: string | undefined): McFlow {
    const f = this.flow(arn);
    if (f.status !== "STANDBY")
      throw mcError(
        "BadRequestException",
        `Flow ${f.name} is ${f.status}; a flow can be deleted only in STANDBY (stop it first)`,
      );
    f.status = "DELETING";
    this.ctx.store.schedule(T_DELETE, f.arn, "flowDelete");
    return f;
  }

  addOutputs(arn: string | undefined, requests: JsonObject[]): { flow: McFlow; added: McOutput[] } {
    const f = this.flow(arn);
    if (f.status !== "ACTIVE" && f.status !== "STANDBY")
      throw mcError("BadRequestException", `Outputs cannot be added to flow ${f.name} while ${f.status}`);
    if (requests.length === 0) throw mcError("BadRequestException", "Outputs must name at least one output");
    const added = this.newOutputs(f, requests);
    f.outputs.push(...added);
    this.ctx.store.changed();
    return { flow: f, added };
  }

  removeOutput(flowArn: string | undefined, outputArn: string | undefined): McOutput {
    const f = this.flow(flowArn);
    const o = f.outputs.find((x) => x.arn === outputArn);
    if (!o) throw mcError("NotFoundException", `Output not found: ${outputArn}`);
    if (f.status !== "ACTIVE" && f.status !== "STANDBY")
      throw mcError("BadRequestException", `Outputs cannot be removed from flow ${f.name} while ${f.status}`);
    if (!o.removing) {
      o.removing = true;
      this.ctx.store.schedule(T_REMOVE_OUTPUT, o.arn, "flowOutputRemove");
    }
    return o;
  }

  /** Flows (and their outputs) by ARN, for the tagging operations. */
  taggable(arn: string): { tags: Tags } {
    const f = this.state.flows[arn];
    if (f) return f;
    throw mcError("NotFoundException", `Resource not found: ${arn}`);
  }
}
