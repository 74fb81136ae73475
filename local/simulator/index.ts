import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import * as z from "zod";
import type { DurationOverrides } from "./durations.ts";
import { EventBus, type EventFaultDraw, type SimEvent } from "./events.ts";
import { AdminValidationError, FaultRegistry } from "./faults.ts";
import {
  AwsError,
  detectService,
  parseJsonBody,
  readBody,
  type ServiceHandler,
  type ServiceName,
  sendError,
  sendJson,
} from "./http.ts";
import { createIngest } from "./ingest.ts";
import { createIvs } from "./ivs.ts";
import { createMediaConnect, type MediaConnectQuotaOverrides } from "./mediaconnect/index.ts";
import type { QuotaName } from "./medialive/errors.ts";
import { createMediaLive } from "./medialive/index.ts";
import { createSsm } from "./ssm.ts";
import { type JsonObject, type SimContext, Store } from "./store.ts";

export { BASE_SECONDS, type DurationOverrides } from "./durations.ts";
export type { SimEvent } from "./events.ts";

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Multiplies every simulated duration (default 1 = AWS-like; 0.001 makes a start take ~75 ms). */
  timeScale?: number;
  /** Optional JSON file: loaded on start, saved (debounced) on every change. */
  statePath?: string;
  /** Default 000000000000. */
  accountId?: string;
  /** Default us-east-1. */
  region?: string;
  /** Base durations (seconds, before timeScale) replacing the defaults, e.g. `{ channelStart: 1000 }`. */
  durations?: DurationOverrides;
  /** Raised account quotas (an approved quota increase), e.g. `{ medialive: { channels: 10_000 } }`. */
  quotas?: SimulatorQuotas;
}

/** Adjustable quotas a simulated account may raise; those not given keep their defaults. */
export interface SimulatorQuotas {
  medialive?: Partial<Record<QuotaName, number>>;
  mediaconnect?: MediaConnectQuotaOverrides;
}

/** The simulated account as seen by tests (GET /_sim/resources). Stream key values are included. */
export interface SimResources {
  medialive: { channels: JsonObject[]; inputs: JsonObject[]; inputSecurityGroups: JsonObject[] };
  ivs: { channels: JsonObject[]; streamKeys: JsonObject[]; streams: JsonObject[] };
  ssm: { parameters: JsonObject[] };
  /** Flows as DescribeFlow renders them (outputs with mediaLiveInputArn), plus `activeSource`. */
  mediaconnect: { flows: JsonObject[] };
  /** The platform ingest view (GET /_sim/ingest). */
  ingest: JsonObject[];
}

export interface Simulator {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  resources(): SimResources;
  /**
   * Subscribe to the AWS events the simulated services send (EventBridge shape): "MediaLive
   * Channel Alert" on each alert SET and CLEARED, "MediaLive Channel State Change" and
   * "MediaConnect Flow Status Change" on each state change. Listeners run asynchronously, after
   * the change that caused the event; one that throws is reported and skipped. Event faults
   * (POST /_sim/faults `{"service": "events"}`) apply to every listener alike. Returns the
   * unsubscribe.
   */
  onEvent(listener: (event: SimEvent) => void): () => void;
}

/** One API call received (GET /_sim/calls). */
export interface SimCall {
  service: ServiceName;
  operation: string;
  at: string;
  status?: number;
  error?: string;
}

const MAX_CALLS_LOGGED = 10_000;

/** POST /_sim/advance: finish a resource's pending transitions (e.g. STARTING -> RUNNING) now. */
const AdvanceBody = z.object({ resourceId: z.string().min(1) }).strict();

/** POST /_sim/medialive/channel-state: force a channel into a state (e.g. CREATE_FAILED). */
const ChannelStateBody = z
  .object({
    channelId: z.string().min(1),
    state: z.enum([
      "CREATING",
      "CREATE_FAILED",
      "IDLE",
      "STARTING",
      "RUNNING",
      "RECOVERING",
      "STOPPING",
      "UPDATE_FAILED",
    ]),
  })
  .strict();

const IvsStreamBody = z.object({ channelArn: z.string().min(1), live: z.boolean() }).strict();

/** POST /_sim/ingest/refuse: a platform ingest refuses (or accepts again) streams sent to `url`. */
const RefuseBody = z.object({ url: z.string().min(1), refuse: z.boolean() }).strict();

/**
 * POST /_sim/sources: whether an encoder sends to a flow's source (`sourceName` omitted: every
 * source of the flow) or to a MediaLive push input. Exactly one of flowArn / inputId.
 */
const SourcesBody = z
  .object({
    flowArn: z.string().min(1).optional(),
    sourceName: z.string().min(1).optional(),
    inputId: z.string().min(1).optional(),
    pushing: z.boolean(),
  })
  .strict()
  .refine((b) => (b.flowArn === undefined) !== (b.inputId === undefined), {
    message: "give flowArn or inputId (exactly one)",
    path: ["flowArn"],
  })
  .refine((b) => !(b.inputId !== undefined && b.sourceName !== undefined), {
    message: "sourceName goes with flowArn, not inputId",
    path: ["sourceName"],
  });

