import { setTimeout } from "node:timers/promises";
import { paginateListChannels as paginateIvsChannels } from "@aws-sdk/client-ivs";
import { ListTagsForResourceCommand, paginateListFlows } from "@aws-sdk/client-mediaconnect";
import { paginateListChannels, paginateListInputs } from "@aws-sdk/client-medialive";
import { DescribeExecutionCommand, paginateListExecutions } from "@aws-sdk/client-sfn";
import { ivs, mediaconnect, medialive, sfn } from "#lib/aws/clients.ts";
import { listChannelAlerts } from "#lib/aws/medialive.ts";
import { listChannels } from "#lib/channels/store.ts";
import { config } from "#lib/config.ts";
import { FLOW_NAME_PREFIX } from "#lib/destinations/model.ts";
import { listDestinations, listSources } from "#lib/destinations/store.ts";
import { errorName, isNotFound } from "#lib/errors.ts";
import { clearNoInput, listNoInput, noInputSince, pipelinesOf } from "#lib/sessions/input-signal.ts";
import { scanSessions } from "#lib/sessions/store.ts";
import type { Inventory } from "./model.ts";

export type Resources = Omit<Inventory, "executions" | "executionsByName" | "now">;

/**
 * Waits so that the calls it is asked before are at most `perSecond` a second: the lifecycles
 * running beside a reconcile use the same operations (IVS allows 5 ListChannels a second, not
 * adjustable), and a reconcile that took them all would throttle go-lives.
 */
function pacer(perSecond: number, signal: AbortSignal): () => Promise<void> {
  const gapMs = 1000 / perSecond;
  let last = Number.NEGATIVE_INFINITY;
  return async () => {
    const wait = last + gapMs - performance.now();
    if (wait > 0) await setTimeout(wait, undefined, { signal });
    last = performance.now();
  };
}

/**
 * Every item of a paged list, its pages asked at the reconcile's pace. `read` gives a page's
 * items and next token: the last page is not followed by a wait for nothing.
 */
async function listPaced<P, T>(
  pages: AsyncIterable<P>,
  signal: AbortSignal,
  read: (page: P) => { items: readonly T[] | undefined; next: string | undefined },
): Promise<T[]> {
  const pace = pacer(config().RECONCILE_LIST_PAGES_PER_SECOND, signal);
  const out: T[] = [];
  for await (const page of pages) {
    const { items, next } = read(page);
    out.push(...(items ?? []));
    if (!next) break;
    await pace();
  }
  return out;
}

/** The account's MediaLive channels and inputs, IVS channels and MediaConnect flows: one API call per page (paced), nothing per item. */
export async function gatherAwsResources(
  signal: AbortSignal,
): Promise<Pick<Resources, "channels" | "inputs" | "ivsChannels" | "flows">> {
  const opts = { abortSignal: signal };
  const channels = await listPaced(
    paginateListChannels({ client: medialive() }, { MaxResults: 1000 }, opts),
    signal,
    (p) => ({ items: p.Channels, next: p.NextToken }),
  );
  const inputs = await listPaced(
    paginateListInputs({ client: medialive() }, { MaxResults: 1000 }, opts),
    signal,
    (p) => ({ items: p.Inputs, next: p.NextToken }),
  );
  const ivsChannels = await listPaced(
    paginateIvsChannels({ client: ivs() }, { maxResults: 100 }, opts),
    signal,
    (p) => ({ items: p.channels, next: p.nextToken }),
  );
  const flows = await listPaced(
    paginateListFlows({ client: mediaconnect() }, { MaxResults: 1000 }, opts),
    signal,
    (p) => ({ items: p.Flows, next: p.NextToken }),
  );
  return {
    channels: channels.map((c) => ({
      id: c.Id ?? "",
      arn: c.Arn ?? "",
      state: c.State ?? "UNKNOWN",
      tags: c.Tags ?? {},
      inputIds: (c.InputAttachments ?? []).flatMap((a) => (a.InputId ? [a.InputId] : [])),
      ...(c.ChannelClass ? { channelClass: c.ChannelClass } : {}),
    })),
    inputs: inputs.map((i) => ({
      id: i.Id ?? "",
      state: i.State ?? "UNKNOWN",
      tags: i.Tags ?? {},
      attachedChannels: i.AttachedChannels ?? [],
    })),
    ivsChannels: ivsChannels.map((c) => ({ arn: c.arn ?? "", tags: c.tags ?? {} })),
    flows: flows.map((f) => ({ arn: f.FlowArn ?? "", name: f.Name ?? "", status: f.Status ?? "UNKNOWN" })),
  };
}

/**
 * ListFlows has no tags: a flow named like a source's that no source record names gets its tags
 * read (one call per such flow, paced like the lists), so its stage is known before it is called
 * an orphan. Another stage's flows in the same account are asked about on every run: at most the
 * region's flow quota (20 by default).
 */
