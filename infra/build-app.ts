import { App } from "aws-cdk-lib";
import { SESSION_INDEXES } from "#lib/sessions/model.ts";
import { MACHINES } from "#state-machines/registry.ts";
import { scheduleContextKey } from "#state-machines/workflow/lifecycle.ts";
import { CastflowStack } from "./castflow-stack.ts";

/** `castflow:sessionIndexes`: names of SESSION_INDEXES, comma-separated, refused at synth when unknown. */
function sessionIndexes(raw: string): (keyof typeof SESSION_INDEXES)[] {
  const names = raw
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of names)
    if (!(n in SESSION_INDEXES))
      throw new Error(
        `castflow:sessionIndexes names no index ${JSON.stringify(n)} (known: ${Object.keys(SESSION_INDEXES).join(", ")})`,
      );
  return names as (keyof typeof SESSION_INDEXES)[];
}

/**
 * Builds the CDK app. Settings come from cdk.json context (override with `-c castflow:stage=prod`
 * ...). No lookups: synth works offline without credentials.
 */
export function buildApp(app = new App()): { app: App; stack: CastflowStack } {
  const ctx = (key: string, fallback: string) =>
    String(app.node.tryGetContext(`castflow:${key}`) ?? fallback);
  /** A whole-number setting, refused at synth (never a function that fails its cold start) when it is not one. */
  const wholeNumber = (key: string, fallback: string, min: number) => {
    const raw = ctx(key, fallback);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`castflow:${key} must be a whole number, at least ${min} (got ${JSON.stringify(raw)})`);
    return n;
  };
  const stage = ctx("stage", "dev");
  const stack = new CastflowStack(app, `castflow-${stage}`, {
    stage,
    jwtIssuer: ctx("jwtIssuer", "https://auth.example.com/"),
    jwtAudience: ctx("jwtAudience", "castflow-api"),
    legacyProgramChannels: ctx("legacyProgramChannels", "false") === "true",
    sessionIndexes: sessionIndexes(ctx("sessionIndexes", Object.keys(SESSION_INDEXES).join(","))),
    // `castflow:reconcileMinutes=N` and the like: every scheduled lifecycle's minutes.
    scheduleMinutes: Object.fromEntries(
      MACHINES.flatMap(({ lifecycle: { name, schedule } }) =>
        schedule ? [[name, wholeNumber(scheduleContextKey(name), String(schedule.everyMinutes), 1)]] : [],
      ),
    ),
    reconcile: {
      graceSeconds: wholeNumber("reconcileGraceSeconds", "300", 0),
      dryRunOnly: ctx("reconcileDryRunOnly", "false") === "true",
      idleInputMinutes: wholeNumber("reconcileIdleInputMinutes", "25", 1),
      idleResourceTtlHours: wholeNumber("reconcileIdleResourceTtlHours", "72", 1),
      repairAlarmThreshold: wholeNumber("reconcileRepairAlarmThreshold", "10", 0),
    },
    description: "castflow: Step Functions lifecycles for live streaming on MediaLive and IVS",
  });
  return { app, stack };
}
