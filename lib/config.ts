import * as z from "zod";

/**
 * Task and API configuration, read from the environment once, on first use (so tests and the
 * local runtime can set the environment before any handler runs).
 */
const ConfigSchema = z.object({
  TABLE_NAME: z.string().min(1),
  AWS_REGION: z.string().min(1).default("us-east-1"),
  RECORDING_BUCKET: z.string().min(1).default("castflow-recordings"),
  MEDIALIVE_ROLE_ARN: z.string().min(1).default("arn:aws:iam::000000000000:role/castflow-medialive"),
  /** CIDR allowed to push RTMP into session inputs. */
  INPUT_ALLOWED_CIDR: z.string().min(1).default("0.0.0.0/0"),
  GO_LIVE_STATE_MACHINE_ARN: z.string().optional(),
  STOP_STREAMING_STATE_MACHINE_ARN: z.string().optional(),
  END_SESSION_STATE_MACHINE_ARN: z.string().optional(),
  /** Seconds after an owning execution closed before another may take its session over. */
  TAKEOVER_GRACE_SECONDS: z.coerce.number().nonnegative().default(90),
  /** Hosts without a persistent channel get a per-session program channel ("true"), or 403 ("false"). */
  LEGACY_PROGRAM_CHANNELS: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

export type Config = z.infer<typeof ConfigSchema>;

let cached: Config | undefined;

export function config(): Config {
  if (!cached) {
    const parsed = ConfigSchema.safeParse(process.env);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      throw new Error(`castflow configuration is invalid: ${issues}`);
    }
    cached = parsed.data;
  }
  return cached;
}

/** For tests that change the environment between cases. */
export function resetConfig(): void {
  cached = undefined;
}
