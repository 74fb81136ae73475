import { randomUUID } from "node:crypto";
import * as z from "zod";
import { EVENT_FAULT_ACTIONS } from "./events.ts";
import { SERVICE_NAMES, type ServiceHandler, type ServiceName } from "./http.ts";

/** `operation` value that matches every operation of the service (chaos runs). */
export const ANY_OPERATION = "*";

/** Body of POST /_sim/faults. */
export const FaultSpecSchema = z
  .object({
    service: z.enum(SERVICE_NAMES as [ServiceName, ...ServiceName[]]),
    /** An operation of the service, or "*" for every one of them. */
    operation: z.string().min(1),
    /** AWS error name, e.g. TooManyRequestsException; omitted = delay only. */
    error: z.string().min(1).optional(),
    /**
     * HTTP status of `error`, for an error the service model declares but the simulated service
     * never answers by itself (e.g. IVS `ServiceUnavailable`, 503). Omitted: the service's own status
     * for that name, and a name the simulated service does not know is refused.
     */
    status: z.number().int().min(400).max(599).optional(),
    message: z.string().optional(),
    /** The next N matching calls are affected. */
    times: z.number().int().min(1).optional(),
    /** Each matching call is affected with this probability. */
    rate: z.number().min(0).max(1).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    /** The operation takes effect, but the caller gets the error (a lost response). */
    after: z.boolean().optional(),
  })
  .strict()
  .refine((f) => !(f.times !== undefined && f.rate !== undefined), {
    message: "give either times or rate, not both",
    path: ["times"],
  })
  .refine((f) => f.error !== undefined || f.delayMs !== undefined, {
    message: "a fault needs an error, a delayMs, or both",
    path: ["error"],
  })
  .refine((f) => !(f.after && f.error === undefined), {
    message: "after: true needs an error",
    path: ["after"],
  })
  .refine((f) => !(f.status !== undefined && f.error === undefined), {
    message: "status needs an error",
    path: ["status"],
  });

export type FaultSpec = z.infer<typeof FaultSpecSchema>;
export interface Fault extends FaultSpec {
  id: string;
  /** Calls still to affect when `times` was given (neither times nor rate = 1). */
  remaining?: number;
  status?: number;
  hits: number;
}

/** `service` of a fault on the event path (events.ts EventBus) rather than on an API. */
export const EVENTS_SERVICE = "events";

/** Members of an API fault that mean nothing on the event path: refused, naming the member. */
const API_ONLY_MEMBERS = ["operation", "error", "status", "after", "message"] as const;

/**
 * Body of POST /_sim/faults with `"service": "events"`: a fault on the events the simulator
 * publishes (see EventBus for what each action does). Neither `times` nor `rate`: once.
 */
export const EventFaultSpecSchema = z
  .object({
    service: z.literal(EVENTS_SERVICE),
    action: z.enum(EVENT_FAULT_ACTIONS),
    /** Only events of this detail-type, e.g. "MediaLive Channel State Change"; omitted = every event. */
    detailType: z.string().min(1).optional(),
    /** The next N matching events are affected. */
    times: z.number().int().min(1).optional(),
    /** Each matching event is affected with this probability. */
    rate: z.number().min(0).max(1).optional(),
    /** delay: how late (required); duplicate: when the copy comes (default 0); reorder: how long to wait for the next event (default 1000). */
    delayMs: z.number().int().min(0).max(120_000).optional(),
  })
  .strict()
  .refine((f) => !(f.times !== undefined && f.rate !== undefined), {
    message: "give either times or rate, not both",
    path: ["times"],
  })
  .refine((f) => f.action !== "delay" || f.delayMs !== undefined, {
    message: "a delay fault needs delayMs",
    path: ["delayMs"],
  })
  .refine((f) => f.action !== "drop" || f.delayMs === undefined, {
    message: "a dropped event is never delivered: delayMs does not apply to drop",
    path: ["delayMs"],
  });

export type EventFaultSpec = z.infer<typeof EventFaultSpecSchema>;
export interface EventFault extends EventFaultSpec {
  id: string;
  /** Events still to affect when `times` was given (neither times nor rate = 1). */
  remaining?: number;
  hits: number;
}

