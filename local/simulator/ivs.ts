import { scaledMs } from "./durations.ts";
import {
  AwsError,
  matchRest,
  type OperationCall,
  type OperationResult,
  type RestRoute,
  type ServiceHandler,
} from "./http.ts";
import type { RtmpTarget } from "./medialive/index.ts";
import { paginate, toInt } from "./pagination.ts";
import {
  asString,
  asTags,
  type IvsChannel,
  type IvsStream,
  type JsonObject,
  randomAlnum,
  randomHex,
  type SimContext,
} from "./store.ts";

/** Paths, methods and success codes from @aws-sdk/client-ivs schemas (`http` traits). */
const ROUTES: readonly RestRoute[] = [
  ...(
    [
      ["CreateChannel", 200],
      ["GetChannel", 200],
      ["ListChannels", 200],
      ["UpdateChannel", 200],
      ["DeleteChannel", 204],
      ["CreateStreamKey", 200],
      ["GetStreamKey", 200],
      ["ListStreamKeys", 200],
      ["DeleteStreamKey", 204],
      ["GetStream", 200],
      ["StopStream", 200],
    ] as const
  ).map(([operation, status]) => ({ method: "POST", path: `/${operation}`, operation, status })),
  { method: "POST", path: "/tags/{resourceArn}", operation: "TagResource", status: 200 },
  { method: "DELETE", path: "/tags/{resourceArn}", operation: "UntagResource", status: 200 },
  { method: "GET", path: "/tags/{resourceArn}", operation: "ListTagsForResource", status: 200 },
];

/** Error names and statuses from the IVS service model (SDK `httpError` traits; note 402 for quota). */
const ERROR_STATUS: Record<string, number> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  PendingVerification: 403,
  ResourceNotFoundException: 404,
  ChannelNotBroadcasting: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
  StreamUnavailable: 503,
};

/** aws-facts.md (IVS service quotas): 5 TPS each, not adjustable. */
export const IVS_TPS_LIMIT = 5;
const THROTTLED_OPERATIONS = new Set([
  "CreateChannel",
  "DeleteChannel",
  "GetChannel",
  "ListChannels",
  "UpdateChannel",
]);

const err = (name: string, message: string) => new AwsError(name, ERROR_STATUS[name] ?? 400, message);

/** Channel fields a CreateChannel/UpdateChannel request may set, with AWS's defaults. */
const CHANNEL_DEFAULTS: JsonObject = {
  name: "",
  latencyMode: "LOW",
  type: "STANDARD",
  authorized: false,
  insecureIngest: false,
  preset: "",
  recordingConfigurationArn: "",
  playbackRestrictionPolicyArn: "",
  containerFormat: "TS",
  multitrackInputConfiguration: { enabled: false, maximumResolution: "FULL_HD", policy: "ALLOW" },
};

export interface IvsService extends ServiceHandler {
  /** Re-derive which streams are live from the MediaLive channels pushing RTMP(S) to IVS ingest. */
  recomputeLiveness(): void;
  /** Admin: start/end a simulated broadcast. Throws ResourceNotFoundException for unknown channels. */
  setManualLive(channelArn: string, live: boolean): JsonObject;
  view(): { channels: JsonObject[]; streamKeys: JsonObject[]; streams: JsonObject[] };
  /** Forget the TPS windows (POST /_sim/reset: a fresh account). */
  resetThrottling(): void;
}

