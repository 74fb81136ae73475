import { randomUUID } from "node:crypto";
import * as z from "zod";
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

export class FaultRegistry {
  private faults: Fault[] = [];

  constructor(private readonly services: Record<ServiceName, ServiceHandler>) {}

  add(body: unknown): Fault {
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

  list(): Fault[] {
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
      if (f.service !== service || (f.operation !== operation && f.operation !== ANY_OPERATION)) continue;
      if (f.rate !== undefined) {
        if (Math.random() >= f.rate) continue;
      } else {
        f.remaining = (f.remaining ?? 1) - 1;
        if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
      }
      f.hits++;
      return { ...f };
    }
    return undefined;
  }
}
