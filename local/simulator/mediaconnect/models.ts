/**
 * MediaConnect flows and their state machine (aws-facts.md "MediaConnect"):
 * CreateFlow -> STANDBY; StartFlow: STANDBY -> STARTING -> ACTIVE; StopFlow: ACTIVE (or
 * STARTING) -> STOPPING -> STANDBY; DeleteFlow (STANDBY only): DELETING -> gone (404).
 * Outputs are added while ACTIVE or STANDBY (at most 50 per flow) and removed asynchronously.
 * Source failover: one or two sources, which one is active, AddFlowSources / RemoveFlowSource /
 * UpdateFlow. MediaLive (a MEDIACONNECT input) adds and removes its own managed outputs through
 * the `*MediaLiveOutput*` methods (wired in index.ts). Nothing here knows about HTTP
 * (responses.ts renders the records).
 */
import { awsEvent, eventTimeAt, type SimEvent } from "#local/simulator/events.ts";
import {
  asString,
  isObject,
  type JsonObject,
  type McFlow,
  type McFlowStatus,
  type McOutput,
  type McSource,
  randomAlnum,
  type SimContext,
  type Tags,
} from "#local/simulator/store.ts";
import { mcError } from "./errors.ts";

/**
 * aws-facts.md (MediaConnect user guide, quotas): 20 flows per region (adjustable), 50 outputs
 * per flow (not adjustable); source failover: at most 2 sources per flow.
 */
export const MEDIACONNECT_QUOTAS = { flows: 20, outputsPerFlow: 50, sourcesPerFlow: 2 } as const;

/** The adjustable MediaConnect quota a simulated account may raise (startSimulator's `quotas.mediaconnect`). */
export interface MediaConnectQuotaOverrides {
  readonly flows?: number;
}

const T_START = "mediaconnect.flowStarted";
const T_STOP = "mediaconnect.flowStopped";
const T_DELETE = "mediaconnect.flowDeleted";
const T_REMOVE_OUTPUT = "mediaconnect.outputRemoved";
const T_REMOVE_SOURCE = "mediaconnect.sourceRemoved";

const FAILOVER_STATES = ["ENABLED", "DISABLED"] as const;
const FAILOVER_MODES = ["MERGE", "FAILOVER"] as const;

export interface CreateFlowRequest {
  name: string | undefined;
  availabilityZone: string | undefined;
  description: string | undefined;
  source: JsonObject | undefined;
  sources: JsonObject[];
  /** FailoverConfig as sent (wire form, validated here); undefined when absent. */
  sourceFailoverConfig: unknown;
  outputs: JsonObject[];
  tags: Tags;
}

/** A name as MediaConnect puts it in ARNs (letters, digits, '-' and '_'; other characters dropped). */
const arnName = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, "") || "unnamed";

/** A source counts as pushing unless POST /_sim/sources said otherwise. */
const isPushing = (s: McSource) => s.pushing !== false;

export const FLOW_STATUS_CHANGE = "MediaConnect Flow Status Change";

/**
 * The "MediaConnect Flow Status Change" event of a flow that went from `previousStatus` to its
 * current status, in the shape of AWS's example (MediaConnect user guide,
 * monitoring-cloudwatch-events-flow-state-change): `detail: {currentStatus, previousStatus}`,
 * the flow's ARN in `resources`. `time`: now, with milliseconds when the simulator runs faster
 * than AWS (events.ts eventTimeAt).
 */
export function flowStatusEvent(
  flow: McFlow,
  previousStatus: McFlowStatus,
  ctx: Pick<SimContext, "accountId" | "region" | "store">,
  now = new Date(),
): SimEvent {
  return awsEvent(ctx, {
    detailType: FLOW_STATUS_CHANGE,
    source: "aws.mediaconnect",
    resource: flow.arn,
    time: eventTimeAt(now.toISOString(), ctx.store.timeScale),
    detail: { currentStatus: flow.status, previousStatus },
  });
}

export class MediaConnectBackend {
  private readonly arnPrefix: string;