/** Parse an admin body, or a 400 naming the first field at fault. */
function parseAdmin<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AdminValidationError(issue?.path.join(".") || "body", issue?.message ?? "invalid body");
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale >= 0)) throw new RangeError(`timeScale must be >= 0, got ${timeScale}`);
  const store = new Store(timeScale, options.statePath, options.durations);
  const ctx: SimContext = {
    store,
    accountId: options.accountId ?? "000000000000",
    region: options.region ?? "us-east-1",
  };

  // MediaLive and IVS reference each other (a running channel pushing to IVS makes its stream live).
  // MediaLive reads MediaConnect flows (MEDIACONNECT inputs and their managed outputs) through a
  // plain lookup; the platform ingest view derives from channels, inputs and flows, and
  // MediaLive's channel alerts from the platforms' refusals. The hooks are bound once every
  // piece exists.
  let onMediaLiveChanged = () => {};
  let onFlowsChanged = () => {};
  let refuses = (_url: string) => false;
  let eventFault = (_detailType: string): EventFaultDraw | undefined => undefined;
  const events = new EventBus((event) => eventFault(event["detail-type"]));
  const emit = (event: SimEvent) => events.emit(event);
  const mediaconnect = createMediaConnect(ctx, () => onFlowsChanged(), options.quotas?.mediaconnect, emit);
  const medialive = createMediaLive(
    ctx,
    () => onMediaLiveChanged(),
    mediaconnect.mediaLiveLink,
    {
      platform: { refuses: (url) => refuses(url) },
      emit,
    },
    options.quotas?.medialive,
  );
  const ivs = createIvs(ctx, () => medialive.rtmpTargets());
  const ingest = createIngest(ctx, () => medialive.rtmpPushes());
  /** The platforms' side and what MediaLive sees of it: recomputed together on every change. */
  const syncPlatforms = () => {
    ingest.recompute();
    medialive.syncAlerts();
  };
  refuses = (url) => ingest.refuses(url);
  // The derived views (IVS liveness, the ingest view, channel alerts) walk every channel: done
  // once per change, an account of thousands of channels was quadratic. A change marks them stale
  // and schedules one pass on the next turn of the event loop, whatever the number of changes in
  // between; anything that reads them (IVS, ListAlerts, the admin routes, resources()) brings them
  // up to date first, so nothing ever sees them stale.
  let stale = { liveness: false, platforms: false };
  let scheduled = false;
  const derive = () => {
    const { liveness, platforms } = stale;
    stale = { liveness: false, platforms: false };
    if (liveness) ivs.recomputeLiveness();
    if (platforms) syncPlatforms();
  };
  const markStale = (liveness: boolean) => {
    stale = { liveness: stale.liveness || liveness, platforms: true };
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      derive();
    });
  };
  onMediaLiveChanged = () => markStale(true);
  onFlowsChanged = () => markStale(false);
  /** Operations whose answers come from the derived views. */
  const readsDerived = (service: ServiceName, operation: string) =>
    service === "ivs" || (service === "medialive" && operation === "ListAlerts");
  const ssm = createSsm(ctx);
  const services: Record<ServiceName, ServiceHandler> = { medialive, ivs, ssm, mediaconnect };
  const faults = new FaultRegistry(services);
  eventFault = (detailType) => faults.takeEvent(detailType);
  const calls: SimCall[] = [];

  store.load();
  ivs.recomputeLiveness();
  ingest.recompute();
  medialive.syncAlerts({ quiet: true }); // what was saved is not news: no events at start-up

  const resources = (): SimResources => {
    derive();
    return {
      medialive: medialive.view(),
      ivs: ivs.view(),
      ssm: ssm.view(),
      mediaconnect: mediaconnect.view(),
      ingest: ingest.view(),
    };
  };

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL, text: string): Promise<void> {
    const route = `${req.method} ${url.pathname.replace(/\/$/, "")}`;
    const body = (): unknown => {
      try {
        return text.trim() === "" ? {} : JSON.parse(text);
      } catch {
        throw new AdminValidationError("body", "not valid JSON");
      }
    };
    switch (route) {
      case "GET /_sim/resources":
        return sendJson(res, 200, resources());
      case "GET /_sim/faults":
        return sendJson(res, 200, { faults: faults.list() });
      case "POST /_sim/faults":
        return sendJson(res, 201, faults.add(body()));
      case "DELETE /_sim/faults":
        faults.clear();
        events.cancelPending();
        return sendJson(res, 200, { faults: [] });
      case "POST /_sim/reset":
        store.reset();
        faults.clear();
        events.cancelPending();
        ivs.resetThrottling();
        calls.length = 0;
        return sendJson(res, 200, { reset: true });
      case "GET /_sim/calls": {
        const service = url.searchParams.get("service");
        const operation = url.searchParams.get("operation");
        const matching = calls.filter(
          (c) => (!service || c.service === service) && (!operation || c.operation === operation),
        );
        return sendJson(res, 200, { count: matching.length, calls: matching });
      }
      case "POST /_sim/advance": {
        const parsed = AdvanceBody.safeParse(body());
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new AdminValidationError(issue?.path.join(".") || "body", issue?.message ?? "invalid body");
        }
        return sendJson(res, 200, { advanced: store.advance(parsed.data.resourceId) });
      }
      case "GET /_sim/ingest":
        return sendJson(res, 200, { ingest: ingest.view() });
      case "POST /_sim/ingest/refuse": {
        const { url: ingestUrl, refuse } = parseAdmin(RefuseBody, body());
        const answer = ingest.refuse(ingestUrl, refuse);
        medialive.syncAlerts();
        return sendJson(res, 200, answer);
      }
      case "GET /_sim/sources":
        return sendJson(res, 200, {
          sources: [...mediaconnect.pushingSources(), ...medialive.pushingInputs()],
        });
      case "POST /_sim/sources": {
        const b = parseAdmin(SourcesBody, body());
        if (b.inputId !== undefined) {
          medialive.setInputPushing(b.inputId, b.pushing);
          return sendJson(res, 200, { sources: [{ inputId: b.inputId, pushing: b.pushing }] });
        }
        const flowArn = b.flowArn ?? "";
        const sources = mediaconnect.setPushing(flowArn, b.sourceName, b.pushing);
        return sendJson(res, 200, { sources, activeSource: mediaconnect.activeSource(flowArn) });
      }
      case "POST /_sim/medialive/channel-state": {
        const parsed = ChannelStateBody.safeParse(body());
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new AdminValidationError(issue?.path.join(".") || "body", issue?.message ?? "invalid body");
        }
        if (!medialive.forceChannelState(parsed.data.channelId, parsed.data.state)) {
          return sendJson(res, 404, { message: `No channel ${parsed.data.channelId}` });
        }
        return sendJson(res, 200, { channelId: parsed.data.channelId, state: parsed.data.state });
      }
      case "DELETE /_sim/calls":
        calls.length = 0;
        return sendJson(res, 200, { count: 0, calls: [] });
      case "POST /_sim/ivs/streams": {
        const parsed = IvsStreamBody.safeParse(body());
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new AdminValidationError(issue?.path.join(".") || "body", issue?.message ?? "invalid body");
        }
        return sendJson(res, 200, ivs.setManualLive(parsed.data.channelArn, parsed.data.live));
      }
      default:
        return sendJson(res, 404, { message: `Unknown admin endpoint ${route}` });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator");
    const text = await readBody(req);
    if (url.pathname.startsWith("/_sim/")) {
      derive();
      try {
        await admin(req, res, url, text);
      } catch (e) {
        if (e instanceof AdminValidationError) sendJson(res, 400, { message: e.message, field: e.field });
        else if (e instanceof AwsError) sendJson(res, e.status, { message: e.message, error: e.name });
        else throw e;
      }
      return;
    }
    const serviceName = detectService(req, url.pathname);
    if (!serviceName) {
      sendError(
        res,
        "restJson1",
        new AwsError(
          "UnknownServiceException",
          400,
          `Cannot tell which service ${req.method} ${url.pathname} is for`,
        ),
      );
      return;
    }
    const service = services[serviceName];
    const match = service.match(req.method ?? "GET", url.pathname, req.headers);
    if (!match) {
      sendError(
        res,
        service.protocol,
        new AwsError(
          "UnknownOperationException",
          404,
          `No ${serviceName} operation for ${req.method} ${url.pathname}`,
        ),
      );
      return;
    }
    if (readsDerived(serviceName, match.operation)) derive();
    const call: SimCall = { service: serviceName, operation: match.operation, at: new Date().toISOString() };
    calls.push(call);
    // Bounded so a long `npm start` session does not grow without limit.
    if (calls.length > MAX_CALLS_LOGGED) calls.splice(0, calls.length - MAX_CALLS_LOGGED);
    try {
      const body = parseJsonBody(text);
      const fault = faults.take(serviceName, match.operation);
      if (fault?.delayMs) await sleep(fault.delayMs);
      const injected =
        fault?.error !== undefined
          ? new AwsError(fault.error, fault.status ?? 500, fault.message ?? `Injected fault ${fault.id}`)
          : undefined;
      if (injected && !fault?.after) throw injected;
      const result = service.invoke({
        operation: match.operation,
        params: match.params,
        query: url.searchParams,
        body,
      });
      store.changed();
      if (injected) throw injected; // after: true - the change happened, the response is lost
      call.status = result.status;
      sendJson(res, result.status, result.status === 204 ? undefined : (result.body ?? {}));
    } catch (e) {
      const error =
        e instanceof AwsError
          ? e
          : new AwsError(
              serviceName === "ssm" ? "InternalServerError" : "InternalServerErrorException",
              500,
              `Simulator bug: ${(e as Error).message}`,
            );
      call.status = error.status;
      call.error = error.name;
      sendError(res, service.protocol, error);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: `Simulator error: ${(e as Error).message}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    resources,
    onEvent: (listener) => events.on(listener),
    async close() {
      events.clear();
      store.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep connections alive; without this close() would wait for them to idle out.
        server.closeAllConnections();
      });
    },
  };
}
