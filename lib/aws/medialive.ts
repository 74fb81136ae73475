import {
  type ChannelAlert,
  type ChannelSummary,
  DescribeChannelCommand,
  DescribeInputCommand,
  type Input,
  type InputSecurityGroup,
  paginateListAlerts,
  paginateListChannels,
  paginateListInputSecurityGroups,
  paginateListInputs,
} from "@aws-sdk/client-medialive";
import { errorMessage, errorName, isNotFound, TaskError, TaskErrors } from "#lib/errors.ts";
import { medialive } from "./clients.ts";

/** States in which a channel or input is on its way out and must not be reused. */
const GONE = new Set(["DELETING", "DELETED"]);

const hasTags = (tags: Record<string, string> | undefined, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([k, v]) => tags?.[k] === v);

/** Live channels carrying all the given tags (ListChannels pages include tags). */
export async function findChannelsByTags(
  tags: Record<string, string>,
  signal?: AbortSignal,
): Promise<ChannelSummary[]> {
  const found: ChannelSummary[] = [];
  for await (const page of paginateListChannels({ client: medialive() }, {}, { abortSignal: signal })) {
    for (const ch of page.Channels ?? []) {
      if (!GONE.has(ch.State ?? "") && hasTags(ch.Tags, tags)) found.push(ch);
    }
  }
  return found;
}

export async function findInputsByTags(tags: Record<string, string>, signal?: AbortSignal): Promise<Input[]> {
  const found: Input[] = [];
  for await (const page of paginateListInputs({ client: medialive() }, {}, { abortSignal: signal })) {
    for (const input of page.Inputs ?? []) {
      if (!GONE.has(input.State ?? "") && hasTags(input.Tags, tags)) found.push(input);
    }
  }
  return found;
}

export async function findInputSecurityGroupsByTags(
  tags: Record<string, string>,
  signal?: AbortSignal,
): Promise<InputSecurityGroup[]> {
  const found: InputSecurityGroup[] = [];
  const pages = paginateListInputSecurityGroups({ client: medialive() }, {}, { abortSignal: signal });
  for await (const page of pages) {
    for (const sg of page.InputSecurityGroups ?? []) {
      if (!GONE.has(sg.State ?? "") && hasTags(sg.Tags, tags)) found.push(sg);
    }
  }
  return found;
}

/** The channel's state (or "DELETED" when MediaLive no longer knows it) and its tags. */
export async function channelStateAndTags(
  channelId: string,
  signal?: AbortSignal,
): Promise<{ state: string; tags: Record<string, string>; channelClass?: string }> {
  try {
    const res = await medialive().send(new DescribeChannelCommand({ ChannelId: channelId }), {
      abortSignal: signal,
    });
    return {
      state: res.State ?? "UNKNOWN",
      tags: res.Tags ?? {},
      ...(res.ChannelClass ? { channelClass: res.ChannelClass } : {}),
    };
  } catch (err) {
    if (isNotFound(err)) return { state: "DELETED", tags: {} };
    throw err;
  }
}

/** The channel's state, or "DELETED" when MediaLive no longer knows it. */
export async function channelState(channelId: string, signal?: AbortSignal): Promise<string> {
  return (await channelStateAndTags(channelId, signal)).state;
}

/**
 * DescribeChannel's state for the `state` of a "MediaLive Channel State Change" event, whose
 * vocabulary differs (aws-facts.md): CREATED and STOPPED are an IDLE channel; the others
 * (STARTING, RUNNING, STOPPING, DELETING, DELETED, RECOVERING...) read the same.
 */
export function channelStateOfEvent(eventState: string): string {
  return eventState === "CREATED" || eventState === "STOPPED" ? "IDLE" : eventState;
}

/** The input's state, or "DELETED" when MediaLive no longer knows it. */
export async function inputState(inputId: string, signal?: AbortSignal): Promise<string> {
  try {
    const res = await medialive().send(new DescribeInputCommand({ InputId: inputId }), {
      abortSignal: signal,
    });
    return res.State ?? "UNKNOWN";
  } catch (err) {
    if (isNotFound(err)) return "DELETED";
    throw err;
  }
}

/**
 * Why no channel can be created on an input in `state` right now, or undefined (DETACHED): the
 * input is still being created, or still attached to a channel being deleted (`InputNotReady`,
 * retried soon by the state), or it is gone (`gone`'s error: not retried, nothing to wait for).
 */
export function inputNotAttachable(
  inputId: string,
  state: string,
  gone: (message: string) => TaskError,
): TaskError | undefined {
  if (state === "DETACHED") return undefined;
  if (GONE.has(state)) return gone(`Input ${inputId} is ${state}`);
  return new TaskError(TaskErrors.InputNotReady, `Input ${inputId} is ${state}, not DETACHED yet`);
}

/** The input, or undefined when it is gone (deleted or being deleted). */
export async function liveInput(inputId: string, signal?: AbortSignal): Promise<Input | undefined> {
  try {
    const res = await medialive().send(new DescribeInputCommand({ InputId: inputId }), {
      abortSignal: signal,
    });
    if (GONE.has(res.State ?? "")) return undefined;
    return res;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export const isGone = (state: string | undefined) => GONE.has(state ?? "");

/**
 * MediaLive refusing a start, stop or delete that the resource's state may explain:
 * ConflictException (409, what the simulator and most reports show) or BadRequestException (400:
 * a channel started while still being created is refused with a 400, as openfun/marsha#796
 * reports; an input still attached, likewise). The caller describes the resource to tell
 * "already done" or "not yet" from a request that is simply wrong.
 */
export function isStateRefusal(err: unknown): boolean {
  const name = errorName(err);
  return name === "ConflictException" || name === "BadRequestException";
}

/**
 * A MediaLive create refused because an account quota is reached. MediaLive declares no
 * quota-specific error: a breach most likely arrives as TooManyRequestsException (429), the name
 * it shares with throttling (*unverified*: no public source quotes a real breach; see
 * local/simulator/medialive/errors.ts). Told apart by a message that names a quota, it becomes
 * `QuotaExceeded`, which no state retries: castflow says plainly that the quota is reached
 * instead of retrying a throttle for minutes. Anything else is returned as it was.
 */
export function asQuotaError(err: unknown, what: string): unknown {
  if (errorName(err) !== "TooManyRequestsException" || !/quota/i.test(errorMessage(err))) return err;
  return new TaskError(
    TaskErrors.QuotaExceeded,
    `MediaLive refused to create ${what}: the account's quota is reached. Delete unused MediaLive resources or request a quota increase.`,
  );
}

/** MediaLive channels that exist now (any state but DELETING/DELETED), for quota checks before a create. */
export async function liveChannelCount(signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const page of paginateListChannels({ client: medialive() }, {}, { abortSignal: signal }))
    n += (page.Channels ?? []).filter((c) => !GONE.has(c.State ?? "")).length;
  return n;
}

/** A channel's alerts as ListAlerts gives them (one call per page; a channel has a handful), SET ones only if asked. */
export async function listChannelAlerts(
  channelId: string,
  stateFilter?: "SET" | "CLEARED",
  signal?: AbortSignal,
): Promise<ChannelAlert[]> {
  const all: ChannelAlert[] = [];
  const pages = paginateListAlerts(
    { client: medialive() },
    { ChannelId: channelId, ...(stateFilter ? { StateFilter: stateFilter } : {}) },
    { abortSignal: signal },
  );
  for await (const page of pages) all.push(...(page.Alerts ?? []));
  return all;
}
