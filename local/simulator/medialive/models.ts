/**
 * MediaLive resources and their state machine: channels, inputs and input security groups, the
 * operations that change them, the timed transitions (durations.ts), quotas and validation.
 * Nothing here knows about HTTP: requests arrive parsed (responses.ts) and resources leave as
 * records that responses.ts renders.
 */
import type { SimEvent } from "#local/simulator/events.ts";
import { AwsError } from "#local/simulator/http.ts";
import {
  asObjects,
  asString,
  isObject,
  type Json,
  type JsonObject,
  type MlAlert,
  type MlChannel,
  type MlInput,
  type MlSecurityGroup,
  randomDigits,
  type SimContext,
  type Tags,
} from "#local/simulator/store.ts";
import { alertEvent, NO_REFUSALS, type PlatformLink, syncAlerts } from "./alerts.ts";
import { ChannelValidationError, mlError, type QuotaName, quotaExceeded } from "./errors.ts";
import { type ChannelEventState, channelStateEvent, forcedEventState } from "./state-events.ts";
import { inputAttachmentChanged, rtmpSettings, validateChannel } from "./validation.ts";

/** Default account quotas (aws-facts.md, archived user guide): per region, adjustable. */
export const MEDIALIVE_QUOTAS = {
  channels: 5,
  pushInputs: 5,
  inputSecurityGroups: 5,
} as const satisfies Record<QuotaName, number>;

/** aws-facts.md: 10 CIDR rules per input security group. */
const MAX_CIDR_RULES_PER_GROUP = 10;

/** An RTMP(S) push of a RUNNING channel, for the IVS liveness link. */
export interface RtmpTarget {
  url: string;
  streamName: string;
}

/** A destination setting that a channel's RTMP output group pushes to, whatever the channel's state. */
export interface RtmpPush extends RtmpTarget {
  channelId: string;
  channelArn: string;
  channelState: MlChannel["state"];
  /**
   * The channel is RUNNING and its (first attached) input has content for this pipeline: a
   * MEDIACONNECT input's flow is delivering (ACTIVE, active source pushing), any other input's
   * encoder has not been declared silent through POST /_sim/sources.
   */
  sending: boolean;
}

/**
 * What MediaLive needs from MediaConnect for MEDIACONNECT inputs: the actions of the input's role
 * (mediaconnect:ManagedDescribeFlow / ManagedAddOutput / ManagedRemoveOutput) and whether a flow
 * carries content. Wired in index.ts to the MediaConnect backend; none of it is HTTP.
 */
export interface FlowLink {
  /** Why a managed output cannot be added to the flow now (no such flow, DELETING, output limit), or undefined. */
  outputRefusal(flowArn: string): string | undefined;
  addOutput(flowArn: string, inputArn: string, outputName: string): void;
  /** Removes every output managed for this input, on every flow. */
  removeOutputs(inputArn: string): void;
  /** The flow is ACTIVE and its active source is pushing. */
  delivering(flowArn: string): boolean;
}

/** A MediaLive without MediaConnect: no flow exists. */
export const NO_FLOWS: FlowLink = {
  outputRefusal: (flowArn) => `MediaConnect flow ${flowArn} does not exist`,
  addOutput: () => {},
  removeOutputs: () => {},
  delivering: () => false,
};

/** The name of the output MediaLive adds to a flow for a MEDIACONNECT input (ours; AWS's naming is unverified). */
export const managedOutputName = (inputId: string) => `MediaLive-${inputId}`;

/** `roleArn` of a MEDIACONNECT input: an IAM role ARN. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

export interface CreateChannelRequest {
  requestId: string | undefined;
  /** The channel description as sent (wire JSON without requestId, dryRun, tags). */
  spec: JsonObject;
  tags: Tags;
}

export interface CreateInputRequest {
  requestId: string | undefined;
  type: string | undefined;
  spec: JsonObject;
  destinations: JsonObject[];
  sources: JsonObject[];
  /** As sent: ids of input security groups (anything else is reported as not found). */
  inputSecurityGroups: Json[];
  /** As sent (MEDIACONNECT inputs): `[{flowArn}]` and the role MediaLive uses on the flows. */
  mediaConnectFlows: Json | undefined;
  roleArn: Json | undefined;
  tags: Tags;
}

