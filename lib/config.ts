import * as z from "zod";

/**
 * Task and API configuration, read from the environment once, on first use (so tests and the
 * local runtime can set the environment before any handler runs). No table, bucket, role or
 * state machine has a fallback: the stack sets every one, and a function missing one fails on its
 * cold start with the names of the missing settings (`defineTask`, and the API handler for its
 * state machines). The others have defaults that are settings, not stand-ins: the input CIDR
 * (anywhere: hosts push RTMP from wherever they are), the takeover grace, the legacy fallback (off).
 */
const ConfigSchema = z.object({
  TABLE_NAME: z.string().min(1),
  AWS_REGION: z.string().min(1),
  RECORDING_BUCKET: z.string().min(1),
  MEDIALIVE_ROLE_ARN: z.string().startsWith("arn:", "must be an IAM role ARN"),
  /**
   * The role MediaConnect assumes to read an encrypted SRT source's key from Secrets Manager
   * (secrets named `castflow/...`). Only sources with `encryption` need it.
   */
  MEDIACONNECT_ROLE_ARN: z.string().startsWith("arn:", "must be an IAM role ARN").optional(),
  /**
   * The deployment's stage (the stack's `castflow:stage`), tagged on every resource castflow
   * creates (`castflow:stage`): reconcile acts only on its own stage's resources.
   */
  STAGE: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,32}$/, "must be 1-32 letters, digits or '-'")
    .default("dev"),
  /** CIDR allowed to push RTMP into session inputs. */
  INPUT_ALLOWED_CIDR: z.string().min(1).default("0.0.0.0/0"),
  /**
   * `{"<lifecycle name>": "<state machine ARN>"}` for every lifecycle of the registry
   * (`state-machines/registry.ts`): what the API starts and whose executions it may show.
   */
  STATE_MACHINE_ARNS: z
    .string()
    .default("{}")
    .transform((raw, ctx) => {
      try {
        return z.record(z.string(), z.string().startsWith("arn:")).parse(JSON.parse(raw));
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object of state machine ARNs" });
        return z.NEVER;
      }
    }),
  /** Seconds one execution may hold the right to create a shared resource (the input security group). */
  SHARED_RESOURCE_LEASE_SECONDS: z.coerce.number().positive().default(60),
  /**
   * Seconds a flow may stay ACTIVE after its last user decided to stop it before a destination
   * that needs it treats that stop as abandoned (its execution died between the decision and
   * StopFlow) and uses the flow as it is.
   */
  FLOW_STOP_LEASE_SECONDS: z.coerce.number().positive().default(120),
  /** Seconds after an owning execution closed before another may take its session over. */
  TAKEOVER_GRACE_SECONDS: z.coerce.number().nonnegative().default(90),
  /**
   * SSM parameter path under which destinations' stream keys are kept as SecureString
   * (`<prefix>/<destinationId>/primary`); the stack sets one per stage.
   */
  STREAM_KEY_PARAMETER_PREFIX: z
    .string()
    .regex(/^(\/[A-Za-z0-9_.-]+)+$/, "must be an SSM parameter path such as /castflow/prod/stream-keys")
    .default("/castflow/stream-keys"),
  /**
   * MediaLive channels this account may have in the region (AWS's default quota is 5, adjustable):
   * adding a destination past it is refused with 429 before anything is created.
   */
  MEDIALIVE_CHANNEL_QUOTA: z.coerce.number().int().positive().default(5),
  /** MediaConnect flows per region (AWS's default quota is 20, adjustable): a source past it is refused with 429. */
  MEDIACONNECT_FLOW_QUOTA: z.coerce.number().int().positive().default(20),
  /**
   * Reconciliation: records changed more recently than this are left alone, and a finding is
   * repaired only once a run at least this much older saw it too, so a lifecycle acting right now
   * is never raced.
   */
  RECONCILE_GRACE_SECONDS: z.coerce.number().nonnegative().default(300),
  /**
   * Reconciliation: list pages asked of each AWS list operation per second at most. IVS allows 5
   * ListChannels a second (not adjustable) and the lifecycles look channels up by name with it:
   * 2 leaves them 3.
   */
  RECONCILE_LIST_PAGES_PER_SECOND: z.coerce.number().positive().default(2),
  /**
   * Reconciliation: minutes a live session's channel may receive no input (MediaLive's "RTMP Has
   * No Audio/Video" alert on every pipeline) before its session is stopped as idle spend.
   */
  RECONCILE_IDLE_INPUT_MINUTES: z.coerce.number().positive().default(25),
  /**
   * Reconciliation: hours a session may keep a stopped channel and its push input without going
   * live before both are deleted (they carry an idle charge); its next go-live makes new ones.
   */
  RECONCILE_IDLE_RESOURCE_TTL_HOURS: z.coerce.number().positive().default(72),
  /** Reconciliation only reports, never repairs ("true"): for a first deployment. */
  RECONCILE_DRY_RUN_ONLY: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /** Hosts without a persistent channel get a per-session program channel ("true"), or 403 ("false"). */
  LEGACY_PROGRAM_CHANNELS: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

export type Config = z.infer<typeof ConfigSchema>;

/** A setting is missing or invalid: the function cannot work, and says which setting. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

let cached: Config | undefined;

export function config(): Config {
  if (!cached) {
    const parsed = ConfigSchema.safeParse(process.env);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      throw new ConfigurationError(`castflow configuration is invalid: ${issues}`);
    }
    cached = parsed.data;
  }
  return cached;
}

/** The ARN of a lifecycle's state machine; a ConfigurationError when the stack did not set it. */
export function stateMachineArn(lifecycle: string): string {
  const arn = config().STATE_MACHINE_ARNS[lifecycle];
  if (!arn) throw new ConfigurationError(`STATE_MACHINE_ARNS has no ARN for the ${lifecycle} lifecycle`);
  return arn;
}

/** For tests that change the environment between cases. */
export function resetConfig(): void {
  cached = undefined;
}
