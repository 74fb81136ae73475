import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "./aws/clients.ts";
import { config } from "./config.ts";

/**
 * A condition on the current item. `#name` placeholders stand for the attribute of the same name
 * unless `names` maps them otherwise; `:value` placeholders come from `values`.
 */
export interface Condition {
  readonly expression: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

export interface ConditionalUpdate {
  /** Dotted attribute paths (e.g. "streaming.status") to set; undefined values are skipped. */
  readonly set?: Record<string, unknown>;
  /** Dotted attribute paths to remove. */
  readonly remove?: readonly string[];
  readonly condition?: Condition;
}

/**
 * The one conditional update every castflow record goes through: sets `updatedAt`, adds one to
 * the record's `version` (its optimistic lock: a read-modify-write conditions on the version it
 * read, see `atVersion`), requires the item to exist and the condition to hold, and returns the
 * new item (key attributes stripped), or undefined when the item is missing or the condition
 * failed; the caller decides what that means.
 */
export async function conditionalUpdate(
  key: Record<string, string>,
  update: ConditionalUpdate,
): Promise<Record<string, unknown> | undefined> {
  const names: Record<string, string> = {};
  for (const token of update.condition?.expression.match(/#[A-Za-z0-9_]+/g) ?? [])
    names[token] = token.slice(1);
  Object.assign(names, update.condition?.names);
  const values: Record<string, unknown> = { ...update.condition?.values };
  const pathExpr = (path: string) =>
    path
      .split(".")
      .map((part) => {
        const placeholder = `#${part.replace(/[^A-Za-z0-9_]/g, "_")}`;
        names[placeholder] = part;
        return placeholder;
      })
      .join(".");
  const sets: string[] = [];
  for (const [path, value] of Object.entries({ ...update.set, updatedAt: new Date().toISOString() })) {
    if (value === undefined) continue;
    const placeholder = `:v${sets.length}`;
    values[placeholder] = value;
    sets.push(`${pathExpr(path)} = ${placeholder}`);
  }
  names["#version"] = "version";
  values[":zero"] = 0;
  values[":one"] = 1;
  sets.push("#version = if_not_exists(#version, :zero) + :one");
  const removes = (update.remove ?? []).map(pathExpr);
  try {
    const res = await dynamo().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: key,
        UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
        ConditionExpression: update.condition
          ? `attribute_exists(pk) AND ${grouped(update.condition.expression)}`
          : "attribute_exists(pk)",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    const { pk: _pk, sk: _sk, ...item } = res.Attributes ?? {};
    return item;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/**
 * `expression` as one operand of an AND: in parentheses when it has an OR outside any (AND binds
 * tighter, so `a OR b` would let an update create an item that does not exist), and as it is
 * otherwise, since DynamoDB refuses redundant parentheses.
 */
export function grouped(expression: string): string {
  let depth = 0;
  let topLevelOr = false;
  const tokens = expression.split(/(\(|\)|\bOR\b)/i);
  for (const t of tokens) {
    if (t === "(") depth++;
    else if (t === ")") depth--;
    else if (/^OR$/i.test(t) && depth === 0) topLevelOr = true;
  }
  return topLevelOr ? `(${expression})` : expression;
}

/**
 * Condition: the record is still at the version that was read (records written before versions
 * existed count as version 0). Two writers that read the same version cannot both succeed,
 * however close in time they write.
 */
export function atVersion(version: number): Condition {
  return {
    expression:
      version === 0 ? "attribute_not_exists(#version) OR #version = :readVersion" : "#version = :readVersion",
    names: { "#version": "version" },
    values: { ":readVersion": version },
  };
}

/** Both conditions. */
export function allOf(...conditions: Condition[]): Condition {
  return {
    expression: conditions.map((c) => `(${c.expression})`).join(" AND "),
    names: Object.assign({}, ...conditions.map((c) => c.names ?? {})),
    values: Object.assign({}, ...conditions.map((c) => c.values ?? {})),
  };
}
