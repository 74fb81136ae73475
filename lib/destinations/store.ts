import { DeleteCommand, GetCommand, PutCommand, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "#lib/aws/clients.ts";
import { type Condition, type ConditionalUpdate, conditionalUpdate } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { TaskError, TaskErrors } from "#lib/errors.ts";
import { closeUsage } from "#lib/usage.ts";
import {
  DESTINATION_PARTITION,
  Destination,
  destinationKey,
  SOURCE_PARTITION,
  Source,
  sourceKey,
} from "./model.ts";

const strip = ({ pk: _pk, sk: _sk, ...doc }: Record<string, unknown>) => doc;

async function getItem(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  const res = await dynamo().send(
    new GetCommand({ TableName: config().TABLE_NAME, Key: key, ConsistentRead: true }),
  );
  return res.Item ? strip(res.Item) : undefined;
}

async function putNew(key: Record<string, string>, item: object): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: config().TABLE_NAME,
      Item: { ...key, ...item },
      ConditionExpression: "attribute_not_exists(pk)",
    }),
  );
}

async function listPartition(pk: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: dynamo() },
    {
      TableName: config().TABLE_NAME,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) for (const item of page.Items ?? []) out.push(strip(item));
  return out;
}

// ---------- sources ----------

export async function getSource(sourceId: string): Promise<Source | undefined> {
  const item = await getItem(sourceKey(sourceId));
  return item ? Source.parse(item) : undefined;
}
export const putNewSource = (source: Source) => putNew(sourceKey(source.sourceId), source);
export const listSources = async () => (await listPartition(SOURCE_PARTITION)).map((i) => Source.parse(i));
export async function updateSource(sourceId: string, update: ConditionalUpdate): Promise<Source | undefined> {
  const item = await conditionalUpdate(sourceKey(sourceId), update);
  return item ? Source.parse(item) : undefined;
}

/**
 * Opens the billed run of the source's flow at `at` (a destination started it, or found it
 * ACTIVE), unless one is open already: the second destination on a running flow changes nothing.
 */
export async function openFlowRun(sourceId: string, at: string): Promise<void> {
  const opened = await updateSource(sourceId, {
    set: { "flowUsage.activeSince": at },
    condition: {
      expression: "attribute_exists(#flowUsage) AND attribute_not_exists(#flowUsage.#activeSince)",
    },
  });
  if (opened) return;
  // A record written before flows were metered has no `flowUsage` map yet.
  await updateSource(sourceId, {
    set: { flowUsage: { activeSeconds: 0, activeSince: at } },
    condition: { expression: "attribute_not_exists(#flowUsage)" },
  });
}

/**
 * Closes the flow's open run at `at` (its last user stopped it): its seconds added and the run
 * kept for the cost report, on the condition that the run read is still the open one, so a
 * repeated close counts it once.
 */
export async function closeFlowRun(sourceId: string, at: Date): Promise<void> {
  const source = await getSource(sourceId);
  const since = source?.flowUsage.activeSince;
  if (!source || !since) return;
  const closed = closeUsage(
    {
      runs: source.flowUsage.runs,
      totalSeconds: source.flowUsage.activeSeconds,
      updatedAt: source.updatedAt,
    },
    since,
    at,
  );
  await updateSource(sourceId, {
    set: { "flowUsage.activeSeconds": closed.totalSeconds, "flowUsage.runs": closed.runs },
    remove: ["flowUsage.activeSince"],
    condition: { expression: "#flowUsage.#activeSince = :since", values: { ":since": since } },
  });
}

// ---------- destinations ----------

export async function getDestination(destinationId: string): Promise<Destination | undefined> {
  const item = await getItem(destinationKey(destinationId));
  return item ? Destination.parse(item) : undefined;
}
export const putNewDestination = (d: Destination) => putNew(destinationKey(d.destinationId), d);

/**
 * Destinations, optionally of one owner and/or one source. One partition, read with Query
 * (filtered here): fine for thousands of records; a per-owner index is the next step past that.
 */
export async function listDestinations(
  filter: { ownerUserId?: string; sourceId?: string } = {},
): Promise<Destination[]> {
  return (await listPartition(DESTINATION_PARTITION))
    .map((i) => Destination.parse(i))
    .filter(
      (d) =>
        (!filter.ownerUserId || d.ownerUserId === filter.ownerUserId) &&
        (!filter.sourceId || d.sourceId === filter.sourceId),
    );
}

export async function updateDestination(
  destinationId: string,
  update: ConditionalUpdate,
): Promise<Destination | undefined> {
  const item = await conditionalUpdate(destinationKey(destinationId), update);
  return item ? Destination.parse(item) : undefined;
}

/** Condition: this execution holds the destination (in `status`, when given). */
export const heldBy = (executionArn: string, status?: string): Condition => ({
  expression: `${status === undefined ? "" : "#status = :heldStatus AND "}#operation.#executionArn = :heldBy`,
  names: {
    ...(status === undefined ? {} : { "#status": "status" }),
    "#operation": "operation",
    "#executionArn": "executionArn",
  },
  values: { ...(status === undefined ? {} : { ":heldStatus": status }), ":heldBy": executionArn },
});

/**
 * The destination, as long as this execution holds it in one of `statuses`; else `DestinationBusy`
 * (another lifecycle took it over): what a task checks before acting for its execution.
 */
export async function getHeldDestination(
  destinationId: string,
  executionArn: string,
  statuses: readonly string[],
): Promise<Destination> {
  const d = await getDestination(destinationId);
  if (!d || !statuses.includes(d.status) || d.operation?.executionArn !== executionArn)
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${destinationId} is no longer held by this execution`,
    );
  return d;
}

/** A write only the holding execution may make; `DestinationBusy` if it no longer holds it. */
export async function updateHeldDestination(
  destinationId: string,
  executionArn: string,
  status: string,
  update: Omit<ConditionalUpdate, "condition">,
): Promise<Destination> {
  const saved = await updateDestination(destinationId, {
    ...update,
    condition: heldBy(executionArn, status),
  });
  if (!saved)
    throw new TaskError(
      TaskErrors.DestinationBusy,
      `Destination ${destinationId} is no longer held by this execution`,
    );
  return saved;
}

/** Deletes a source record (the caller checked that no destination uses it). */
export async function deleteSourceRecord(sourceId: string): Promise<void> {
  await dynamo().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: sourceKey(sourceId) }));
}

/**
 * After writing a destination on a source: the source is still `ready` (one conditional write), so
 * a source delete that marked it `deleting` either sees the new destination or makes this fail.
 */
export async function confirmSourceReady(sourceId: string): Promise<boolean> {
  const confirmed = await updateSource(sourceId, {
    condition: { expression: "#status = :ready", values: { ":ready": "ready" } },
  });
  return confirmed !== undefined;
}

/** Deletes a destination record that was never used (its add was refused after the write). */
export async function deleteDestinationRecord(destinationId: string): Promise<void> {
  await dynamo().send(
    new DeleteCommand({ TableName: config().TABLE_NAME, Key: destinationKey(destinationId) }),
  );
}