export interface CreateInputSecurityGroupRequest {
  whitelistRules: JsonObject[];
  tags: Tags;
}

/** ListAlerts `stateFilter`: SET, CLEARED, or ALL (the model's documented values). */
export type AlertStateFilter = MlAlert["state"] | "ALL";

/** How channel alerts and state changes reach the world outside MediaLive. */
export interface AlertLinks {
  /** Whether a platform refuses a url (default: none does). */
  platform?: PlatformLink;
  /** Where "MediaLive Channel Alert" and "MediaLive Channel State Change" events go (default: nowhere). */
  emit?: (event: SimEvent) => void;
}

export interface BatchStopResult {
  successful: MlChannel[];
  failed: { id: string; error: AwsError }[];
}

/** The simulated MediaLive account (one region): moto's "backend". */
export class MediaLiveBackend {
  private readonly arnPrefix: string;

  constructor(
    private readonly ctx: SimContext,
    /**
     * Called whenever a channel or input changes state or description (IVS derives stream
     * liveness, the platform ingest view derives receiving, from them).
     */
    private readonly onChannelsChanged: () => void,
    /** The MediaConnect flows that MEDIACONNECT inputs read from. */
    private readonly flows: FlowLink = NO_FLOWS,
    private readonly alertLinks: AlertLinks = {},
    /** Quotas raised for this account (startSimulator's `quotas.medialive`, as an approved increase would). */
    private readonly quotas: Partial<Record<QuotaName, number>> = {},
  ) {
    this.arnPrefix = `arn:aws:medialive:${ctx.region}:${ctx.accountId}`;
    this.registerTransitions();
  }

  /** Read through the store each time: a reset or a load replaces the state object. */
  private get state() {
    return this.ctx.store.state.medialive;
  }

  private newId(taken: Record<string, unknown>): string {
    let id = randomDigits(7);
    while (taken[id]) id = randomDigits(7);
    return id;
  }

  // ---------- lookups ----------
  channel(id: string | undefined): MlChannel {
    const c = id ? this.state.channels[id] : undefined;
    if (!c) throw mlError("NotFoundException", `Channel '${id}' not found`);
    return c;
  }
  input(id: string | undefined): MlInput {
    const i = id ? this.state.inputs[id] : undefined;
    if (!i) throw mlError("NotFoundException", `Input '${id}' not found`);
    return i;
  }
  inputSecurityGroup(id: string | undefined): MlSecurityGroup {
    const g = id ? this.state.securityGroups[id] : undefined;
    if (!g) throw mlError("NotFoundException", `Input security group '${id}' not found`);
    return g;
  }
  /** Any resource by ARN, for the tagging operations. */
  taggable(arn: string): { tags: Tags } {
    const all = [
      ...Object.values(this.state.channels),
      ...Object.values(this.state.inputs),
      ...Object.values(this.state.securityGroups),
    ];
    const r = all.find((x) => x.arn === arn);
    if (!r) throw mlError("NotFoundException", `Resource '${arn}' not found`);
    return r;
  }

  /** Every resource, DELETED ones included (GET /_sim/resources). */
  allChannels(): MlChannel[] {
    return Object.values(this.state.channels);
  }
  allInputs(): MlInput[] {
    return Object.values(this.state.inputs);
  }
  allInputSecurityGroups(): MlSecurityGroup[] {
    return Object.values(this.state.securityGroups);
  }
  /** What the List operations show: DELETED resources stay describable for a while but are not listed. */
  listChannels(): MlChannel[] {
    return this.allChannels().filter((c) => c.state !== "DELETED");
  }
  listInputs(): MlInput[] {
    return this.allInputs().filter((i) => i.state !== "DELETED");
  }
  listInputSecurityGroups(): MlSecurityGroup[] {
    return this.allInputSecurityGroups().filter((g) => g.state !== "DELETED");
  }

  /** The live inputs that name this group. */
  inputsOfGroup(g: MlSecurityGroup): MlInput[] {
    return this.allInputs().filter(
      (i) =>
        i.state !== "DELETED" &&
        Array.isArray(i.spec.inputSecurityGroups) &&
        i.spec.inputSecurityGroups.includes(g.id),
    );
  }

