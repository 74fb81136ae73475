import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "./aws/clients.ts";
import { config } from "./config.ts";
import { TaskError, TaskErrors } from "./errors.ts";

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
export async function ensureSharedResource(
  resource: SharedResource,
  owner: string,
  options: {
    /**
     * Take a recorded id without asking AWS whether it still exists: for a caller whose next call
     * fails anyway when it does not, and which then asks again without this (one call fewer on
     * the usual path).
     */
    readonly trustRecorded?: boolean;
  } = {},
): Promise<string> {
  const table = config().TABLE_NAME;
  const record = (
    await dynamo().send(new GetCommand({ TableName: table, Key: resource.key, ConsistentRead: true }))
  ).Item;
  if (typeof record?.id === "string" && (options.trustRecorded || (await resource.exists(record.id))))
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