export function createIvs(ctx: SimContext, rtmpTargets: () => RtmpTarget[]): IvsService {
  const { store, region, accountId } = ctx;
  const ivs = () => store.state.ivs;
  const calls = new Map<string, number[]>();

  function throttle(operation: string): void {
    if (!THROTTLED_OPERATIONS.has(operation)) return;
    const now = Date.now();
    // The one-second window follows the time scale, like every other simulated duration and the
    // Step Functions retry intervals: the ratio between a retry's backoff and the limit's window
    // stays what it is on AWS.
    const windowMs = 1000 * store.timeScale;
    const recent = (calls.get(operation) ?? []).filter((t) => now - t < windowMs);
    if (recent.length >= IVS_TPS_LIMIT) {
      calls.set(operation, recent);
      throw err("ThrottlingException", `Rate exceeded for ${operation}: ${IVS_TPS_LIMIT} TPS`);
    }
    recent.push(now);
    calls.set(operation, recent);
  }

  function channel(arn: unknown): IvsChannel {
    const a = asString(arn);
    if (!a) throw err("ValidationException", "arn is required");
    const c = ivs().channels[a];
    if (!c) throw err("ResourceNotFoundException", `Channel ${a} not found`);
    return c;
  }
  const getChannel = (c: IvsChannel): JsonObject => ({ ...c.channel, tags: c.tags });
  const keyOf = (channelArn: string) =>
    Object.values(ivs().streamKeys).find((k) => k.channelArn === channelArn);
  const stream = (channelArn: string): IvsStream => {
    ivs().streams[channelArn] ??= {
      channelArn,
      manualLive: false,
      derivedLive: false,
      suppressedUntil: 0,
      state: "OFFLINE",
    };
    return ivs().streams[channelArn] as IvsStream;
  };
  const isLive = (channelArn: string) => ivs().streams[channelArn]?.state === "LIVE";

  function newStreamKey(channelArn: string, tags: Record<string, string>): JsonObject {
    const arn = `arn:aws:ivs:${region}:${accountId}:stream-key/${randomAlnum(12)}`;
    // Generated per run: a key literal never lives in code or fixtures.
    const value = `sk_${region}_${randomAlnum(36)}`;
    ivs().streamKeys[arn] = { arn, channelArn, value, tags };
    return { arn, value, channelArn, tags };
  }

  function settle(s: IvsStream): void {
    const live = s.manualLive || (s.derivedLive && Date.now() >= s.suppressedUntil);
    if (live && s.state !== "LIVE") {
      s.state = "LIVE";
      s.streamId = `st-${randomAlnum(22)}`;
      s.startTime = new Date().toISOString();
    } else if (!live && s.state === "LIVE") {
      s.state = "OFFLINE";
      delete s.streamId;
      delete s.startTime;
    }
  }

  function recomputeLiveness(): void {
    // Each RUNNING push parsed once, as `<ingest host> <stream key>` (the stream name, or the
    // URL's last segment): a lookup per IVS channel instead of a pass over every push, so an
    // account of thousands of channels stays linear.
    const pushed = new Set<string>();
    for (const t of rtmpTargets()) {
      let url: URL;
      try {
        url = new URL(t.url);
      } catch {
        continue;
      }
      pushed.add(`${url.hostname} ${t.streamName}`);
      const lastSegment = url.pathname.split("/").filter(Boolean).pop();
      if (lastSegment) pushed.add(`${url.hostname} ${lastSegment}`);
    }
    const keys = new Map(Object.values(ivs().streamKeys).map((k) => [k.channelArn, k.value]));
    for (const c of Object.values(ivs().channels)) {
      const key = keys.get(c.arn);
      const ingest = asString(c.channel.ingestEndpoint);
      const derived = key !== undefined && pushed.has(`${ingest} ${key}`);
      const s = stream(c.arn);
      s.derivedLive = derived;
      settle(s);
    }
    store.changed();
  }
  store.on("ivs.liveness", () => recomputeLiveness());

  function createChannel(body: JsonObject): OperationResult {
    const id = randomAlnum(12);
    const arn = `arn:aws:ivs:${region}:${accountId}:channel/${id}`;
    const ingest = `${randomHex(12)}.global-contribute.live-video.net`;
    const settings: JsonObject = { ...CHANNEL_DEFAULTS };
    for (const k of Object.keys(CHANNEL_DEFAULTS)) if (body[k] !== undefined) settings[k] = body[k] ?? null;
    const tags = asTags(body.tags);
    const channel: JsonObject = {
      arn,
      ...settings,
      ingestEndpoint: ingest,
      playbackUrl: `https://${randomHex(12)}.${region}.playback.live-video.net/api/video/v1/${region}.${accountId}.channel.${id}.m3u8`,
      srt: { endpoint: `${randomHex(12)}.srt.live-video.net`, passphrase: randomAlnum(32) },
    };
    ivs().channels[arn] = { arn, channel, tags };
    const streamKey = newStreamKey(arn, tags);
    return { status: 200, body: { channel: { ...channel, tags }, streamKey } };
  }

  function tagged(arn: string | undefined): { tags: Record<string, string> } {
    const r = (arn && (ivs().channels[arn] ?? ivs().streamKeys[arn])) || undefined;
    if (!r) throw err("ResourceNotFoundException", `Resource ${arn} not found`);
    return r;
  }

  function invoke(call: OperationCall): OperationResult {
    const b = call.body;
    throttle(call.operation);
    switch (call.operation) {
      case "CreateChannel":
        return createChannel(b);
      case "GetChannel":
        return { status: 200, body: { channel: getChannel(channel(b.arn)) } };
      case "ListChannels": {
        const filter = asString(b.filterByName);
        // filterByName: substring match (AWS documents only "match"; unverified).
        const items = Object.values(ivs().channels).filter(
          (c) => !filter || (asString(c.channel.name) ?? "").includes(filter),
        );
        const { page, nextToken } = paginate(
          items,
          toInt(b.maxResults),
          asString(b.nextToken),
          "ValidationException",
          100,
        );
        const summaries = page.map((c) => {
          const {
            ingestEndpoint: _i,
            playbackUrl: _p,
            srt: _s,
            multitrackInputConfiguration: _m,
            containerFormat: _c,
            ...s
          } = c.channel;
          return { ...s, tags: c.tags };
        });
        return { status: 200, body: { channels: summaries, ...(nextToken ? { nextToken } : {}) } };
      }
      case "UpdateChannel": {
        const c = channel(b.arn);
        if (isLive(c.arn)) throw err("ConflictException", `Channel ${c.arn} is live; it cannot be updated`);
        for (const k of Object.keys(CHANNEL_DEFAULTS)) if (b[k] !== undefined) c.channel[k] = b[k] ?? null;
        return { status: 200, body: { channel: getChannel(c) } };
      }
      case "DeleteChannel": {
        const c = channel(b.arn);
        if (isLive(c.arn))
          throw err(
            "ConflictException",
            `Channel ${c.arn} is live: stop the stream and wait for it to end first`,
          );
        delete ivs().channels[c.arn];
        delete ivs().streams[c.arn];
        for (const k of Object.values(ivs().streamKeys))
          if (k.channelArn === c.arn) delete ivs().streamKeys[k.arn];
        return { status: 204 };
      }
      case "CreateStreamKey": {
        const c = channel(b.channelArn);
        if (keyOf(c.arn))
          throw err(
            "ServiceQuotaExceededException",
            `Channel ${c.arn} already has a stream key (limit: 1 per channel)`,
          );
        const streamKey = newStreamKey(c.arn, asTags(b.tags));
        // An encoder already pushing with this (new) key goes live.
        recomputeLiveness();
        return { status: 200, body: { streamKey } };
      }
      case "GetStreamKey": {
        const k = ivs().streamKeys[asString(b.arn) ?? ""];
        if (!k) throw err("ResourceNotFoundException", `Stream key ${asString(b.arn)} not found`);
        return {
          status: 200,
          body: { streamKey: { arn: k.arn, value: k.value, channelArn: k.channelArn, tags: k.tags } },
        };
      }
      case "ListStreamKeys": {
        const c = channel(b.channelArn);
        const keys = Object.values(ivs().streamKeys).filter((k) => k.channelArn === c.arn);
        const { page, nextToken } = paginate(
          keys,
          toInt(b.maxResults),
          asString(b.nextToken),
          "ValidationException",
          50,
        );
        return {
          status: 200,
          body: {
            streamKeys: page.map((k) => ({ arn: k.arn, channelArn: k.channelArn, tags: k.tags })),
            ...(nextToken ? { nextToken } : {}),
          },
        };
      }
      case "DeleteStreamKey": {
        const k = ivs().streamKeys[asString(b.arn) ?? ""];
        if (!k) throw err("ResourceNotFoundException", `Stream key ${asString(b.arn)} not found`);
        delete ivs().streamKeys[k.arn];
        // A revoked key stops a MediaLive-derived broadcast from (re)connecting.
        recomputeLiveness();
        return { status: 204 };
      }
      case "GetStream": {
        const c = channel(b.channelArn);
        const s = ivs().streams[c.arn];
        if (s?.state !== "LIVE") throw err("ChannelNotBroadcasting", `Channel ${c.arn} is not broadcasting`);
        return {
          status: 200,
          body: {
            stream: {
              channelArn: c.arn,
              streamId: s.streamId ?? "",
              playbackUrl: asString(c.channel.playbackUrl) ?? "",
              startTime: s.startTime ?? new Date().toISOString(),
              state: "LIVE",
              health: "HEALTHY",
              viewerCount: 0,
            },
          },
        };
      }
      case "StopStream": {
        const c = channel(b.channelArn);
        const s = ivs().streams[c.arn];
        if (s?.state !== "LIVE") throw err("ChannelNotBroadcasting", `Channel ${c.arn} is not broadcasting`);
        s.manualLive = false;
        if (s.derivedLive) {
          // The encoder (a running MediaLive channel) reconnects after a while unless the key is revoked.
          s.suppressedUntil = Date.now() + scaledMs("ivsEncoderReconnect", store.timeScale, store.durations);
          store.schedule("ivs.liveness", c.arn, "ivsEncoderReconnect");
        }
        settle(s);
        return { status: 200, body: {} };
      }
      case "TagResource":
        Object.assign(tagged(call.params.resourceArn).tags, asTags(b.tags));
        return { status: 200, body: {} };
      case "UntagResource": {
        const r = tagged(call.params.resourceArn);
        for (const k of call.query.getAll("tagKeys")) delete r.tags[k];
        return { status: 200, body: {} };
      }
      case "ListTagsForResource":
        return { status: 200, body: { tags: tagged(call.params.resourceArn).tags } };
      default:
        throw err("ValidationException", `Unknown IVS operation ${call.operation}`);
    }
  }

  return {
    name: "ivs",
    protocol: "restJson1",
    operations: ROUTES.map((r) => r.operation),
    errorStatus: (name) => ERROR_STATUS[name],
    match: (method, pathname) => matchRest(ROUTES, method, pathname),
    invoke,
    recomputeLiveness,
    resetThrottling: () => calls.clear(),
    setManualLive(channelArn, live) {
      const c = channel(channelArn);
      const s = stream(c.arn);
      s.manualLive = live;
      settle(s);
      store.changed();
      return { ...s };
    },
    view: () => ({
      channels: Object.values(ivs().channels).map(getChannel),
      streamKeys: Object.values(ivs().streamKeys).map((k) => ({
        arn: k.arn,
        channelArn: k.channelArn,
        value: k.value,
        tags: k.tags,
      })),
      streams: Object.values(ivs().streams).map((s) => ({ ...s })),
    }),
  };
}