  // ---------- quotas ----------
  private enforceQuota(quota: QuotaName, inUse: number): void {
    const limit = this.quotas[quota] ?? MEDIALIVE_QUOTAS[quota];
    if (inUse >= limit) throw quotaExceeded(quota, limit, this.ctx.region);
  }

  // ---------- channels ----------
  /** A repeated RequestId returns the channel it created (before any check: it is a replay). */
  createChannel(req: CreateChannelRequest): MlChannel {
    const key = req.requestId ? `channel:${req.requestId}` : undefined;
    const known = key ? this.state.requestIds[key] : undefined;
    if (known && this.state.channels[known]) return this.channel(known);
    const errors = validateChannel(this.state, req.spec, undefined);
    if (errors.length > 0) throw new ChannelValidationError(errors);
    this.enforceQuota("channels", this.listChannels().length);
    const id = this.newId(this.state.channels);
    const c: MlChannel = {
      id,
      arn: `${this.arnPrefix}:channel:${id}`,
      spec: req.spec,
      state: "CREATING",
      tags: req.tags,
    };
    this.state.channels[id] = c;
    if (key) this.state.requestIds[key] = id;
    for (const a of asObjects(req.spec.inputAttachments)) {
      const i = this.state.inputs[asString(a.inputId) ?? ""];
      if (!i) continue;
      if (!i.attachedChannels.includes(id)) i.attachedChannels.push(id);
      if (i.state === "DETACHED") i.state = "ATTACHED";
    }
    this.ctx.store.schedule("ml.channel.created", id, "channelCreate");
    this.onChannelsChanged();
    return c;
  }

  updateChannel(id: string | undefined, patch: JsonObject): MlChannel {
    const c = this.channel(id);
    if (c.state !== "IDLE")
      throw mlError(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; it can only be updated while IDLE`,
      );
    if (inputAttachmentChanged(c.spec, patch))
      throw new ChannelValidationError([
        {
          elementPath: "/inputAttachments",
          errorMessage: "The input attachment of a channel cannot be changed",
        },
      ]);
    const spec: JsonObject = { ...c.spec, ...patch };
    const errors = validateChannel(this.state, spec, c.id);
    if (errors.length > 0) throw new ChannelValidationError(errors);
    c.spec = spec;
    c.state = "UPDATING";
    this.ctx.store.schedule("ml.channel.updated", c.id, "channelUpdate");
    this.onChannelsChanged();
    return c;
  }

  startChannel(id: string | undefined): MlChannel {
    const c = this.channel(id);
    // A channel still being created: 400, not 409 (openfun/marsha#796 met it on AWS; unverified
    // beyond that report). Other states: ConflictException (unverified).
    if (c.state === "CREATING")
      throw mlError(
        "BadRequestException",
        `Channel '${c.id}' is still being created; it cannot be started yet`,
      );
    if (c.state !== "IDLE")
      throw mlError(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; only an IDLE channel can be started`,
      );
    c.state = "STARTING";
    this.ctx.store.schedule("ml.channel.started", c.id, "channelStart");
    this.onChannelsChanged();
    this.announce(c, "STARTING");
    return c;
  }

