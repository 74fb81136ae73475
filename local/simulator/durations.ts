/**
 * Base durations (seconds, before `timeScale`) of the simulated asynchronous transitions.
 *
 * Sources: /work/shared/aws-facts.md (botocore MediaLive waiter budgets: ChannelCreated 15 s,
 * ChannelRunning 10 min, ChannelStopped 5 min, ChannelDeleted 7 min, InputDetached 7 min,
 * InputDeleted 100 s; user guide: "most channels start in 3 minutes or less"). The values below
 * sit well inside those budgets, at what a typical small channel does, so a waiter written for
 * real AWS behaves the same against the simulator (only faster with a small timeScale).
 */
export const BASE_SECONDS = {
  /** CREATING -> IDLE (ChannelCreated waiter: 3 s x 5). */
  channelCreate: 10,
  /** STARTING -> RUNNING (ChannelRunning waiter: 5 s x 120; typical start 1-3 min). */
  channelStart: 75,
  /** STOPPING -> IDLE (ChannelStopped waiter: 5 s x 60). */
  channelStop: 30,
  /** UPDATING -> IDLE after an UpdateChannel on an idle channel: brief. */
  channelUpdate: 3,
  /** DELETING -> DELETED (ChannelDeleted waiter: 5 s x 84). */
  channelDelete: 20,
  /** CREATING -> DETACHED for a new input (InputDetached waiter keeps waiting on CREATING). */
  inputCreate: 2,
  /** ATTACHED -> DETACHED once the channel using the input is DELETED. */
  inputDetach: 5,
  /** DELETING -> DELETED for an input (InputDeleted waiter: 5 s x 20). */
  inputDelete: 4,
  /**
   * How long a DELETED channel/input stays describable before it answers 404. AWS does not
   * document this (unverified); it must exceed a waiter's 5 s poll so ChannelDeleted/InputDeleted
   * can observe DELETED.
   */
  deletedRetention: 600,
  /** An encoder whose IVS stream was stopped with StopStream reconnects after this (aws-facts: "encoders often reconnect"). */
  ivsEncoderReconnect: 10,
  /**
   * MediaConnect (aws-facts.md, botocore mediaconnect 2018-11-14 waiters FlowActive / FlowStandby /
   * FlowDeleted: 3 s x 40 each). Values are ours, well inside those budgets (unverified).
   * STARTING -> ACTIVE.
   */
  flowStart: 20,
  /** STOPPING -> STANDBY. */
  flowStop: 10,
  /** DELETING -> gone (DescribeFlow answers 404 NotFoundException). */
  flowDelete: 5,
  /** RemoveFlowOutput (202, asynchronous): the output disappears after this. */
  flowOutputRemove: 2,
  /** RemoveFlowSource (202, asynchronous): the source disappears after this (value ours, unverified). */
  flowSourceRemove: 2,
} as const;

export type TransitionName = keyof typeof BASE_SECONDS;

/** Per-transition base durations (seconds) that replace the defaults, e.g. a channel slow to start. */
export type DurationOverrides = Partial<Record<TransitionName, number>>;

/** Milliseconds for a transition under the given time scale. */
export function scaledMs(name: TransitionName, timeScale: number, overrides: DurationOverrides = {}): number {
  return Math.max(0, Math.round((overrides[name] ?? BASE_SECONDS[name]) * timeScale * 1000));
}