export async function tagUnclaimedFlows(
  flows: Resources["flows"],
  sources: Resources["sources"],
  signal: AbortSignal,
): Promise<Resources["flows"]> {
  const named = new Set(sources.flatMap((s) => (s.flow?.flowArn ? [s.flow.flowArn] : [])));
  const out: Resources["flows"][number][] = [];
  const pace = pacer(config().RECONCILE_LIST_PAGES_PER_SECOND, signal);
  for (const f of flows) {
    if (named.has(f.arn) || !f.name.startsWith(FLOW_NAME_PREFIX) || f.status === "DELETING") {
      out.push(f);
      continue;
    }
    // At the pace of the lists: another stage's flows in the account are asked about every run.
    await pace();
    try {
      const res = await mediaconnect().send(new ListTagsForResourceCommand({ ResourceArn: f.arn }), {
        abortSignal: signal,
      });
      out.push({ ...f, tags: res.Tags ?? {} });
    } catch (err) {
      if (!isNotFound(err)) throw err; // deleted meanwhile: nothing to say about it
    }
  }
  return out;
}

/** castflow's records: sessions, destinations, sources and persistent channels. */
export async function gatherRecords(): Promise<
  Pick<Resources, "sessions" | "destinations" | "sources" | "persistentChannels">
> {
  const [sessions, destinations, sources, persistentChannels] = await Promise.all([
    scanSessions(),
    listDestinations(),
    listSources(),
    listChannels(),
  ]);
  return { sessions, destinations, sources, persistentChannels };
}

/** An execution's status, or `UNKNOWN` when Step Functions does not know it (closed long ago, or never started). */
async function executionStatus(executionArn: string, signal: AbortSignal): Promise<string> {
  try {
    const res = await sfn().send(new DescribeExecutionCommand({ executionArn }), { abortSignal: signal });
    return res.status ?? "UNKNOWN";
  } catch (err) {
    if (["ExecutionDoesNotExist", "InvalidArn"].includes(errorName(err))) return "UNKNOWN";
    throw err;
  }
}

/** What runs now: every execution of castflow's state machines, by name and per lifecycle (one ListExecutions page per 1,000). */
export interface Running {
  readonly names: ReadonlySet<string>;
  readonly byLifecycle: Readonly<Record<string, readonly string[]>>;
}

export async function runningExecutions(signal: AbortSignal): Promise<Running> {
  const names = new Set<string>();
  const byLifecycle: Record<string, string[]> = {};
  for (const [lifecycle, stateMachineArn] of Object.entries(config().STATE_MACHINE_ARNS)) {
    const pages = paginateListExecutions(
      { client: sfn() },
      { stateMachineArn, statusFilter: "RUNNING", maxResults: 1000 },
      { abortSignal: signal },
    );
    const list: string[] = [];
    for await (const page of pages) for (const e of page.executions ?? []) if (e.name) list.push(e.name);
    byLifecycle[lifecycle] = list;
    for (const n of list) names.add(n);
  }
  return { names, byLifecycle };
}

/** An execution ARN's last part: its name. */
export const nameOf = (executionArn: string) => executionArn.slice(executionArn.lastIndexOf(":") + 1);

/**
 * The status of each execution a record or a resource names. What runs comes from ListExecutions
 * (a few calls, whatever the number of resources); only the executions that hold a transitional
 * record and do not run are described, to tell a closed one (settled by its lifecycle) from one
 * Step Functions does not know.
 */
export async function describeExecutions(
  wanted: { arns: readonly string[]; names: readonly string[] },
  running: Running,
  signal: AbortSignal,
): Promise<Pick<Inventory, "executions" | "executionsByName">> {
  const executions: Record<string, string> = {};
  for (const arn of wanted.arns)
    executions[arn] = running.names.has(nameOf(arn)) ? "RUNNING" : await executionStatus(arn, signal);
  const executionsByName = Object.fromEntries(
    wanted.names.map((name) => [name, running.names.has(name) ? "RUNNING" : "CLOSED"]),
  );
  return { executions, executionsByName };
}

/**
 * RUNNING channels of live sessions without input for longer than `idleInputMinutes`, as their
 * alerts say now. The candidates come from what `record-input-signal` recorded (one Query); each
 * whose session is live on it is checked with ListAlerts (one call per channel that may need
 * action), so a recorded loss whose CLEARED event was lost is never taken for the truth, and is
 * forgotten once disproved (as is one about a channel that no longer runs).
 */
export async function confirmNoInput(
  channels: Resources["channels"],
  sessions: Resources["sessions"],
  now: Date,
  idleInputMinutes: number,
  signal: AbortSignal,
): Promise<Record<string, string>> {
  const running = new Map(channels.filter((c) => c.state === "RUNNING").map((c) => [c.id, c]));
  const live = new Map(
    sessions
      .filter((s) => s.status === "active" && s.streaming.status === "live" && s.mediaLive.channelId)
      .map((s) => [s.mediaLive.channelId as string, s]),
  );
  const cutoff = now.getTime() - idleInputMinutes * 60_000;
  const out: Record<string, string> = {};
  for (const seen of await listNoInput()) {
    const channel = running.get(seen.channelId);
    if (!channel) {
      await clearNoInput(seen.channelId);
      continue;
    }
    if (!live.has(channel.id) || Date.parse(seen.since) > cutoff) continue;
    const alerts = await listChannelAlerts(channel.id, "SET", signal);
    const since = noInputSince(alerts, pipelinesOf(channel.channelClass));
    if (since) out[channel.id] = since.toISOString();
    else await clearNoInput(channel.id);
  }
  return out;
}
