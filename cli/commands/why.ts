import { CLOSED_BADLY } from "#state-machines/workflow/history-events.ts";
import { seg } from "../client.ts";
import { type Context, type ExecutionView, printJson } from "../context.ts";
import { ApiFailure, CliError, EXIT, type ExitCode } from "../errors.ts";
import { compensationOf, HistoryReader, tookSeconds } from "../follow.ts";
import { at, fields, str } from "../format.ts";
import { clock, StepTracker } from "../steps.ts";
import { sessionExecutions } from "./sessions.ts";

/** A record the id names (a session or a destination), with the executions it remembers. */
interface Subject {
  readonly kind: "session" | "destination";
  readonly record: Record<string, unknown>;
  readonly executions: string[];
}

/** GET that answers undefined for a 404 or a 400 (an id the route does not take). */
async function find(ctx: Context, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await ctx.client.get(path)).body;
  } catch (err) {
    if (err instanceof ApiFailure && (err.status === 404 || err.status === 400)) return undefined;
    throw err;
  }
}

async function subjectOf(ctx: Context, id: string): Promise<Subject | undefined> {
  if (id.startsWith("arn:")) return undefined;
  const session = await find(ctx, `/sessions/${seg(id)}`);
  if (session) return { kind: "session", record: session, executions: sessionExecutions(session) };
  const destination = await find(ctx, `/destinations/${seg(id)}`);
  if (destination) {
    const arns = [at(destination, "executionArn"), at(destination, "lastSettled.executionArn")];
    return {
      kind: "destination",
      record: destination,
      executions: [...new Set(arns.filter((a): a is string => typeof a === "string" && a !== ""))],
    };
  }
  return undefined;
}

const newestFirst = (a: ExecutionView, b: ExecutionView) => b.startDate.localeCompare(a.startDate);

/** What the record itself says went wrong: the session's streaming error and failed clean-up parts, a destination's error. */
function recordLines(subject: Subject): [string, unknown][] {
  const r = subject.record;
  if (subject.kind === "destination") {
    const e = at(r, "error");
    return [["destination", `${str(r, "status")}${e ? `, ${str(e, "code")}: ${str(e, "message")}` : ""}`]];
  }
  const e = at(r, "streaming.error");
  const cleanup = at(r, "end.cleanupResults");
  const failedParts =
    cleanup && typeof cleanup === "object"
      ? Object.entries(cleanup as Record<string, unknown>)
          .filter(([, part]) => at(part, "success") === false)
          .map(([name, part]) => `${name} (${str(part, "error")})`)
      : [];
  return [
    ["session", `${str(r, "status")}, streaming ${str(r, "streaming.status")}`],
    ["recorded", e ? `${str(e, "code")}: ${str(e, "message")}` : undefined],
    ["clean-up", failedParts.length ? `failed parts: ${failedParts.join(", ")}` : undefined],
  ];
}

/**
 * `castflow why <executionArn|executionName|sessionId|destinationId>`: the last failure explained:
 * the state it failed in, its error and cause, the retries before, the path that led there and
 * what ran after it (the compensation). For a session or destination, the newest of the
 * executions its record names that did not succeed.
 */
export async function why(ctx: Context, id: string): Promise<ExitCode> {
  const subject = await subjectOf(ctx, id);
  let candidates: ExecutionView[];
  if (subject) {
    const views = await Promise.all(
      subject.executions.map((arn) =>
        ctx.client.get<ExecutionView>(`/executions/${seg(arn)}`).then((r) => r.body),
      ),
    );
    candidates = views.sort(newestFirst);
  } else {
    try {
      candidates = [(await ctx.client.get<ExecutionView>(`/executions/${seg(id)}`)).body];
    } catch (err) {
      if (err instanceof ApiFailure && (err.status === 404 || err.status === 400))
        throw new CliError(`no session, destination or execution named ${id} (that you may see)`);
      throw err;
    }
  }
  const recorded = subject ? recordLines(subject) : [];
  const failed = candidates.find((v) => CLOSED_BADLY.has(v.status));
  if (!failed) {
    const latest = candidates[0];
    if (ctx.json) printJson(ctx, { execution: latest ?? null, failed: false });
    else if (!latest) ctx.io.out(`${subject?.kind ?? "it"} ${id} has run no execution yet`);
    else if (latest.status === "RUNNING") {
      const p = latest.progress;
      ctx.io.out(
        `nothing failed: ${latest.name} is running, in ${p ? `${p.state} ${clock(p.elapsedSeconds)}${p.budgetSeconds ? ` / ${clock(p.budgetSeconds)}` : ""}` : (latest.currentState ?? "?")}`,
      );
    } else ctx.io.out(`nothing failed: the last execution, ${latest.name}, ${latest.status.toLowerCase()}`);
    if (!ctx.json) for (const line of fields(recorded)) ctx.io.out(line);
    return EXIT.ok;
  }

  const tracker = new StepTracker();
  tracker.feed(await new HistoryReader(ctx.client, failed.executionArn).read());
  tracker.close(Date.parse(failed.stopDate ?? failed.startDate));
  const f = failed.failure;
  const compensation = compensationOf(tracker, f?.state);
  const failedStep = f?.state ? tracker.stepOf(f.state) : undefined;
  const upTo = failedStep ? tracker.steps.findLastIndex((s) => s.name === failedStep) : -1;
  const path = tracker.steps.slice(0, upTo + 1).map((s) => s.name);
  if (ctx.json) {
    printJson(ctx, {
      execution: failed,
      failedState: f?.state ?? null,
      error: f?.error ?? failed.error?.code ?? null,
      cause: f?.cause ?? failed.error?.message ?? null,
      retries: failed.retries ?? 0,
      path,
      compensation,
      ...(subject ? { [subject.kind]: subject.record } : {}),
    });
    return EXIT.ok;
  }
  const verb =
    failed.status === "TIMED_OUT" ? "timed out" : failed.status === "ABORTED" ? "was aborted" : "failed";
  ctx.io.out(`${failed.name} ${verb} at ${failed.stopDate ?? "?"} after ${clock(tookSeconds(failed))}`);
  for (const line of fields([
    ["failed state", f?.state ?? "(none: the execution itself)"],
    ["error", f?.error ?? failed.error?.code],
    ["cause", f?.cause ?? failed.error?.message],
    ["retries", failed.retries ? `${failed.retries} before it gave up` : undefined],
    ["path", path.length ? path.join(" → ") : undefined],
    [
      "compensation",
      compensation.steps.length
        ? `${compensation.steps.join(" → ")}${
            compensation.failed.length
              ? `; failed in it: ${compensation.failed.map((x) => `${x.state} (${x.error})`).join(", ")}`
              : " (each step succeeded)"
          }`
        : "none ran after the failure",
    ],
    ...recorded,
  ]))
    ctx.io.out(line);
  if (candidates[0] && candidates[0] !== failed)
    ctx.io.out(`(newer: ${candidates[0].name}, ${candidates[0].status.toLowerCase()})`);
  return EXIT.ok;
}