  constructor(
    private readonly ctx: SimContext,
    /** Called whenever a flow's status, sources or failover settings change (the ingest view derives from them). */
    private readonly onFlowsChanged: () => void = () => {},
    private readonly quotas: MediaConnectQuotaOverrides = {},
    /** Where "MediaConnect Flow Status Change" events go (default: nowhere). */
    private readonly emit: (event: SimEvent) => void = () => {},
  ) {
    this.arnPrefix = `arn:aws:mediaconnect:${ctx.region}:${ctx.accountId}`;
    const store = ctx.store;
    store.on(T_START, (arn) => {
      const f = this.state.flows[arn];
      if (f?.status === "STARTING") this.setStatus(f, "ACTIVE");
      this.onFlowsChanged();
    });
    store.on(T_STOP, (arn) => {
      const f = this.state.flows[arn];
      if (f?.status === "STOPPING") this.setStatus(f, "STANDBY");
      this.onFlowsChanged();
    });
    store.on(T_DELETE, (arn) => {
      if (this.state.flows[arn]?.status === "DELETING") delete this.state.flows[arn];
      this.onFlowsChanged();
    });
    store.on(T_REMOVE_OUTPUT, (outputArn) => {
      for (const f of Object.values(this.state.flows))
        f.outputs = f.outputs.filter((o) => !(o.arn === outputArn && o.removing));
    });
    store.on(T_REMOVE_SOURCE, (sourceArn) => {
      for (const f of Object.values(this.state.flows))
        f.sources = f.sources.filter((s) => !(s.arn === sourceArn && s.removing));
      this.onFlowsChanged();
    });
  }

  private get state() {
    return this.ctx.store.state.mediaconnect;
  }

