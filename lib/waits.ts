import { createHash } from "node:crypto";
import { SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo, sfn } from "#lib/aws/clients.ts";
import { config } from "#lib/config.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import { WAIT_KEY_PREFIX } from "#lib/wait-keys.ts";

/**
 * Waits that end on AWS's events instead of polls. A wait state (`.waitForTaskToken`) invokes a
 * task that registers its task token under the resource it waits on, then describes the resource
 * once: a state already settled completes the wait at once (an event sent before the token was
 * stored is not lost). Otherwise the resource's next state-change event completes it, through
 * `wakeWaiters`. Events are best effort (aws-facts.md: late, lost, duplicated, out of order), so:
 * - every wait state has a TimeoutSeconds: when no event came, the state machine registers again,
 *   which describes again (the fallback poll);
 * - a registration records the states to keep waiting in, and only a state outside them wakes it;
 * - an event older than the registration is ignored (it reports a transition before the action
 *   the wait follows; the registration's own describe already saw anything after it);
 * - a second SendTaskSuccess on a token (a duplicate event, or an event racing the describe) is
 *   refused by Step Functions and ignored here.
 *
 * Registrations are items of castflow's table under `WAIT_KEY_PREFIX` partitions, the only items
 * the `waits` table access reaches, and expire on their own (`expiresAt`).
 */
/** What a wait is on: a MediaLive channel (by id) or a MediaConnect flow (by ARN). */
export type WaitedKind = "channel" | "flow";

/**
 * The kinds whose latest event is kept for a wait that starts from a state seen earlier
 * (`awaitState`'s `known`): only channels (go-live's Ready wait, after Ensure Channel). A flow's
 * wait always describes, so keeping its events would be a write per event for no reader.
 */
const KEEPS_LATEST_EVENT: Readonly<Record<WaitedKind, boolean>> = { channel: true, flow: false };

/** A registration left behind (its execution ended another way) goes after this long. */
const RETENTION_SECONDS = 24 * 3600;

/** What completes a wait: the resource's state, and whether a describe or an event said so. */
export interface Observation {
  readonly state: string;
  /** `known`: what the step before the wait saw (no describe, no event since). */
  readonly via: "describe" | "event" | "known";
}

export interface WaitRegistration {
  readonly kind: WaitedKind;
  readonly id: string;
  readonly token: string;
  /** States in which the wait goes on: an event in one of them does not wake it. */
  readonly pending: readonly string[];
}

const partition = (kind: WaitedKind, id: string) => `${WAIT_KEY_PREFIX}${kind}#${id}`;
/** A channel's latest event, beside its registrations (token digests never start with "~"). */
const LAST_EVENT = "~last";
/** Task tokens are long (up to 2,048 characters): the sort key is their digest. */
const tokenKey = (token: string) => createHash("sha256").update(token).digest("base64url");

/**
 * Stores the registration. `since` is what events are compared with (see `isFresh`): now, or,
 * when the wait starts from a state seen earlier (`awaitState`'s `known`), when it was seen.
 */
async function registerWait(reg: WaitRegistration, since = new Date()): Promise<void> {
  const now = new Date();
  await dynamo().send(
    new PutCommand({
      TableName: config().TABLE_NAME,
      Item: {
        pk: partition(reg.kind, reg.id),
        sk: tokenKey(reg.token),
        token: reg.token,
        pending: [...reg.pending],
        registeredAt: since.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + RETENTION_SECONDS,
      },
    }),
  );
}

async function forgetWait(kind: WaitedKind, id: string, token: string): Promise<void> {
  await dynamo().send(
    new DeleteCommand({
      TableName: config().TABLE_NAME,
      Key: { pk: partition(kind, id), sk: tokenKey(token) },
    }),
  );
}

/** Step Functions' answers to a SendTask* call whose task no longer waits. */
const GONE = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/**
 * Completes the wait behind `token` with `observation` and forgets its registration. "gone": the
 * task no longer waited (it timed out, another event or its own describe came first, its
 * execution ended): nothing to do.
 */
export async function completeWait(
  reg: Pick<WaitRegistration, "kind" | "id" | "token">,
  observation: Observation,
): Promise<"delivered" | "gone"> {
  let outcome: "delivered" | "gone" = "delivered";
  try {
    await sfn().send(
      new SendTaskSuccessCommand({ taskToken: reg.token, output: JSON.stringify(observation) }),
    );
  } catch (err) {
    if (!GONE.has(errorName(err))) throw err;
    outcome = "gone";
  }
  try {
    await forgetWait(reg.kind, reg.id, reg.token);
  } catch (err) {
    // Delivered all the same; the registration expires on its own.
    logger.warn("Could not forget a completed wait", { kind: reg.kind, id: reg.id, error: errorName(err) });
  }
  return outcome;
}

