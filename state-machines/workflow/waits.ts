/**
 * Waiter budgets for MediaLive states, from the AWS SDK waiter models (aws-facts.md), with the
 * failure states the SDK's waiters lack. A waiter gives up with `ChannelWaitTimeout` after
 * `maxPolls` polls, `delaySeconds` apart.
 */
export interface WaitSpec {
  /** State-machine title, shown in the console (e.g. "Wait For Channel Running"). */
  readonly title: string;
  readonly success: readonly string[];
  /** States in which to keep polling; anything else fails the waiter with `ChannelFailed`. */
  readonly pending: readonly string[];
  readonly delaySeconds: number;
  readonly maxPolls: number;
  /**
   * The resource's state-change events end this wait (wait-for-state.ts, event mode): each round
   * registers the wait and describes once, then waits for an event at most `fallbackSeconds`
   * before the next round describes again. The budget stays `delaySeconds x maxPolls`. Each
   * fallback is above the change's usual duration (aws-facts.md), so a round ends on its event,
   * and a lost event costs at most one fallback. Absent: AWS sends no event for the awaited
   * change, so the wait polls.
   */
  readonly events?: {
    readonly fallbackSeconds: number;
    /** States an event does not end a round in (default: `pending`). */
    readonly keepWaitingIn?: readonly string[];
    /**
     * An event only starts another round, whose task decides (default: a success state an event
     * reports ends the wait). For what the events cannot tell: a flow ACTIVE that its last user
     * is stopping is not ready (await-flow-active).
     */
    readonly recheck?: boolean;
    /**
     * Pending states the resource leaves without an event (MediaLive's UPDATING "is not in
     * CloudWatch events"): a round that sees one ends at once, and the next describes after
     * `delaySeconds` (a poll) instead of waiting out `fallbackSeconds` for an event.
     */
    readonly silent?: readonly string[];
  };
}

/**
 * `castflow:waits` (cdk.json context, `-c castflow:waits=polling`): `events` (the default) ends
 * the waits that declare `events` on the resources' state-change events; `polling` makes every
 * wait poll, as castflow did before (the bench runs both side by side).
 */
export const WAIT_MODES = ["events", "polling"] as const;
export type WaitMode = (typeof WAIT_MODES)[number];

/** `raw` as a wait mode, or an error naming the modes (cdk.json's context, `npm start -- --waits`). */
export function parseWaitMode(raw: unknown, where: string): WaitMode {
  if (WAIT_MODES.includes(raw as WaitMode)) return raw as WaitMode;
  throw new Error(`${where} must be one of ${WAIT_MODES.join(", ")} (got ${JSON.stringify(raw)})`);
}

/**
 * Before the start: wait until the channel can be started or already runs. ChannelCreated is
 * 3 s x 5 in the SDK; castflow allows 2 minutes. A reused channel may be in any state: one still
 * STOPPING (a stop whose wait gave up) is waited for; one already STARTING or RUNNING (a go-live
 * that died after its start) goes on, and Start Channel leaves it as it is.
 */
export const WAIT_CHANNEL_READY: WaitSpec = {
  title: "Wait For Channel Ready",
  success: ["IDLE", "STARTING", "RUNNING", "RECOVERING"],
  pending: ["CREATING", "UPDATING", "STOPPING"],
  delaySeconds: 3,
  maxPolls: 40,
  // CREATED and STOPPED events end it; UPDATING ends without one, so it is polled.
  events: { fallbackSeconds: 30, silent: ["UPDATING"] },
};

/**
 * ChannelRunning: 5 s x 120 (10 min) in the SDK. castflow waits 12.5 minutes; IDLE after an
 * accepted start means the start failed, so it is not a pending state.
 */
export const WAIT_CHANNEL_RUNNING: WaitSpec = {
  title: "Wait For Channel Running",
  success: ["RUNNING"],
  pending: ["STARTING", "RECOVERING"],
  delaySeconds: 5,
  maxPolls: 150,
  events: { fallbackSeconds: 120 },
};

/**
 * ChannelStopped: 5 s x 60 (5 min); castflow allows 7.5 minutes. A channel that failed to be
 * created or updated is not running either: it counts as stopped, so the teardown can delete it.
 */
