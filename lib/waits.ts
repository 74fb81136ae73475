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
}

/** ChannelCreated: 3 s x 5 in the SDK; castflow allows 2 minutes, creation is rarely instant. */
export const WAIT_CHANNEL_IDLE: WaitSpec = {
  title: "Wait For Channel Idle",
  success: ["IDLE"],
  pending: ["CREATING", "UPDATING"],
  delaySeconds: 3,
  maxPolls: 40,
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
};

/** ChannelStopped: 5 s x 60 (5 min); castflow allows 7.5 minutes. */
export const WAIT_CHANNEL_STOPPED: WaitSpec = {
  title: "Wait For Channel Stopped",
  success: ["IDLE", "DELETED"],
  pending: ["STOPPING", "STARTING", "RUNNING", "RECOVERING"],
  delaySeconds: 5,
  maxPolls: 90,
};

/** InputDetached: 5 s x 84 (7 min). */
export const WAIT_INPUT_DETACHED: WaitSpec = {
  title: "Wait For Input Detached",
  success: ["DETACHED", "DELETED"],
  pending: ["CREATING", "ATTACHED", "DELETING"],
  delaySeconds: 5,
  maxPolls: 84,
};

/** Step Functions budget for a whole go-live, so a stuck execution cannot run for a year. */
export const GO_LIVE_TIMEOUT_MINUTES = 45;
export const STOP_STREAMING_TIMEOUT_MINUTES = 30;