/**
 * Whether an event sent at `eventTime` may report a change after a registration made at
 * `registeredAt`. EventBridge's times are whole seconds, so the registration's second counts as
 * after it; a time with milliseconds (the local runtime's, which runs faster than AWS) is
 * compared as it is. An unreadable time is not trusted: the fallback describe will see the truth.
 */
export function isFresh(eventTime: string, registeredAt: string): boolean {
  const at = Date.parse(eventTime);
  const since = Date.parse(registeredAt);
  if (Number.isNaN(at) || Number.isNaN(since)) return false;
  const wholeSeconds = !/\.\d+Z$/.test(eventTime);
  return at >= (wholeSeconds ? Math.floor(since / 1000) * 1000 : since);
}

export interface WakeResult {
  /** Waits completed by this event. */
  readonly woken: number;
  /** Registrations the event was too old for, or whose wait goes on in `state`. */
  readonly skipped: number;
  /** Registrations whose wait had already ended another way. */
  readonly gone: number;
}

/**
 * Keeps the resource's latest event (by its time), so a wait registered just after it can still
 * see it (`awaitState` with `known`). An older event than the one kept changes nothing.
 */
async function recordLastEvent(
  kind: WaitedKind,
  id: string,
  state: string,
  eventTime: string,
): Promise<void> {
  const at = Date.parse(eventTime);
  if (Number.isNaN(at)) return;
  try {
    await dynamo().send(
      new PutCommand({
        TableName: config().TABLE_NAME,
        Item: {
          pk: partition(kind, id),
          sk: LAST_EVENT,
          state,
          eventTime,
          at,
          expiresAt: Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
        },
        ConditionExpression: "attribute_not_exists(pk) OR #at < :at",
        ExpressionAttributeNames: { "#at": "at" },
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  } catch (err) {
    if (errorName(err) !== "ConditionalCheckFailedException") throw err;
  }
}

/** An event said the resource is now in `state` (DescribeChannel's vocabulary): wake its waits. */
export async function wakeWaiters(
  kind: WaitedKind,
  id: string,
  state: string,
  eventTime: string,
): Promise<WakeResult> {
  // Kept before the registrations are read: a registration stored meanwhile reads it (awaitState).
  if (KEEPS_LATEST_EVENT[kind]) await recordLastEvent(kind, id, state, eventTime);
  let woken = 0;
  let skipped = 0;
  let gone = 0;
  let failed: unknown;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": partition(kind, id) },
        // A registration stored just before the event must be seen.
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.sk === LAST_EVENT) continue;
      const token = String(item.token);
      const pending = (item.pending as string[] | undefined) ?? [];
      if (!isFresh(eventTime, String(item.registeredAt)) || pending.includes(state)) {
        skipped++;
        continue;
      }
      try {
        const outcome = await completeWait({ kind, id, token }, { state, via: "event" });
        if (outcome === "delivered") woken++;
        else gone++;
      } catch (err) {
        // The others are still woken; the event is retried for this one (Lambda's async retry).
        failed ??= err;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  if (woken + gone > 0) logger.info("Woke waits", { kind, id, state, woken, gone, skipped });
  if (failed !== undefined) throw failed;
  return { woken, skipped, gone };
}

/** What the step before a wait saw, and when it began to look (see `awaitState`). */
export interface KnownState {
  readonly state: string;
  readonly at: string;
}

/**
 * Registers a wait, then learns the resource's state: from `observe` (one describe), or, when
 * the step before the wait just saw it (`known`), from that and the resource's latest event since
 * then, with no describe. A state outside `pending` completes the wait now. Returns what it saw.
 */
export async function awaitState(
  reg: WaitRegistration,
  observe: () => Promise<string>,
  known?: KnownState,
): Promise<{ readonly state: string; readonly settled: boolean }> {
  if (known && !KEEPS_LATEST_EVENT[reg.kind])
    throw new Error(`A ${reg.kind} wait cannot start from a known state: its latest event is not kept`);
  // Events after what `known` saw count, not only those after this registration: one between
  // the two is either kept as the latest event (read below) or finds this registration.
  await registerWait(reg, known ? new Date(known.at) : undefined);
  let state: string;
  let via: Observation["via"] = "describe";
  if (known) {
    const last = await dynamo().send(
      new GetCommand({
        TableName: config().TABLE_NAME,
        Key: { pk: partition(reg.kind, reg.id), sk: LAST_EVENT },
        ConsistentRead: true,
      }),
    );
    const event = last.Item;
    const fresh = event !== undefined && isFresh(String(event.eventTime), known.at);
    state = fresh ? String(event.state) : known.state;
    via = fresh ? "event" : "known";
  } else {
    state = await observe();
  }
  if (reg.pending.includes(state)) return { state, settled: false };
  await completeWait(reg, { state, via });
  return { state, settled: true };
}