  /**
   * Moves a flow to another status and sends its status-change event once the status is applied.
   * A flow's creation (it starts in STANDBY, from no status) and its disappearance after DELETING
   * (no status to report) send none.
   */
  private setStatus(f: McFlow, status: McFlowStatus): void {
    const previous = f.status;
    if (previous === status) return;
    f.status = status;
    this.emit(flowStatusEvent(f, previous, this.ctx));
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

  // ---------- sources and failover ----------
  private failoverEnabled(config: JsonObject | undefined): boolean {
    return config?.state === "ENABLED";
  }

  /**
   * The source the flow passes on: with failover ENABLED the primary
   * (`sourcePriority.primarySource`, else the first source) while it is pushing, else the other
   * one if that is pushing (else still the primary); with failover DISABLED or never configured,
   * the first source. Sources being removed are not candidates. The switch is immediate: the
   * simulator does not model `recoveryWindow` or MERGE's packet-level recovery.
   */
  activeSource(f: McFlow): McSource | undefined {
    const live = f.sources.filter((s) => !s.removing);
    const first = live[0];
    if (!first || !this.failoverEnabled(f.sourceFailoverConfig)) return first;
    const priority = f.sourceFailoverConfig?.sourcePriority;
    const primaryName = isObject(priority) ? asString(priority.primarySource) : undefined;
    const primary = live.find((s) => s.name === primaryName) ?? first;
    if (isPushing(primary)) return primary;
    return live.find((s) => s !== primary && isPushing(s)) ?? primary;
  }

  /**
   * DescribeFlowSourceMetadata: while the flow is ACTIVE and its active source receives, the
   * transport stream's programs (`transportMediaInfo`); one message per source that receives
   * nothing. The message codes and wording are the simulator's (AWS documents the shape, not the
   * codes), and only what castflow reads is modelled: whether media arrives, and which sources
   * report a problem.
   */
  sourceMetadata(arn: string | undefined): JsonObject {
    const f = this.flow(arn);
    const timestamp = new Date().toISOString();
    if (f.status !== "ACTIVE")
      return {
        flowArn: f.arn,
        timestamp,
        messages: [{ code: "FLOW_NOT_ACTIVE", message: `Flow is ${f.status}`, resourceName: f.name }],
      };
    const silent = f.sources.filter((s) => !s.removing && !isPushing(s));
    const active = this.activeSource(f);
    const media = active !== undefined && isPushing(active);
    return {
      flowArn: f.arn,
      timestamp,
      messages: silent.map((s) => ({
        code: "SOURCE_NO_CONTENT",
        message: `No content received on source ${s.name}`,
        resourceName: s.name,
      })),
      ...(media
        ? {
            transportMediaInfo: {
              programs: [
                {
                  programName: active.name,
                  programNumber: 1,
                  programPid: 4096,
                  pcrPid: 256,
                  streams: [
                    {
                      streamType: "video",
                      pid: 256,
                      codec: "h264",
                      frameResolution: { frameWidth: 1920, frameHeight: 1080 },
                      frameRate: "30",
                    },
                    { streamType: "audio", pid: 257, codec: "aac", channels: 2, sampleRate: 48000 },
                  ],
                },
              ],
            },
          }
        : {}),
    };
  }

  /** Whether the flow passes content on: ACTIVE, and its active source is pushing. */
  delivering(arn: string): boolean {
    const f = this.state.flows[arn];
    if (f?.status !== "ACTIVE") return false;
    const s = this.activeSource(f);
    return s !== undefined && isPushing(s);
  }

  /** Validates a FailoverConfig (CreateFlow) or UpdateFailoverConfig (UpdateFlow) merged over `base`. */
  private failoverConfig(raw: unknown, base: JsonObject | undefined): JsonObject {
    if (!isObject(raw)) throw mcError("BadRequestException", "sourceFailoverConfig must be an object");
    const merged: JsonObject = { ...base };
    const state = raw.state;
    if (state !== undefined) {
      if (!FAILOVER_STATES.includes(state as never))
        throw mcError("BadRequestException", `sourceFailoverConfig.state must be ENABLED or DISABLED`);
      merged.state = state;
    }
    const mode = raw.failoverMode;
    if (mode !== undefined) {
      if (!FAILOVER_MODES.includes(mode as never))
        throw mcError("BadRequestException", `sourceFailoverConfig.failoverMode must be MERGE or FAILOVER`);
      merged.failoverMode = mode;
    }
    const win = raw.recoveryWindow;
    if (win !== undefined) {
      if (typeof win !== "number" || !Number.isInteger(win))
        throw mcError("BadRequestException", "sourceFailoverConfig.recoveryWindow must be an integer");
      merged.recoveryWindow = win;
    }
    const priority = raw.sourcePriority;
    if (priority !== undefined) {
      if (!isObject(priority) || (priority.primarySource !== undefined && !asString(priority.primarySource)))
        throw mcError(
          "BadRequestException",
          "sourceFailoverConfig.sourcePriority.primarySource must be a string",
        );
      merged.sourcePriority = {
        ...(asString(priority.primarySource) ? { primarySource: priority.primarySource } : {}),
      };
    }
    return merged;
  }

  /**
   * The rules a flow's sources and failover settings keep (CloudFormation FailoverConfig.State:
   * "If the state is inactive, the flow can have only one source. If the state is active, the
   * flow can have one or two sources."); the primary source must be one of the flow's sources.
   */
  private checkSources(flowName: string, sources: McSource[], config: JsonObject | undefined): void {
    if (sources.length > MEDIACONNECT_QUOTAS.sourcesPerFlow)
      throw mcError(
        "BadRequestException",
        `Flow ${flowName} would have ${sources.length} sources; a flow has at most ` +
          `${MEDIACONNECT_QUOTAS.sourcesPerFlow} (source failover)`,
      );
    if (sources.length > 1 && !this.failoverEnabled(config))
      throw mcError(
        "BadRequestException",
        `Flow ${flowName} can have a second source only with source failover ENABLED (sourceFailoverConfig.state)`,
      );
    const priority = config?.sourcePriority;
    const primary = isObject(priority) ? asString(priority.primarySource) : undefined;
    if (primary !== undefined && !sources.some((s) => s.name === primary))
      throw mcError(
        "BadRequestException",
        `sourceFailoverConfig.sourcePriority.primarySource '${primary}' is not a source of flow ${flowName}`,
      );
  }

  private newSources(flow: { name: string; sources: McSource[] }, requests: JsonObject[]): McSource[] {
    const names = new Set(flow.sources.map((s) => s.name));
    const single = flow.sources.length === 0 && requests.length === 1;
    return requests.map((r) => {
      // A lone source may go unnamed (it takes the flow's name); with two, each needs a name so
      // that sourcePriority can point at one (ours; unverified).
      const name = asString(r.name) ?? (single ? flow.name : undefined);
      if (!name) throw mcError("BadRequestException", "Each source needs a name when a flow has two sources");
      if (names.has(name))
        throw mcError("BadRequestException", `A source named ${name} already exists on flow ${flow.name}`);
      names.add(name);
      return { arn: this.arn("source", name), name, spec: { ...r, name }, removing: false };
    });
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
    if (req.source && req.sources.length > 0)
      throw mcError("BadRequestException", "Give either source or sources, not both");
    const requested = req.source ? [req.source] : req.sources;
    if (requested.length === 0)
      throw mcError("BadRequestException", "A flow needs a source (source or sources)");
    if (requested.length > MEDIACONNECT_QUOTAS.sourcesPerFlow)
      throw mcError(
        "BadRequestException",
        `A flow has at most ${MEDIACONNECT_QUOTAS.sourcesPerFlow} sources (source failover); got ${requested.length}`,
      );
    const config =
      req.sourceFailoverConfig !== undefined
        ? this.failoverConfig(req.sourceFailoverConfig, undefined)
        : undefined;
    const sources = this.newSources({ name: req.name, sources: [] }, requested);
    this.checkSources(req.name, sources, config);
    const flowQuota = this.quotas.flows ?? MEDIACONNECT_QUOTAS.flows;
    if (Object.keys(this.state.flows).length >= flowQuota)
      throw mcError(
        "CreateFlow420Exception",
        `Limit exceeded: this account has reached its quota of ${flowQuota} flows in ` +
          `${this.ctx.region}. Delete unused flows or request a quota increase.`,
      );
    const n = Object.keys(this.state.flows).length;
    const flow: McFlow = {
      arn: this.arn("flow", req.name),
      name: req.name,
      status: "STANDBY",
      availabilityZone: req.availabilityZone ?? `${this.ctx.region}a`,
      ...(req.description !== undefined ? { description: req.description } : {}),
      sources,
      ...(config !== undefined ? { sourceFailoverConfig: config } : {}),
      ingestIp: `203.0.113.${10 + (n % 200)}`,
      outputs: [],
      tags: req.tags,
    };
    flow.outputs = this.newOutputs(flow, req.outputs);
    this.state.flows[flow.arn] = flow;
    this.ctx.store.changed();
    this.onFlowsChanged();
    return flow;
  }

  startFlow(arn: string | undefined): McFlow {
    const f = this.flow(arn);
    if (f.status !== "STANDBY")
      throw mcError("BadRequestException", `Flow ${f.name} cannot be started while ${f.status}`);
    this.setStatus(f, "STARTING");
    this.ctx.store.schedule(T_START, f.arn, "flowStart");
    this.onFlowsChanged();
    return f;
  }

  stopFlow(arn: string | undefined): McFlow {
    const f = this.flow(arn);
    if (f.status !== "ACTIVE" && f.status !== "STARTING")
      throw mcError("BadRequestException", `Flow ${f.name} cannot be stopped while ${f.status}`);
    this.ctx.store.cancel(f.arn, [T_START]);
    this.setStatus(f, "STOPPING");
    this.ctx.store.schedule(T_STOP, f.arn, "flowStop");
    this.onFlowsChanged();
    return f;
  }

  deleteFlow(arn: string | undefined): McFlow {
    const f = this.flow(arn);
    if (f.status !== "STANDBY")
      throw mcError(
        "BadRequestException",
        `Flow ${f.name} is ${f.status}; a flow can be deleted only in STANDBY (stop it first)`,
      );
    this.setStatus(f, "DELETING");
    this.ctx.store.schedule(T_DELETE, f.arn, "flowDelete");
    this.onFlowsChanged();
    return f;
  }

  private requireEditable(f: McFlow, what: string): void {
    if (f.status !== "ACTIVE" && f.status !== "STANDBY")
      throw mcError("BadRequestException", `${what} flow ${f.name} while ${f.status}`);
  }

  addOutputs(arn: string | undefined, requests: JsonObject[]): { flow: McFlow; added: McOutput[] } {
    const f = this.flow(arn);
    this.requireEditable(f, "Outputs cannot be added to");
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
    if (o.mediaLiveInputArn !== undefined)
      // Wording ours (unverified): MediaLive owns this output; deleting its input removes it.
      throw mcError(
        "BadRequestException",
        `Output ${o.name} is managed by MediaLive (input ${o.mediaLiveInputArn}); delete the MediaLive input to remove it`,
      );
    this.requireEditable(f, "Outputs cannot be removed from");
    if (!o.removing) {
      o.removing = true;
      this.ctx.store.schedule(T_REMOVE_OUTPUT, o.arn, "flowOutputRemove");
    }
    return o;
  }

  /** AddFlowSources: the flow keeps at most 2 sources, and 2 only with failover ENABLED. */
  addSources(arn: string | undefined, requests: JsonObject[]): { flow: McFlow; added: McSource[] } {
    const f = this.flow(arn);
    this.requireEditable(f, "Sources cannot be added to");
    if (requests.length === 0) throw mcError("BadRequestException", "Sources must name at least one source");
    const added = this.newSources(f, requests);
    this.checkSources(f.name, [...f.sources, ...added], f.sourceFailoverConfig);
    f.sources.push(...added);
    this.ctx.store.changed();
    this.onFlowsChanged();
    return { flow: f, added };
  }

  /** RemoveFlowSource (202): the source goes after `flowSourceRemove`; the last source cannot go. */
  removeSource(flowArn: string | undefined, sourceArn: string | undefined): McSource {
    const f = this.flow(flowArn);
    const s = f.sources.find((x) => x.arn === sourceArn);
    if (!s) throw mcError("NotFoundException", `Source not found: ${sourceArn}`);
    this.requireEditable(f, "Sources cannot be removed from");
    if (!s.removing) {
      if (f.sources.filter((x) => !x.removing).length <= 1)
        // Wording ours (unverified): a flow always has a source.
        throw mcError("BadRequestException", `Source ${s.name} is the only source of flow ${f.name}`);
      s.removing = true;
      this.ctx.store.schedule(T_REMOVE_SOURCE, s.arn, "flowSourceRemove");
      this.onFlowsChanged();
    }
    return s;
  }

  /** UpdateFlow: the members of `sourceFailoverConfig` that are given replace the current ones. */
  updateFlow(arn: string | undefined, sourceFailoverConfig: unknown): McFlow {
    const f = this.flow(arn);
    this.requireEditable(f, "Cannot update");
    if (sourceFailoverConfig !== undefined) {
      const config = this.failoverConfig(sourceFailoverConfig, f.sourceFailoverConfig);
      this.checkSources(
        f.name,
        f.sources.filter((s) => !s.removing),
        config,
      );
      f.sourceFailoverConfig = config;
    }
    this.ctx.store.changed();
    this.onFlowsChanged();
    return f;
  }

  /**
   * POST /_sim/sources: whether an encoder sends to the named source (all sources when
   * `sourceName` is omitted). Throws NotFoundException for an unknown flow or source name.
   */
  setPushing(flowArn: string, sourceName: string | undefined, pushing: boolean): McSource[] {
    const f = this.flow(flowArn);
    const targets = sourceName === undefined ? f.sources : f.sources.filter((s) => s.name === sourceName);
    if (targets.length === 0)
      throw mcError("NotFoundException", `Flow ${f.name} has no source named ${sourceName}`);
    for (const s of targets) s.pushing = pushing;
    this.ctx.store.changed();
    this.onFlowsChanged();
    return targets;
  }

  // ---------- outputs MediaLive manages (MEDIACONNECT inputs) ----------
  /**
   * Why MediaLive cannot add its output to the flow now, or undefined: no such flow, the flow is
   * being deleted, or it already has 50 outputs. Wording ours (unverified).
   */
  mediaLiveOutputRefusal(flowArn: string): string | undefined {
    const f = this.state.flows[flowArn];
    if (!f) return `MediaConnect flow ${flowArn} does not exist`;
    if (f.status === "DELETING") return `MediaConnect flow ${flowArn} is being deleted`;
    if (f.outputs.length >= MEDIACONNECT_QUOTAS.outputsPerFlow)
      return (
        `MediaConnect flow ${flowArn} has reached its output limit ` +
        `(${MEDIACONNECT_QUOTAS.outputsPerFlow} outputs per flow)`
      );
    return undefined;
  }

  /** The output MediaLive adds to a flow for a MEDIACONNECT input (call mediaLiveOutputRefusal first). */
  addMediaLiveOutput(flowArn: string, inputArn: string, name: string): McOutput {
    const f = this.flow(flowArn);
    const o: McOutput = {
      arn: this.arn("output", name),
      name,
      spec: {},
      removing: false,
      mediaLiveInputArn: inputArn,
    };
    f.outputs.push(o);
    this.ctx.store.changed();
    return o;
  }

  /** Removes (at once) every output MediaLive manages for this input. */
  removeMediaLiveOutputs(inputArn: string): void {
    for (const f of Object.values(this.state.flows))
      f.outputs = f.outputs.filter((o) => o.mediaLiveInputArn !== inputArn);
    this.ctx.store.changed();
  }

  /** Flows (and their outputs) by ARN, for the tagging operations. */
  taggable(arn: string): { tags: Tags } {
    const f = this.state.flows[arn];
    if (f) return f;
    throw mcError("NotFoundException", `Resource not found: ${arn}`);
  }
}
