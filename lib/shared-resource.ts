import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "./aws/clients.ts";
import { config } from "./config.ts";
import { TaskError, TaskErrors } from "./errors.ts";
import { logger } from "./logger.ts";

/**
 * An AWS resource every record shares, which AWS creates without an idempotency token (MediaLive's
 * input security group): kept to one by a DynamoDB record, its id once it exists and before that
 * a creation lease exactly one execution wins.
 */
export interface SharedResource {
  /** The record's key, e.g. `{ pk: "CONFIG", sk: "INPUT_SECURITY_GROUP#session-ingest" }`. */
  readonly key: { readonly pk: string; readonly sk: string };
  /** For messages: "the shared input security group". */
  readonly what: string;
  /** Whether the resource with this id still exists. */
  exists(id: string): Promise<boolean>;
  /** The resource, found by tag (a creator that died after creating it); undefined when none. */
  find(): Promise<string | undefined>;
  /** Creates it (tagged, so `find` sees it) and returns its id. */
  create(): Promise<string>;
}

/**
 * The shared resource's id, created by this `owner` when nobody has. The lease is taken on
 * exactly the record that was read (none, a recorded resource that is gone, an expired lease, or
 * this owner's own), so of owners that read the same record one wins; the others fail with
 * `SharedResourcePending`, which the state retries, and find the resource when they come back.
 * A winner that died is succeeded after SHARED_RESOURCE_LEASE_SECONDS, and what it may have
 * created is found by tag before anything is created again.
 */
export function ensureSharedResource(resource: SharedResource, owner: string): Promise<string> {
  return resolve(resource, owner, false);
}

/**
 * Runs `use` with the shared resource's id, the recorded one taken on trust: no call to AWS about
 * the resource on the usual path. When AWS refuses `use` (`refused`), perhaps because the resource
 * was deleted by hand, the resource is checked as `ensureSharedResource` does (made again when
 * gone) and `use` runs once more with the new id; a resource that still exists means the refusal
 * was `use`'s own, and it is thrown.
 */
export async function withSharedResource<T>(
  resource: SharedResource,
  owner: string,
  use: (id: string) => Promise<T>,
  refused: (err: unknown) => boolean,
): Promise<{ readonly id: string; readonly result: T }> {
  const trusted = await resolve(resource, owner, true);
  try {
    return { id: trusted, result: await use(trusted) };
  } catch (err) {
    if (!refused(err)) throw err;
    const checked = await resolve(resource, owner, false);
    if (checked === trusted) throw err;
    logger.warn(`The recorded ${resource.what} was gone; using a new one`, { id: checked });
    return { id: checked, result: await use(checked) };
  }
}

async function resolve(resource: SharedResource, owner: string, trustRecorded: boolean): Promise<string> {
  const table = config().TABLE_NAME;
  const record = (
    await dynamo().send(new GetCommand({ TableName: table, Key: resource.key, ConsistentRead: true }))
  ).Item;
  if (typeof record?.id === "string" && (trustRecorded || (await resource.exists(record.id))))
    return record.id;
  const record_ = async (id: string) => {
    await dynamo().send(
      new PutCommand({
        TableName: table,
        Item: { ...resource.key, id, updatedAt: new Date().toISOString() },
      }),
    );
    return id;
  };
  const found = await resource.find();
  if (found) return await record_(found);

  const now = Date.now();
  const pending = () =>
    new TaskError(
      TaskErrors.SharedResourcePending,
      `Another execution is creating ${resource.what}; trying again shortly`,
    );
  let condition: { expression: string; values?: Record<string, unknown> };
  if (!record) condition = { expression: "attribute_not_exists(pk)" };
  else if (typeof record.id === "string")
    condition = { expression: "id = :seen", values: { ":seen": record.id } };
  else if (record.creator === owner) condition = { expression: "creator = :me", values: { ":me": owner } };
  else if (typeof record.leaseUntil === "number" && record.leaseUntil < now)
    condition = { expression: "leaseUntil = :seen", values: { ":seen": record.leaseUntil } };
  else throw pending();
  try {
    await dynamo().send(
      new PutCommand({
        TableName: table,
        Item: {
          ...resource.key,
          creator: owner,
          leaseUntil: now + config().SHARED_RESOURCE_LEASE_SECONDS * 1000,
        },
        ConditionExpression: condition.expression,
        ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw pending();
    throw err;
  }
  return await record_(await resource.create());
}
