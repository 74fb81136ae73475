import { paginateListChannels as paginateIvsChannels } from "@aws-sdk/client-ivs";
import { paginateListChannels, paginateListInputs } from "@aws-sdk/client-medialive";
import { DescribeExecutionCommand, paginateListExecutions } from "@aws-sdk/client-sfn";
import { ivs, medialive, sfn } from "#lib/aws/clients.ts";
import { listChannels } from "#lib/channels/store.ts";
import { config } from "#lib/config.ts";
import { listDestinations, listSources } from "#lib/destinations/store.ts";
import { errorName } from "#lib/errors.ts";
import { scanSessions } from "#lib/sessions/store.ts";
import type { Inventory } from "./model.ts";

export type Resources = Omit<Inventory, "executions" | "executionsByName" | "now">;

/** The account's MediaLive channels and inputs and IVS channels: one API call per page, nothing per item. */
export async function gatherAwsResources(
  signal: AbortSignal,
): Promise<Pick<Resources, "channels" | "inputs" | "ivsChannels">> {
  const channels: Resources["channels"][number][] = [];
  for await (const page of paginateListChannels(
    { client: medialive() },
    { MaxResults: 1000 },
    { abortSignal: signal },
  ))
    for (const c of page.Channels ?? [])
      channels.push({
        id: c.Id ?? "",
        arn: c.Arn ?? "",
        state: c.State ?? "UNKNOWN",
        tags: c.Tags ?? {},
        inputIds: (c.InputAttachments ?? []).flatMap((a) => (a.InputId ? [a.InputId] : [])),
      });
  const inputs: Resources["inputs"][number][] = [];
  for await (const page of paginateListInputs(
    { client: medialive() },
    { MaxResults: 1000 },
    { abortSignal: signal },
  ))
    for (const i of page.Inputs ?? [])
      inputs.push({
        id: i.Id ?? "",
        state: i.State ?? "UNKNOWN",
        tags: i.Tags ?? {},
        attachedChannels: i.AttachedChannels ?? [],
      });
  const ivsChannels: Resources["ivsChannels"][number][] = [];
  for await (const page of paginateIvsChannels(
    { client: ivs() },
    { maxResults: 100 },
    { abortSignal: signal },
  ))
    for (const c of page.channels ?? []) ivsChannels.push({ arn: c.arn ?? "", tags: c.tags ?? {} });
  return { channels, inputs, ivsChannels };
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