/** A fault of either kind, as GET /_sim/faults lists them (in the order they were added). */
export type AnyFault = Fault | EventFault;

const isEventFault = (f: AnyFault): f is EventFault => f.service === EVENTS_SERVICE;

/** Invalid admin input: answered with 400 naming the offending field. */
export class AdminValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "AdminValidationError";
  }
}

/** The field an issue of a `.strict()` schema is about: an unknown key is named by the key itself. */
function issueField(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code === "unrecognized_keys" && issue.keys[0] !== undefined)
    return [...issue.path, issue.keys[0]].join(".");
  return issue?.path.join(".") || "body";
}

export class FaultRegistry {
  private faults: AnyFault[] = [];

  constructor(private readonly services: Record<ServiceName, ServiceHandler>) {}

  /** Adds an API fault, or an event fault when `service` is "events". AdminValidationError on a bad body. */
  add(body: unknown): AnyFault {
    if (
      typeof body === "object" &&
      body !== null &&
      (body as { service?: unknown }).service === EVENTS_SERVICE
    )
      return this.addEventFault(body);
    return this.addApiFault(body);
  }

  private addEventFault(body: object): EventFault {
    for (const member of API_ONLY_MEMBERS)
      if (member in body)
        throw new AdminValidationError(
          member,
          `not valid for an events fault (it takes action, detailType, times or rate, delayMs)`,
        );
    const parsed = EventFaultSpecSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AdminValidationError(issueField(issue), issue?.message ?? "invalid fault");
    }
    const spec = parsed.data;
    const fault: EventFault = {
      ...spec,
      id: randomUUID(),
      hits: 0,
      ...(spec.rate === undefined ? { remaining: spec.times ?? 1 } : {}),
    };
    this.faults.push(fault);
    return fault;
  }

  private addApiFault(body: unknown): Fault {
    const parsed = FaultSpecSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AdminValidationError(issue?.path.join(".") || "body", issue?.message ?? "invalid fault");
    }
    const spec = parsed.data;
    const svc = this.services[spec.service];
    if (spec.operation !== ANY_OPERATION && !svc.operations.includes(spec.operation))
      throw new AdminValidationError("operation", `unknown ${spec.service} operation '${spec.operation}'`);
    let status: number | undefined;
    if (spec.error !== undefined) {
      status = spec.status ?? svc.errorStatus(spec.error);
      if (status === undefined)
        throw new AdminValidationError(
          "error",
          `'${spec.error}' is not a ${spec.service} error the simulator knows; give its status to inject it anyway`,
        );
    }
    const fault: Fault = {
      ...spec,
      id: randomUUID(),
      hits: 0,
      ...(spec.rate === undefined ? { remaining: spec.times ?? 1 } : {}),
      ...(status !== undefined ? { status } : {}),
    };
    this.faults.push(fault);
    return fault;
  }

  /** Every fault, API and event ones, in the order they were added. */
  list(): AnyFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }

  /**
   * The fault that applies to this call, if any (consumes one of its `times`). Faults are tried in
   * the order they were added; with several `rate` faults on one call, each is drawn only when the
   * earlier ones were not.
   */
  take(service: ServiceName, operation: string): Fault | undefined {
    for (const f of this.faults) {
      if (isEventFault(f)) continue;
      if (f.service !== service || (f.operation !== operation && f.operation !== ANY_OPERATION)) continue;
      if (this.strikes(f)) return { ...f };
    }
    return undefined;
  }

  /** The event fault that applies to an event of this detail-type, if any: drawn as `take` does. */
  takeEvent(detailType: string): EventFault | undefined {
    for (const f of this.faults) {
      if (!isEventFault(f)) continue;
      if (f.detailType !== undefined && f.detailType !== detailType) continue;
      if (this.strikes(f)) return { ...f };
    }
    return undefined;
  }

  /** Whether a matching fault applies now: a `rate` draw, else one of its `times` (the last one removes it). */
  private strikes(f: AnyFault): boolean {
    if (f.rate !== undefined) {
      if (Math.random() >= f.rate) return false;
    } else {
      f.remaining = (f.remaining ?? 1) - 1;
      if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    }
    f.hits++;
    return true;
  }
}
