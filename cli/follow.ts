import ora, { type Ora } from "ora";
import { type ApiClient, seg } from "./client.ts";
import { type Context, type ExecutionView, printJson, sleep } from "./context.ts";
import { EXIT, type ExitCode } from "./errors.ts";
import { clock, type HistoryEvent, isContainer, type Step, type StepEvent, StepTracker } from "./steps.ts";

const HISTORY_PAGE = 100;

/**
 * Reads an execution's history oldest first, each call only what is new. The API's page token is
 * kept at the start of the last page that was not full and that page is read again next time
 * (events already seen are skipped), so following a long execution costs one request a poll.
 */
export class HistoryReader {
  private token: string | undefined;
  private lastId = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly execution: string,
  ) {}

  async read(): Promise<HistoryEvent[]> {
    const fresh: HistoryEvent[] = [];
    for (;;) {
      const query = `limit=${HISTORY_PAGE}${this.token ? `&nextToken=${seg(this.token)}` : ""}`;
      const page = (
        await this.client.get<{ events: HistoryEvent[]; nextToken?: string }>(
          `/executions/${seg(this.execution)}/history?${query}`,
        )
      ).body;
      for (const e of page.events) {
        if (e.id > this.lastId) {
          fresh.push(e);
          this.lastId = e.id;
        }
      }
      if (!page.nextToken) return fresh;
      this.token = page.nextToken;
    }
  }
}

/** The live line: a spinner on a terminal, otherwise a plain line now and then for a long step. */
class LiveLine {
  private spinner: Ora | undefined;
  private lastPlain = 0;

  constructor(
    private readonly ctx: Context,
    private readonly plainEveryMs: number,
  ) {
    const tty = ctx.io.tty;
    if (tty) this.spinner = ora({ stream: tty, discardStdin: false, text: "starting" }).start();
  }

  /** A line that stays (a finished step, a retry). */
  line(text: string): void {
    this.ctx.io.out(text);
  }

  status(text: string): void {
    if (this.spinner) {
      this.spinner.text = text;
      return;
    }
    const now = Date.now();
    if (this.lastPlain === 0)
      this.lastPlain = now; // the step's own line comes when it ends
    else if (now - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = now;
      this.ctx.io.out(`… ${text}`);
    }
  }