export const WAIT_CHANNEL_STOPPED: WaitSpec = {
  title: "Wait For Channel Stopped",
  // DELETING: an earlier teardown already deleted it (the re-run of a partly failed end).
  success: ["IDLE", "DELETED", "DELETING", "CREATE_FAILED", "UPDATE_FAILED"],
  pending: ["STOPPING", "STARTING", "RUNNING", "RECOVERING"],
  delaySeconds: 5,
  maxPolls: 90,
  events: { fallbackSeconds: 60 },
};

/**
 * A deleted channel gone (event mode only: its DELETED event tells the teardown when its input
 * can detach). ChannelDeleted: 5 s x 84 (7 min) in the SDK.
 */
export const WAIT_CHANNEL_DELETED: WaitSpec = {
  title: "Wait For Channel Deleted",
  success: ["DELETED"],
  pending: ["DELETING"],
  delaySeconds: 5,
  maxPolls: 84,
  events: { fallbackSeconds: 60 },
};

/** InputDetached: 5 s x 84 (7 min). */
export const WAIT_INPUT_DETACHED: WaitSpec = {
  title: "Wait For Input Detached",
  success: ["DETACHED", "DELETED"],
  pending: ["CREATING", "ATTACHED", "DELETING"],
  delaySeconds: 5,
  maxPolls: 84,
};

/** A shared channel's RTMP_PUSH input, detached from the channel before it is deleted. */
export const WAIT_PUSH_INPUT_DETACHED: WaitSpec = {
  ...WAIT_INPUT_DETACHED,
  title: "Wait For Push Input Detached",
};

/**
 * A channel after UpdateChannel (its settings or inputs written): UPDATING until IDLE again,
 * with WAIT_CHANNEL_READY's budget. Only IDLE will do: the next step starts or leaves it.
 */
export const WAIT_CHANNEL_UPDATED: WaitSpec = {
  title: "Wait For Channel Updated",
  success: ["IDLE"],
  pending: WAIT_CHANNEL_READY.pending,
  delaySeconds: WAIT_CHANNEL_READY.delaySeconds,
  maxPolls: WAIT_CHANNEL_READY.maxPolls,
  // No events: MediaLive sends none when an update ends (UPDATING "is not in CloudWatch events").
};

/** A shared channel written by shared-channel-apply (created or updated): as WAIT_CHANNEL_UPDATED. */
export const WAIT_CHANNEL_WRITTEN: WaitSpec = { ...WAIT_CHANNEL_UPDATED, title: "Wait For Channel Written" };

/**
 * FlowActive: 3 s x 40 in the SDK. Each poll starts a STANDBY flow (await-flow-active), so
 * STANDBY is pending too; STOPPING is another destination's stop finishing first.
 */
export const WAIT_FLOW_ACTIVE: WaitSpec = {
  title: "Wait For Flow Active",
  success: ["ACTIVE"],
  pending: ["STANDBY", "STARTING", "STOPPING", "UPDATING"],
  delaySeconds: 3,
  maxPolls: 60,
  // A STANDBY event (another destination's stop finished) ends the round: the next one starts it.
  events: { fallbackSeconds: 30, keepWaitingIn: ["STARTING", "STOPPING", "UPDATING"], recheck: true },
};

/**
 * Step Functions budgets, so a stuck execution cannot run for a year. Each is above the sum of
 * the worst-case waits and retries on its path (go-live: start retries ~10 min, RUNNING 12.5 min,
 * then a compensation of stop ~10, stopped 7.5, delete ~10, detached 7, delete input ~10), so an
 * execution is not cut off in the middle of its own clean-up.
 */
export const GO_LIVE_TIMEOUT_MINUTES = 120;
export const STOP_STREAMING_TIMEOUT_MINUTES = 30;
/** end-session: waiting for a go-live to settle (up to its whole timeout) plus the teardown. */
export const END_SESSION_TIMEOUT_MINUTES = GO_LIVE_TIMEOUT_MINUTES + 120;
/** Destination lifecycles: like go-live, a bring-up plus a full teardown at worst. */
export const DESTINATION_TIMEOUT_MINUTES = 120;
/**
 * shared-channel-apply: a few passes of a destination lifecycle's worst case (a restart and a
 * teardown each): an apply plans again while changes keep arriving (SHARED_APPLY_MAX_PASSES).
 */
export const SHARED_APPLY_TIMEOUT_MINUTES = DESTINATION_TIMEOUT_MINUTES * 3;
