import { setTimeout } from "node:timers/promises";
import { paginateListChannels as paginateIvsChannels } from "@aws-sdk/client-ivs";
import { ListTagsForResourceCommand, paginateListFlows } from "@aws-sdk/client-mediaconnect";
import { paginateListChannels, paginateListInputs } from "@aws-sdk/client-medialive";
import { DescribeExecutionCommand, paginateListExecutions } from "@aws-sdk/client-sfn";
import { ivs, mediaconnect, medialive, sfn } from "#lib/aws/clients.ts";
import { listChannels } from "#lib/channels/store.ts";
import { config } from "#lib/config.ts";
import { FLOW_NAME_PREFIX } from "#lib/destinations/model.ts";
import { listDestinations, listSources } from "#lib/destinations/store.ts";
import { errorName, isNotFound } from "#lib/errors.ts";
import {
  clearNoInput,
  listNoInput,
  noInputSince,
  pipelinesOf,
  setAlerts,
} from "#lib/sessions/input-signal.ts";
import { scanSessions } from "#lib/sessions/store.ts";
import type { Inventory } from "./model.ts";

export type Resources = Omit<Inventory, "executions" | "executionsByName" | "now">;

/**
 * The pages of a list operation, at most `perSecond` a second: the lifecycles running beside a
 * reconcile use the same operations (IVS allows 5 ListChannels a second, not adjustable), and a
 * reconcile that took them all would throttle go-lives. `more` says whether a page has a next
 * one (its next token), so the last page is not followed by a wait for nothing.
 */
export async function* paced<T>(
  pages: AsyncIterable<T>,
  perSecond: number,
  signal: AbortSignal,
  more: (page: T) => boolean,
) {
  const gapMs = 1000 / perSecond;
  let last = performance.now();
  for await (const page of pages) {
    yield page;
    if (!more(page)) return;
    const wait = last + gapMs - performance.now();
    if (wait > 0) await setTimeout(wait, undefined, { signal });
    last = performance.now();
  }
}

/** The account's MediaLive channels and inputs, IVS channels and MediaConnect flows: one API call per page (paced), nothing per item. */
export async function gatherAwsResources(
  signal: AbortSignal,
): Promise<Pick<Resources, "channels" | "inputs" | "ivsChannels" | "flows">> {
  const perSecond = config().RECONCILE_LIST_PAGES_PER_SECOND;
  const channels: Resources["channels"][number][] = [];
  for await (const page of paced(
    paginateListChannels({ client: medialive() }, { MaxResults: 1000 }, { abortSignal: signal }),
    perSecond,
    signal,
    (p) => Boolean(p.NextToken),
  ))
    for (const c of page.Channels ?? [])
      channels.push({
        id: c.Id ?? "",
        arn: c.Arn ?? "",
        state: c.State ?? "UNKNOWN",
        tags: c.Tags ?? {},
        inputIds: (c.InputAttachments ?? []).flatMap((a) => (a.InputId ? [a.InputId] : [])),
        ...(c.ChannelClass ? { channelClass: c.ChannelClass } : {}),
      });
  const inputs: Resources["inputs"][number][] = [];
  for await (const page of paced(
    paginateListInputs({ client: medialive() }, { MaxResults: 1000 }, { abortSignal: signal }),
    perSecond,
    signal,
    (p) => Boolean(p.NextToken),
  ))
    for (const i of page.Inputs ?? [])
      inputs.push({
        id: i.Id ?? "",
        state: i.State ?? "UNKNOWN",
        tags: i.Tags ?? {},
        attachedChannels: i.AttachedChannels ?? [],
      });
  const ivsChannels: Resources["ivsChannels"][number][] = [];
  for await (const page of paced(
    paginateIvsChannels({ client: ivs() }, { maxResults: 100 }, { abortSignal: signal }),
    perSecond,
    signal,
    (p) => Boolean(p.nextToken),
  ))
    for (const c of page.channels ?? []) ivsChannels.push({ arn: c.arn ?? "", tags: c.tags ?? {} });
  const flows: Resources["flows"][number][] = [];
  for await (const page of paced(
    paginateListFlows({ client: mediaconnect() }, { MaxResults: 1000 }, { abortSignal: signal }),
    perSecond,
    signal,
    (p) => Boolean(p.NextToken),
  ))
    for (const f of page.Flows ?? [])
      flows.push({ arn: f.FlowArn ?? "", name: f.Name ?? "", status: f.Status ?? "UNKNOWN" });
  return { channels, inputs, ivsChannels, flows };
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
  const gapMs = 1000 / config().RECONCILE_LIST_PAGES_PER_SECOND;
  let asked = false;
  for (const f of flows) {
    if (named.has(f.arn) || !f.name.startsWith(FLOW_NAME_PREFIX) || f.status === "DELETING") {
      out.push(f);
      continue;
    }
    // At the pace of the lists: another stage's flows in the account are asked about every run.
    if (asked) await setTimeout(gapMs, undefined, { signal });
    asked = true;
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
    const since = noInputSince(await setAlerts(channel.id, signal), pipelinesOf(channel.channelClass));
    if (since) out[channel.id] = since.toISOString();
    else await clearNoInput(channel.id);
  }
  return out;
}