  newStep(): void {
    this.lastPlain = 0;
  }

  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

const shorten = (s: string, max = 300) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const reason = (error: string, cause?: string | null) =>
  cause && cause !== error ? `${error}: ${shorten(cause)}` : error;

/** The line a finished step leaves: ✔ Ensure Channel 0:01, ✖ Start Channel 0:00  Error: cause. */
export function stepLine(step: Step): string {
  const took = step.endedAt === undefined ? "" : ` ${clock((step.endedAt - step.enteredAt) / 1000)}`;
  if (step.failed) return `✖ ${step.name}${took}  ${reason(step.failed.error, step.failed.cause)}`;
  if (step.unfinished) return `✖ ${step.name}${took}  (did not finish)`;
  if (step.kind === "Fail") return `✖ ${step.name}`;
  if (step.kind === "Succeed") return `✔ ${step.name}`;
  return `✔ ${step.name}${took}`;
}

function progressText(view: ExecutionView, current: Step | undefined): string {
  const p = view.progress;
  if (p) {
    const budget = p.budgetSeconds ? ` / ${clock(p.budgetSeconds)}` : "";
    const retries = view.retries ? ` (retry ${view.retries})` : "";
    return `${p.state} ${clock(p.elapsedSeconds)}${budget}${retries}`;
  }
  return current?.name ?? view.currentState ?? view.status.toLowerCase();
}

export interface Followed {
  readonly view: ExecutionView;
  readonly tracker: StepTracker;
}

/**
 * Follows an execution until it closes: a line per step with its time, a line per retry as it
 * happens, and the current step's time against its budget on the live line. Silent with --json.
 */
export async function follow(ctx: Context, execution: string, options: { plainEveryMs?: number } = {}) {
  const tracker = new StepTracker();
  const history = new HistoryReader(ctx.client, execution);
  const live = ctx.json ? undefined : new LiveLine(ctx, options.plainEveryMs ?? 10_000);
  const show = (events: StepEvent[]) => {
    for (const e of events) {
      if (e.kind === "enter") {
        // A Parallel's line comes first, its branches' steps under it; other steps when they end.
        if (isContainer(e.step)) live?.line(`▸ ${e.step.name}`);
        live?.newStep();
      } else if (e.kind === "done") live?.line(stepLine(e.step));
      else live?.line(`  ↻ ${e.state}: retry ${e.attempt} after ${reason(e.error, e.cause)}`);
    }
  };
  let view: ExecutionView | undefined;
  try {
    for (;;) {
      try {
        view = (await ctx.client.get<ExecutionView>(`/executions/${seg(execution)}`)).body;
        // Read after the status: once it is closed, this read has the whole history.
        show(tracker.feed(await history.read()));
      } catch (err) {
        // Ctrl-C during a request: stop following where it was.
        if (ctx.signal?.aborted && view) return { view, tracker } satisfies Followed;
        throw err;
      }
      if (view.status !== "RUNNING") show(tracker.close(Date.parse(view.stopDate ?? view.startDate)));
      if (view.status !== "RUNNING" || ctx.signal?.aborted) return { view, tracker } satisfies Followed;
      live?.status(progressText(view, tracker.steps.at(-1)));
      await sleep(ctx.pollMs, ctx.signal);
    }
  } finally {
    live?.stop();
  }
}

/** Seconds from the execution's start to its stop (or now). */
export const tookSeconds = (view: ExecutionView) =>
  ((view.stopDate ? Date.parse(view.stopDate) : Date.now()) - Date.parse(view.startDate)) / 1000;

/** The steps that ran after the failure (the compensation), as "A → B → C", and the attempts that failed in them. */
export function compensationOf(tracker: StepTracker, failedState: string | null | undefined) {
  const after = failedState ? tracker.after(failedState) : [];
  return {
    steps: after.map((s) => s.name),
    failed: after.filter((s) => s.failed).map((s) => ({ state: s.name, ...s.failed })),
  };
}

/** The one paragraph a failed, timed-out or aborted execution ends with. */
export function failureParagraph(view: ExecutionView, tracker: StepTracker): string {
  const f = view.failure;
  const verb =
    view.status === "TIMED_OUT" ? "timed out" : view.status === "ABORTED" ? "was aborted" : "failed";
  const where = f?.state ? ` in "${f.state}"` : "";
  const retries = view.retries ? ` after ${view.retries} ${view.retries === 1 ? "retry" : "retries"}` : "";
  const error = f?.error ?? view.error?.code;
  const cause = f?.cause ?? view.error?.message;
  const what = error ? `: ${reason(error, cause)}` : "";
  const comp = compensationOf(tracker, f?.state);
  const compensation = comp.steps.length
    ? ` Then it ran ${comp.steps.join(" → ")}${
        comp.failed.length
          ? `, where ${comp.failed.map((x) => `${x.state} failed (${x.error})`).join(", ")}`
          : " (each step succeeded)"
      }.`
    : "";
  return `✖ ${view.name} ${verb} after ${clock(tookSeconds(view))}${where}${retries}${what}.${compensation}`;
}

/** What a succeeded execution returned, one `key: value` line per plain field. */
export function outputLines(output: unknown): string[] {
  if (!output || typeof output !== "object") return [];
  return Object.entries(output as Record<string, unknown>)
    .filter(([, v]) => ["string", "number", "boolean"].includes(typeof v))
    .map(([k, v]) => `  ${k}: ${String(v)}`);
}

/** The last word on a followed execution, and its exit code: 0 only when it succeeded. */
export function report(ctx: Context, { view, tracker }: Followed): ExitCode {
  if (ctx.json) printJson(ctx, view);
  else if (view.status === "SUCCEEDED") {
    ctx.io.out(`✔ ${view.name} succeeded in ${clock(tookSeconds(view))}`);
    for (const line of outputLines(view.output)) ctx.io.out(line);
  } else if (view.status === "RUNNING") {
    ctx.io.out(`${view.name} is still running in ${view.currentState ?? "?"} (stopped following)`);
  } else ctx.io.out(failureParagraph(view, tracker));
  return view.status === "SUCCEEDED" ? EXIT.ok : EXIT.failed;
}

/** An API answer that started (or joined) an execution: `{executionArn, executionName?, ...}`. */
export interface StartAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * After a request that may start an execution: 200 means nothing had to run (`already` says
 * what); 202 is followed to its end unless `wait` is false, then its ARN and name are printed.
 */
export async function startedOrDone(
  ctx: Context,
  answer: StartAnswer,
  options: { readonly wait: boolean; readonly already: string },
): Promise<ExitCode> {
  const arn = typeof answer.body.executionArn === "string" ? answer.body.executionArn : undefined;
  if (answer.status !== 202 || !arn) {
    if (ctx.json) printJson(ctx, answer.body);
    else ctx.io.out(options.already);
    return EXIT.ok;
  }
  const name =
    typeof answer.body.executionName === "string" ? answer.body.executionName : arn.split(":").at(-1);
  if (!options.wait) {
    if (ctx.json) printJson(ctx, answer.body);
    else {
      ctx.io.out(`started ${name}`);
      ctx.io.out(`  executionArn: ${arn}`);
      ctx.io.out(`  follow it: castflow follow ${name}`);
    }
    return EXIT.ok;
  }
  if (!ctx.json) {
    ctx.io.out(`${name} started`);
    const interrupts = answer.body.interrupts;
    if (Array.isArray(interrupts) && interrupts.length > 0)
      ctx.io.out(`  the shared channel restarts: interrupts destinations ${interrupts.join(", ")}`);
  }
  return report(ctx, await follow(ctx, arn));
}