  stopChannel(id: string | undefined): MlChannel {
    const c = this.channel(id);
    // Stopping an IDLE or STARTING channel: ConflictException (unverified for IDLE; the API
    // lists 409 for StopChannel and the brief asks for a conflict on STARTING).
    if (c.state !== "RUNNING" && c.state !== "RECOVERING")
      throw mlError(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; only a running channel can be stopped`,
      );
    c.state = "STOPPING";
    this.ctx.store.schedule("ml.channel.stopped", c.id, "channelStop");
    this.onChannelsChanged();
    this.announce(c, "STOPPING");
    return c;
  }

  /** StopChannel for each id; a failure is reported per channel, not for the whole batch. */
  batchStop(ids: readonly Json[]): BatchStopResult {
    const result: BatchStopResult = { successful: [], failed: [] };
    for (const id of ids) {
      try {
        result.successful.push(this.stopChannel(asString(id)));
      } catch (e) {
        if (!(e instanceof AwsError)) throw e;
        result.failed.push({ id: String(id), error: e });
      }
    }
    return result;
  }

  deleteChannel(id: string | undefined): MlChannel {
    const c = this.channel(id);
    if (c.state === "DELETED" || c.state === "DELETING") return c;
    if (c.state !== "IDLE" && c.state !== "CREATE_FAILED")
      throw mlError(
        "ConflictException",
        "Cannot delete a channel that has not been stopped yet. Please stop the channel first.",
      );
    c.state = "DELETING";
    this.ctx.store.schedule("ml.channel.deleted", c.id, "channelDelete");
    this.onChannelsChanged();
    this.announce(c, "DELETING");
    return c;
  }

  // ---------- inputs ----------
  createInput(req: CreateInputRequest): MlInput {
    const key = req.requestId ? `input:${req.requestId}` : undefined;
    const known = key ? this.state.requestIds[key] : undefined;
    if (known && this.state.inputs[known]) return this.input(known); // a replay, as for channels
    const type = req.type;
    if (!type) throw mlError("BadRequestException", "Input type is required");
    let destinations: JsonObject[] = [];
    let inputClass: MlInput["inputClass"];
    let flowArns: string[] = [];
    if (type === "RTMP_PUSH") {
      const requested = req.destinations;
      if (requested.length < 1 || requested.length > 2)
        throw mlError(
          "BadRequestException",
          "An RTMP_PUSH input needs 1 (SINGLE_INPUT) or 2 (STANDARD) destinations",
        );
      requested.forEach((d, idx) => {
        const streamName = asString(d.streamName) ?? "";
        if (!/^[^/\s]+\/[^/\s]+$/.test(streamName))
          throw mlError(
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
    } else if (type === "RTP_PUSH") {
      // MediaLive hands out two rtp:// endpoints (port 5000); one when the request gives one
      // destination (SINGLE_INPUT). Documentation-range addresses, never routable.
      if (req.destinations.length > 2)
        throw mlError(
          "BadRequestException",
          "An RTP_PUSH input has 1 (SINGLE_INPUT) or 2 (STANDARD) destinations",
        );
      const n = req.destinations.length === 1 ? 1 : 2;
      destinations = Array.from({ length: n }, (_, idx) => {
        const ip = `203.0.113.${10 + (Number(randomDigits(2)) % 200) + idx}`;
        return { ip, port: "5000", url: `rtp://${ip}:5000` };
      });
      inputClass = n === 2 ? "STANDARD" : "SINGLE_INPUT";
    } else if (type === "MEDIACONNECT") {
      // Not a push input: no push-input quota, no destinations.
      flowArns = this.checkMediaConnectInput(req);
      inputClass = flowArns.length === 2 ? "STANDARD" : "SINGLE_INPUT";
    } else {
      destinations = req.destinations;
      inputClass = req.sources.length === 1 || destinations.length === 1 ? "SINGLE_INPUT" : "STANDARD";
    }
    if (isPushType(type))
      this.enforceQuota(
        "pushInputs",
        this.listInputs().filter((i) => isPushType(asString(i.spec.type))).length,
      );
    for (const g of req.inputSecurityGroups) {
      const sg = typeof g === "string" ? this.state.securityGroups[g] : undefined;
      if (!sg || sg.state === "DELETED")
        throw mlError("BadRequestException", `Input security group '${String(g)}' not found`);
    }
    const id = this.newId(this.state.inputs);
    const i: MlInput = {
      id,
      arn: `${this.arnPrefix}:input:${id}`,
      spec: req.spec,
      destinations,
      inputClass,
      state: "CREATING",
      attachedChannels: [],
      tags: req.tags,
    };
    if (type === "MEDIACONNECT") {
      // "MediaLive automatically creates an output on each flow after you create the input" (MediaLive UG).
      for (const arn of flowArns) this.flows.addOutput(arn, i.arn, managedOutputName(id));
      i.spec = { ...i.spec, mediaConnectFlows: flowArns.map((flowArn) => ({ flowArn })) };
    }
    this.state.inputs[id] = i;
    if (key) this.state.requestIds[key] = id;
    this.ctx.store.schedule("ml.input.created", id, "inputCreate");
    return i;
  }

  /**
   * A MEDIACONNECT input's request: a role ARN and one flow (SINGLE_INPUT) or two (STANDARD), each
   * existing, not DELETING and below its output limit. Returns the flow ARNs. Messages are ours
   * (unverified); each names the field or flow at fault.
   */
  private checkMediaConnectInput(req: CreateInputRequest): string[] {
    const roleArn = asString(req.roleArn);
    if (!roleArn) throw mlError("BadRequestException", "roleArn is required for a MEDIACONNECT input");
    if (!ROLE_ARN.test(roleArn))
      throw mlError("BadRequestException", `roleArn must be an IAM role ARN, got '${roleArn}'`);
    const flows = Array.isArray(req.mediaConnectFlows) ? req.mediaConnectFlows : [];
    if (flows.length === 0)
      throw mlError(
        "BadRequestException",
        "mediaConnectFlows is required for a MEDIACONNECT input (one or two flows)",
      );
    if (flows.length > 2)
      throw mlError(
        "BadRequestException",
        `mediaConnectFlows has ${flows.length} flows; a MEDIACONNECT input takes 1 (SINGLE_INPUT) or 2 (STANDARD)`,
      );
    const arns = flows.map((f, idx) => {
      const arn = isObject(f) ? asString(f.flowArn) : undefined;
      if (!arn) throw mlError("BadRequestException", `mediaConnectFlows[${idx}].flowArn is required`);
      return arn;
    });
    if (arns.length === 2 && arns[0] === arns[1])
      throw mlError(
        "BadRequestException",
        `mediaConnectFlows names flow ${arns[0]} twice; a STANDARD input needs two flows`,
      );
    arns.forEach((arn, idx) => {
      const refusal = this.flows.outputRefusal(arn);
      if (refusal) throw mlError("BadRequestException", `mediaConnectFlows[${idx}].flowArn: ${refusal}`);
    });
    return arns;
  }

  deleteInput(id: string | undefined): void {
    const i = this.input(id);
    if (i.state === "DELETED" || i.state === "DELETING") return;
    if (i.state === "ATTACHED" || i.attachedChannels.length > 0)
      // The API reference lists 409 for DELETE /prod/inputs/{inputId}; message wording is ours.
      throw mlError(
        "ConflictException",
        `Input '${i.id}' is attached to channel(s) ${i.attachedChannels.join(", ")}; it cannot be deleted`,
      );
    if (i.state === "CREATING") throw mlError("ConflictException", `Input '${i.id}' is still being created`);
    i.state = "DELETING";
    this.ctx.store.schedule("ml.input.deleted", i.id, "inputDelete");
  }

  // ---------- input security groups ----------
  createInputSecurityGroup(req: CreateInputSecurityGroupRequest): MlSecurityGroup {
    this.enforceQuota("inputSecurityGroups", this.listInputSecurityGroups().length);
    if (req.whitelistRules.length > MAX_CIDR_RULES_PER_GROUP)
      throw mlError(
        "BadRequestException",
        `An input security group allows at most ${MAX_CIDR_RULES_PER_GROUP} CIDR rules`,
      );
    const id = this.newId(this.state.securityGroups);
    const g: MlSecurityGroup = {
      id,
      arn: `${this.arnPrefix}:inputSecurityGroup:${id}`,
      whitelistRules: req.whitelistRules.map((r) => ({ cidr: asString(r.cidr) ?? "" })),
      state: "IDLE",
      tags: req.tags,
    };
    this.state.securityGroups[id] = g;
    return g;
  }

  deleteInputSecurityGroup(id: string | undefined): void {
    const g = this.inputSecurityGroup(id);
    if (g.state === "DELETED") return;
    const users = this.inputsOfGroup(g);
    // Deleting a group still used by inputs fails ("still being used by inputs"); 409 is our choice (unverified).
    if (users.length > 0)
      throw mlError(
        "ConflictException",
        `Input security group '${g.id}' is still being used by inputs ${users.map((u) => u.id).join(", ")}`,
      );
    g.state = "DELETED";
    this.ctx.store.schedule("ml.isg.purge", g.id, "deletedRetention");
  }

  // ---------- tags ----------
  createTags(arn: string, tags: Tags): void {
    Object.assign(this.taggable(arn).tags, tags);
  }
  deleteTags(arn: string, keys: readonly string[]): void {
    const r = this.taggable(arn);
    for (const k of keys) delete r.tags[k];
  }

  // ---------- alerts ----------
  /** ListAlerts: the channel's alerts, oldest first. A DELETED channel still answers (as DescribeChannel does). */
  listAlerts(channelId: string | undefined, stateFilter: AlertStateFilter = "ALL"): MlAlert[] {
    const c = this.channel(channelId);
    const alerts = this.state.alerts[c.id] ?? [];
    return stateFilter === "ALL" ? alerts : alerts.filter((a) => a.state === stateFilter);
  }

  /**
   * Re-derive every channel's alerts (alerts.ts) and send an event for each SET and CLEARED,
   * unless `quiet`: loading a saved state is not a transition anyone should hear about.
   */
  syncAlerts({ quiet = false }: { quiet?: boolean } = {}): void {
    const transitions = syncAlerts(
      this.state.alerts,
      this.state.channels,
      this.alertLinks.platform ?? NO_REFUSALS,
      this.state.inputs,
    );
    if (transitions.length === 0) return;
    this.ctx.store.changed();
    if (quiet) return;
    for (const t of transitions) this.alertLinks.emit?.(alertEvent(t, this.ctx));
  }

  // ---------- links and test hooks ----------
  /** Whether the channel's (first attached) input has content for this pipeline. */
  private inputFeeds(c: MlChannel, pipeline: number): boolean {
    const inputId = asString(asObjects(c.spec.inputAttachments)[0]?.inputId);
    const i = inputId ? this.state.inputs[inputId] : undefined;
    if (!i) return false;
    if (i.spec.type === "MEDIACONNECT") {
      // Pipeline n reads flow n (a SINGLE_INPUT input's one flow feeds every pipeline).
      const arns = asObjects(i.spec.mediaConnectFlows).map((f) => asString(f.flowArn));
      const arn = arns[pipeline] ?? arns[0];
      return arn !== undefined && this.flows.delivering(arn);
    }
    return i.pushing !== false;
  }

  /** Every RTMP destination setting of every channel (see validation.ts rtmpSettings). */
  rtmpPushes(): RtmpPush[] {
    const out: RtmpPush[] = [];
    for (const c of this.allChannels())
      for (const { pipeline, setting } of rtmpSettings(c.spec)) {
        const url = asString(setting.url);
        if (!url) continue;
        out.push({
          url,
          streamName: asString(setting.streamName) ?? "",
          channelId: c.id,
          channelArn: c.arn,
          channelState: c.state,
          sending: c.state === "RUNNING" && this.inputFeeds(c, pipeline),
        });
      }
    return out;
  }

  /** The RTMP(S) pushes of RUNNING channels, for the IVS liveness link (input content not considered). */
  rtmpTargets(): RtmpTarget[] {
    return this.rtmpPushes()
      .filter((p) => p.channelState === "RUNNING")
      .map(({ url, streamName }) => ({ url, streamName }));
  }

  /**
   * POST /_sim/sources `{inputId, pushing}`: whether an encoder sends to this input. A
   * MEDIACONNECT input gets its content from its flow: set the flow's source instead.
   */
  setInputPushing(id: string, pushing: boolean): MlInput {
    const i = this.input(id);
    if (i.spec.type === "MEDIACONNECT")
      throw mlError(
        "BadRequestException",
        `inputId: input '${i.id}' is a MEDIACONNECT input; say whether its flow's source is pushing (flowArn)`,
      );
    i.pushing = pushing;
    this.ctx.store.changed();
    this.onChannelsChanged();
    return i;
  }

  /**
   * Put a channel in a state at once, cancelling its pending transitions. False if there is no
   * such channel. A change of state sends the event of the forced state (state-events.ts
   * forcedEventState: IDLE is STOPPED, none for CREATING or UPDATING); forcing the state the
   * channel is already in changes nothing and sends nothing.
   */
  forceChannelState(id: string, state: MlChannel["state"]): boolean {
    const c = this.state.channels[id];
    if (!c) return false;
    this.ctx.store.cancel(id);
    const changed = c.state !== state;
    c.state = state;
    this.onChannelsChanged();
    this.ctx.store.changed();
    if (changed) this.announce(c, forcedEventState(state));
    return true;
  }

  /** Sends the channel's "MediaLive Channel State Change" event, once its new state is applied. */
  private announce(c: MlChannel, state: ChannelEventState | undefined): void {
    if (state !== undefined) this.alertLinks.emit?.(channelStateEvent(c, state, this.ctx));
  }

  // ---------- timed transitions ----------
  private setChannelState(
    id: string,
    from: MlChannel["state"][],
    to: MlChannel["state"],
  ): MlChannel | undefined {
    const c = this.state.channels[id];
    if (!c || !from.includes(c.state)) return undefined;
    c.state = to;
    return c;
  }

  private forgetRequestIds(kind: "channel" | "input", id: string): void {
    for (const [k, v] of Object.entries(this.state.requestIds))
      if (k.startsWith(`${kind}:`) && v === id) delete this.state.requestIds[k];
  }

  private registerTransitions(): void {
    const { store } = this.ctx;
    // Each completed transition sends its state-change event, except the end of an update.
    store.on("ml.channel.created", (id) => {
      const c = this.setChannelState(id, ["CREATING"], "IDLE");
      if (!c) return;
      this.onChannelsChanged();
      this.announce(c, "CREATED");
    });
    store.on("ml.channel.updated", (id) => {
      // No event: AWS does not report UPDATING or its end.
      if (this.setChannelState(id, ["UPDATING"], "IDLE")) this.onChannelsChanged();
    });
    store.on("ml.channel.started", (id) => {
      const c = this.setChannelState(id, ["STARTING"], "RUNNING");
      if (!c) return;
      this.onChannelsChanged();
      this.announce(c, "RUNNING");
    });
    store.on("ml.channel.stopped", (id) => {
      const c = this.setChannelState(id, ["STOPPING"], "IDLE");
      if (!c) return;
      this.onChannelsChanged();
      this.announce(c, "STOPPED");
    });
    store.on("ml.channel.deleted", (id) => {
      const c = this.setChannelState(id, ["DELETING"], "DELETED");
      if (!c) return;
      for (const a of asObjects(c.spec.inputAttachments)) {
        const inputId = asString(a.inputId);
        if (inputId) store.schedule("ml.input.detach", inputId, "inputDetach");
      }
      store.schedule("ml.channel.purge", id, "deletedRetention");
      this.onChannelsChanged();
      this.announce(c, "DELETED");
    });
    store.on("ml.channel.purge", (id) => {
      delete this.state.channels[id];
      this.forgetRequestIds("channel", id);
      this.onChannelsChanged();
    });
    store.on("ml.input.created", (id) => {
      const i = this.state.inputs[id];
      if (i?.state === "CREATING") i.state = i.attachedChannels.length > 0 ? "ATTACHED" : "DETACHED";
    });
    store.on("ml.input.detach", (id) => {
      const i = this.state.inputs[id];
      if (!i) return;
      i.attachedChannels = i.attachedChannels.filter((c) => {
        const ch = this.state.channels[c];
        return ch !== undefined && ch.state !== "DELETED";
      });
      if (i.attachedChannels.length === 0 && i.state === "ATTACHED") i.state = "DETACHED";
    });
    store.on("ml.input.deleted", (id) => {
      const i = this.state.inputs[id];
      if (i?.state !== "DELETING") return;
      i.state = "DELETED";
      // The outputs MediaLive added to the flows go with the input (*uncertain* in aws-facts.md).
      if (i.spec.type === "MEDIACONNECT") this.flows.removeOutputs(i.arn);
      store.schedule("ml.input.purge", id, "deletedRetention");
      this.onChannelsChanged();
    });
    store.on("ml.input.purge", (id) => {
      delete this.state.inputs[id];
      this.forgetRequestIds("input", id);
    });
    store.on("ml.isg.purge", (id) => {
      delete this.state.securityGroups[id];
    });
  }
}

/** Push inputs (RTMP_PUSH, RTP_PUSH, UDP_PUSH, ...) count against their own quota; pull inputs do not. */
function isPushType(type: string | undefined): boolean {
  return (type ?? "").endsWith("_PUSH");
}
