import { type Context, sleep } from "../context.ts";
import { EXIT, type ExitCode } from "../errors.ts";
import { at, executionNameOf, str } from "../format.ts";

/** What `watch` compares between two polls, for one session or destination. */
interface Item {
  readonly kind: "session" | "destination";
  readonly id: string;
  readonly label: string;
  /** Shown as `name from → to` when they change. */
  readonly fields: Readonly<Record<string, string>>;
  /** Execution ARNs the record names: a new one is an execution started. */
  readonly executions: readonly string[];
}

export interface Change {
  readonly time: string;
  readonly kind: Item["kind"];
  readonly id: string;
  readonly label: string;
  readonly event: "seen" | "created" | "changed" | "gone";
  readonly changes: Readonly<Record<string, { readonly from: string; readonly to: string }>>;
  readonly executions: readonly string[];
}

const arns = (...values: unknown[]) =>
  values.filter((v): v is string => typeof v === "string" && v !== "").map(String);

function sessionItem(s: Record<string, unknown>): Item {
  const error = at(s, "streaming.error");
  return {
    kind: "session",
    id: str(s, "sessionId"),
    label: `show ${str(s, "showId")}, host ${str(s, "hostUserId")}`,
    fields: {
      status: str(s, "status"),
      streaming: str(s, "streaming.status"),
      error: error ? `${str(error, "code")}: ${str(error, "message")}` : "none",
    },
    executions: arns(
      at(s, "streaming.executionArn"),
      at(s, "streaming.stopExecutionArn"),
      at(s, "endRequest.executionArn"),
      at(s, "end.executionArn"),
    ),
  };
}

function destinationItem(d: Record<string, unknown>): Item {
  const error = at(d, "error");
  return {
    kind: "destination",
    id: str(d, "destinationId"),
    label: `${str(d, "name")}, ${str(d, "platform")}`,
    fields: {
      status: str(d, "status"),
      active: str(d, "activeUrl"),
      error: error ? `${str(error, "code")}: ${str(error, "message")}` : "none",
    },
    executions: arns(at(d, "executionArn"), at(d, "lastSettled.executionArn")),
  };
}

/** The changes from one poll to the next (`before` undefined: the first poll, every item "seen"). */
export function diff(
  before: ReadonlyMap<string, Item> | undefined,
  after: ReadonlyMap<string, Item>,
): Change[] {
  const time = new Date().toISOString();
  const out: Change[] = [];
  for (const [key, item] of after) {
    const old = before?.get(key);
    const changes: Record<string, { from: string; to: string }> = {};
    for (const [field, to] of Object.entries(item.fields)) {
      const from = old?.fields[field];
      if (old && from !== to) changes[field] = { from: from ?? "", to };
    }
    const executions = item.executions.filter((e) => !old?.executions.includes(e));
    const event = !before ? "seen" : !old ? "created" : "changed";
    if (event === "changed" && Object.keys(changes).length === 0 && executions.length === 0) continue;
    out.push({ time, kind: item.kind, id: item.id, label: item.label, event, changes, executions });
  }
  for (const [key, item] of before ?? []) {
    if (!after.has(key)) out.push({ time, ...item, event: "gone", changes: {}, executions: [] });
  }
  return out;
}

function changeLine(c: Change, item: Item | undefined): string {
  const clock = c.time.slice(11, 19);
  const head = `${clock} ${c.kind} ${c.id}`;
  const runs = c.executions.length ? `  (${c.executions.map(executionNameOf).join(", ")})` : "";
  if (c.event === "gone") return `${head} is gone (deleted, or no longer in the newest page)`;
  const state = item
    ? Object.entries(item.fields)
        .filter(([k, v]) => !(k === "error" && v === "none"))
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")
    : "";
  if (c.event === "seen") return `${head} (${c.label}): ${state}`;
  if (c.event === "created") return `${head} created (${c.label}): ${state}${runs}`;
  const changed = Object.entries(c.changes)
    .map(([k, { from, to }]) => (k === "error" ? `error ${to}` : `${k} ${from} → ${to}`))
    .join(", ");
  return `${head} ${changed || "ran"}${runs}`;
}

export interface WatchOptions {
  /** Stop after this long (default: until Ctrl-C). */
  readonly forMs?: number;
}

/**
 * `castflow watch`: polls GET /sessions (the newest 100) and GET /destinations every `pollMs` and
 * prints a line per change: a status that moved, an error recorded, an execution started. Honest
 * about what polling sees: two changes between polls show as one, and a lifecycle that ran and
 * settled between polls shows as the execution it left. `--json`: one JSON object per change.
 */
export async function watch(ctx: Context, options: WatchOptions = {}): Promise<ExitCode> {
  const deadline = options.forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.forMs;
  let before: Map<string, Item> | undefined;
  while (!ctx.signal?.aborted) {
    const items = new Map<string, Item>();
    const page = await ctx.client.get<{ sessions: Record<string, unknown>[] }>("/sessions?limit=100");
    for (const x of page.body.sessions) items.set(`session:${str(x, "sessionId")}`, sessionItem(x));
    const dests = await ctx.client.get<{ destinations: Record<string, unknown>[] }>("/destinations");
    for (const d of dests.body.destinations)
      items.set(`destination:${str(d, "destinationId")}`, destinationItem(d));
    const changes = diff(before, items);
    if (!before && !ctx.json) {
      const count = (kind: Item["kind"]) => [...items.values()].filter((i) => i.kind === kind).length;
      ctx.io.out(
        `watching ${count("session")} sessions and ${count("destination")} destinations, every ${ctx.pollMs / 1000} s (changes between two polls show as one; Ctrl-C stops)`,
      );
    }
    for (const c of changes) {
      // Ended sessions and deleted destinations are history: shown when they change, not at the start.
      const item = items.get(`${c.kind}:${c.id}`);
      if (c.event === "seen" && ["ended", "deleted"].includes(item?.fields.status ?? "")) continue;
      ctx.io.out(
        ctx.json ? JSON.stringify({ ...c, ...(item ? { now: item.fields } : {}) }) : changeLine(c, item),
      );
    }
    before = items;
    if (Date.now() + ctx.pollMs > deadline) break;
    await sleep(ctx.pollMs, ctx.signal);
  }
  return EXIT.ok;
}
