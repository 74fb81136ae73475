/**
 * MediaLive resources and their state machine: channels, inputs and input security groups, the
 * operations that change them, the timed transitions (durations.ts), quotas and validation.
 * Nothing here knows about HTTP: requests arrive parsed (responses.ts) and resources leave as
 * records that responses.ts renders.
 */
import { AwsError } from "#local/simulator/http.ts";
import {
  asObjects,
  asString,
  type Json,
  type JsonObject,
  type MlChannel,
  type MlInput,
  type MlSecurityGroup,
  randomDigits,
  type SimContext,
  type Tags,
} from "#local/simulator/store.ts";
import { ChannelValidationError, mlError, type QuotaName, quotaExceeded } from "./errors.ts";
import { inputAttachmentChanged, validateChannel } from "./validation.ts";

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
  tags: Tags;
}

export interface CreateInputSecurityGroupRequest {
  whitelistRules: JsonObject[];
  tags: Tags;
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
    /** Called whenever a channel enters or leaves RUNNING (IVS derives stream liveness from it). */
    private readonly onChannelsChanged: () => void,
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
    const limit = MEDIALIVE_QUOTAS[quota];
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
    return c;
  }

  startChannel(id: string | undefined): MlChannel {
    const c = this.channel(id);
    if (c.state !== "IDLE")
      throw mlError(
        "ConflictException",
        `Channel '${c.id}' is in state ${c.state}; only an IDLE channel can be started`,
      );
    c.state = "STARTING";
    this.ctx.store.schedule("ml.channel.started", c.id, "channelStart");
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
    this.state.inputs[id] = i;
    if (key) this.state.requestIds[key] = id;
    this.ctx.store.schedule("ml.input.created", id, "inputCreate");
    return i;
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

  // ---------- links and test hooks ----------
  rtmpTargets(): RtmpTarget[] {
    const out: RtmpTarget[] = [];
    for (const c of this.allChannels()) {
      if (c.state !== "RUNNING") continue;
      for (const d of asObjects(c.spec.destinations))
        for (const s of asObjects(d.settings)) {
          const url = asString(s.url);
          if (url?.startsWith("rtmp")) out.push({ url, streamName: asString(s.streamName) ?? "" });
        }
    }
    return out;
  }

  /** Put a channel in a state at once, cancelling its pending transitions. False if there is no such channel. */
  forceChannelState(id: string, state: MlChannel["state"]): boolean {
    const c = this.state.channels[id];
    if (!c) return false;
    this.ctx.store.cancel(id);
    c.state = state;
    this.onChannelsChanged();
    this.ctx.store.changed();
    return true;
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
    store.on("ml.channel.created", (id) => this.setChannelState(id, ["CREATING"], "IDLE"));
    store.on("ml.channel.updated", (id) => this.setChannelState(id, ["UPDATING"], "IDLE"));
    store.on("ml.channel.started", (id) => {
      if (this.setChannelState(id, ["STARTING"], "RUNNING")) this.onChannelsChanged();
    });
    store.on("ml.channel.stopped", (id) => {
      if (this.setChannelState(id, ["STOPPING"], "IDLE")) this.onChannelsChanged();
    });
    store.on("ml.channel.deleted", (id) => {
      const c = this.setChannelState(id, ["DELETING"], "DELETED");
      if (!c) return;
      for (const a of asObjects(c.spec.inputAttachments)) {
        const inputId = asString(a.inputId);
        if (inputId) store.schedule("ml.input.detach", inputId, "inputDetach");
      }
      store.schedule("ml.channel.purge", id, "deletedRetention");
    });
    store.on("ml.channel.purge", (id) => {
      delete this.state.channels[id];
      this.forgetRequestIds("channel", id);
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
      store.schedule("ml.input.purge", id, "deletedRetention");
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
