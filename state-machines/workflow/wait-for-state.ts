import { Duration } from "aws-cdk-lib";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { TaskErrors } from "#lib/errors.ts";
import type { AnyTask, TaskInput } from "#tasks/define.ts";
import type * as describeChannel from "#tasks/medialive/describe-channel.ts";
import type * as describeInput from "#tasks/medialive/describe-input.ts";
import * as awaitChannelState from "#tasks/waits/await-channel-state.ts";
import { defaultIsNext } from "./choice-then-next.ts";
import { CHECK_STEP } from "./history-events.ts";
import type { RetryPolicy } from "./retry.ts";
import { type Exact, type Payload, present, type Ref, type Slot } from "./state.ts";
import { TASK_TOKEN, type TaskFunctions, taskState } from "./task-state.ts";
import { parseWaitMode, type WaitMode, type WaitSpec } from "./waits.ts";

/** The app's `castflow:waits` setting (default `events`), refused at synth when unknown. */
export function waitMode(scope: Construct): WaitMode {
  return parseWaitMode(scope.node.tryGetContext("castflow:waits") ?? "events", "castflow:waits");
}

/**
 * Any other resource: a task whose answer has the resource's `state`, with its payload checked
 * against the task's input like any task state's. Made with `polledBy`, so a new kind of wait
 * needs no change here.
 */
export interface Polled {
  readonly subject: string;
  /** What the failure messages name (e.g. the source id). */
  readonly id: Ref<string>;
  readonly poll: (scope: Construct, fns: TaskFunctions, title: string) => sfn.State & sfn.INextable;
  /** How the wait registers for the resource's events (event mode); absent: it always polls. */
  readonly events?: EventAwaiter;
}

/** One round of an event-driven wait: a callback task that registers the wait and describes once. */
export interface EventAwaiter {
  readonly await: (
    scope: Construct,
    fns: TaskFunctions,
    title: string,
    round: { readonly timeout: Duration; readonly pending: readonly string[] },
  ) => sfn.TaskStateBase;
}

/** A task's input without what the wait itself passes (`taskToken`, `pending`). */
type RoundInput<T> = Omit<TaskInput<T>, "taskToken" | "pending">;

/**
 * Rounds of `task` (lib/waits.ts's `awaitState` behind it), called with `payload` plus the state's
 * `taskToken` and the states an event does not end the wait in (`pending`).
 */
export function awaitedBy<T extends AnyTask, P extends Payload<RoundInput<T>>>(
  // A round task: it takes the token and the pending states, and answers as `awaitState` does
  // (it registers the wait and completes it); any other task is refused by tsc.
  task: T & {
    readonly run: (...args: never[]) => Promise<{ readonly state: string; readonly settled: boolean }>;
  } & (TaskInput<T> extends { taskToken: string; pending: string[] } ? unknown : never),
  payload: Exact<P, RoundInput<T>>,
  options: { readonly extraRetries?: readonly RetryPolicy[] } = {},
): EventAwaiter {
  return {
    await: (scope, fns, title, round) =>
      taskState(scope, fns, title, {
        task,
        // The two fields the callback needs, added to a payload already checked against the rest.
        payload: { ...payload, taskToken: TASK_TOKEN, pending: [...round.pending] } as never,
        resultPath: OBSERVED as never,
        callback: true,
        timeout: round.timeout,
        ...(options.extraRetries ? { extraRetries: options.extraRetries } : {}),
      }),
  };
}

/** The round an event-driven wait is in (1 first), for a round task's payload. */
export const ROUND = { path: "$.wait.rounds" } as Ref<number>;

/**
 * A wait on `task`'s answers (`{state}`), called with `payload`; `subject` and `id` name it in
 * failures; `events` (from `awaitedBy`) lets it wait on events instead.
 */
export function polledBy<T extends AnyTask, P extends Payload<TaskInput<T>>>(
  task: T & { readonly run: (...args: never[]) => Promise<{ readonly state: string }> },
  payload: Exact<P, TaskInput<T>>,
  subject: string,
  id: Ref<string>,
  events?: EventAwaiter,
): Polled {
  return {
    subject,
    id,
    poll: (scope, fns, title) =>
      taskState(scope, fns, title, { task, payload, resultPath: OBSERVED as never }),
    ...(events ? { events } : {}),
  };
}

/** What is awaited: a MediaLive channel or input by a reference to its id, or anything `polledBy` describes. */
export type Awaited =
  | { readonly describe: typeof describeChannel.task; readonly channelId: Ref<string | null> }
  | { readonly describe: typeof describeInput.task; readonly inputId: Ref<string | null> }
  | Polled;

/** Where each poll's answer goes: `$.wait.observed` (the fragment's own scratch field). */
const OBSERVED = { path: "$.wait.observed" } as Slot<{ readonly state: string }>;

export interface WaitForStateProps {
  readonly spec: WaitSpec;
  readonly fns: TaskFunctions;
  readonly awaited: Awaited;
  /** Prefix for every state name, so the fragment can be used twice in one machine. Default: none. */
  readonly prefix?: string;
  /**
   * Event mode, a channel: the state the step before saw (e.g. a CreateChannel's CREATING) and
   * when it began to look: the first round takes it, or the channel's latest event since, instead
   * of a describe.
   */
  readonly known?: { readonly state: Ref<string>; readonly at: Ref<string> };
  /**
   * Event mode: the first round is this task, titled `title` (e.g. "Start Channel": it registers
   * the wait, then starts the channel, so the wait sees the events of its own action).
   */
  readonly firstRound?: { readonly title: string; readonly awaiter: EventAwaiter };
}

/**
 * Waits until a resource reaches one of `spec.success`. A state outside success and pending fails
 * with `ChannelFailed`; running out of budget fails with `ChannelWaitTimeout`. Both are Fail
 * states: wrap the fragment in a Parallel whose Catch compensates. State names start with the
 * spec's title, so an operator sees "Wait For Channel Running: Await Event".
 *
 * Two ways, by `castflow:waits` and the spec:
 * - **events** (a MediaLive channel, or a `Polled` with `events`, and a spec that declares
 *   `events`): "Await Event" is a callback task that registers the wait and describes the
 *   resource once (lib/waits.ts); the resource's next state-change event, or that describe,
 *   completes it. When neither came within
 *   `fallbackSeconds`, "Count Round" starts another round (another describe), within the budget.
 * - **polling**: "Poll" describes, "Pause" waits `delaySeconds` in a Wait state (nothing waits
 *   inside a Lambda), until the state settles or `maxPolls` polls were made.
 *
 * Once the state is reached, "Check State" goes straight on to the state chained after the wait
 * (no closing state to pay for), so a wait cannot end a chain: chain a state after it.
 */
export class WaitForState extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: WaitForStateProps) {
    super(scope, id);
    const { spec, awaited } = props;
    // Check State lets a pending state keep waiting before it looks at success: never both.
    const both = spec.success.filter((state) => spec.pending.includes(state));
    if (both.length > 0)
      throw new Error(`${spec.title}: ${both.join(", ")} cannot be both a success and a pending state`);
    // The prefix names the wait's own states; a `firstRound` keeps the title it was given.
    const t = `${props.prefix ?? ""}${spec.title}`;
    const subject = "channelId" in awaited ? "Channel" : "inputId" in awaited ? "Input" : awaited.subject;
    const awaitedId =
      "channelId" in awaited ? awaited.channelId : "inputId" in awaited ? awaited.inputId : awaited.id;
    const fail = (name: string, failName: string, error: string, cause: string) =>
      new sfn.Pass(this, `${t}: ${name}`, {
        parameters: { Error: error, "Cause.$": cause },
        resultPath: "$.failure",
      }).next(
        new sfn.Fail(this, `${t}: ${failName}`, {
          errorPath: "$.failure.Error",
          causePath: "$.failure.Cause",
        }),
      );
    const observedFailure = () =>
      fail(
        "Describe Failure",
        "Failed",
        TaskErrors.ChannelFailed,
        `States.Format('${subject} {} is {}, which ${spec.title.toLowerCase()} cannot recover from', ${awaitedId.path}, $.wait.observed.state)`,
      );
    const anyOf = (states: readonly string[]) =>
      sfn.Condition.or(...states.map((s) => sfn.Condition.stringEquals("$.wait.observed.state", s)));
    const budget = spec.delaySeconds * spec.maxPolls;

    const awaiter =
      "channelId" in awaited
        ? awaitedBy(awaitChannelState.task, {
            channelId: present(awaited.channelId),
            round: ROUND,
            ...(props.known ? { known: props.known.state, knownAt: props.known.at } : {}),
          })
        : "inputId" in awaited
          ? undefined
          : awaited.events;
    if (awaiter && spec.events && waitMode(this) === "events") {
      const { fallbackSeconds } = spec.events;
      const silent = spec.events.silent ?? [];
      // `spent`: the budget used, in seconds: a round that timed out counts its fallback, a poll
      // of a silent state its delay.
      const start = new sfn.Pass(this, t, {
        result: sfn.Result.fromObject({ rounds: 1, spent: 0 }),
        resultPath: "$.wait",
      });
      const round = {
        timeout: Duration.seconds(fallbackSeconds),
        // A silent state ends the round at once: no event will.
        pending: (spec.events.keepWaitingIn ?? spec.pending).filter((state) => !silent.includes(state)),
      };
      const awaitEvent = awaiter.await(this, props.fns, `${t}: Await Event`, round);
      const first = props.firstRound
        ? props.firstRound.awaiter.await(this, props.fns, props.firstRound.title, round)
        : awaitEvent;
      const roundsLeft = new sfn.Choice(this, `${t}: Rounds Left?`)
        .when(
          sfn.Condition.numberGreaterThanEquals("$.wait.spent", budget),
          fail(
            "Describe Timeout",
            "Timed Out",
            TaskErrors.ChannelWaitTimeout,
            `States.Format('${subject} {} did not reach ${spec.success.join(" or ")} within ${budget} s (${spec.title})', ${awaitedId.path})`,
          ),
        )
        .otherwise(awaitEvent);
      const counted = (name: string, seconds: number) =>
        new sfn.Pass(this, `${t}: ${name}`, {
          parameters: {
            "rounds.$": "States.MathAdd($.wait.rounds, 1)",
            "spent.$": `States.MathAdd($.wait.spent, ${seconds})`,
          },
          resultPath: "$.wait",
        }).next(roundsLeft);
      const count = counted("Count Round", fallbackSeconds);
      // No event and no settled state within the round: describe again (the fallback poll).
      for (const r of new Set([first, awaitEvent]))
        r.addCatch(count, { errors: ["States.Timeout"], resultPath: sfn.JsonPath.DISCARD });
      // An event is a hint: late or repeated, it may report a state the resource has left. It ends
      // the wait only on a success state (and not even then when the round's task must decide,
      // `recheck`); any other state it reports starts another round, which describes.
      const viaEvent = sfn.Condition.stringEquals("$.wait.observed.via", "event");
      const notReached = sfn.Condition.not(anyOf(spec.success));
      // Reached: the Choice's default, the state chained after the wait.
      const settled = new sfn.Choice(this, `${t}: ${CHECK_STEP}`);
      if (silent.length > 0)
        settled.when(
          anyOf(silent),
          new sfn.Wait(this, `${t}: Pause`, {
            time: sfn.WaitTime.duration(Duration.seconds(spec.delaySeconds)),
          }).next(counted("Count Poll", spec.delaySeconds)),
        );
      settled
        .when(
          spec.events.recheck
            ? sfn.Condition.or(viaEvent, anyOf(spec.pending))
            : sfn.Condition.or(anyOf(spec.pending), sfn.Condition.and(viaEvent, notReached)),
          count,
        )
        .when(notReached, observedFailure());
      start.next(first).next(settled);
      if (first !== awaitEvent) awaitEvent.next(settled);
      this.startState = start;
      this.endStates = defaultIsNext(settled);
      return;
    }

    const start = new sfn.Pass(this, t, {
      result: sfn.Result.fromObject({ polls: 0 }),
      resultPath: "$.wait",
    });
    const poll =
      "channelId" in awaited
        ? taskState(this, props.fns, `${t}: Poll`, {
            task: awaited.describe,
            payload: { channelId: present(awaited.channelId) },
            resultPath: OBSERVED,
          })
        : "inputId" in awaited
          ? taskState(this, props.fns, `${t}: Poll`, {
              task: awaited.describe,
              payload: { inputId: present(awaited.inputId) },
              resultPath: OBSERVED,
            })
          : awaited.poll(this, props.fns, `${t}: Poll`);
    const pause = new sfn.Wait(this, `${t}: Pause`, {
      time: sfn.WaitTime.duration(Duration.seconds(spec.delaySeconds)),
    });
    const count = new sfn.Pass(this, `${t}: Count Poll`, {
      parameters: { "polls.$": "States.MathAdd($.wait.polls, 1)" },
      resultPath: "$.wait",
    });
    // Reached: the Choice's default, the state chained after the wait.
    const settled = new sfn.Choice(this, `${t}: ${CHECK_STEP}`)
      .when(
        sfn.Condition.and(
          anyOf(spec.pending),
          sfn.Condition.numberGreaterThanEquals("$.wait.polls", spec.maxPolls),
        ),
        fail(
          "Describe Timeout",
          "Timed Out",
          TaskErrors.ChannelWaitTimeout,
          `States.Format('${subject} {} still {} after ${budget} s (${spec.title})', ${awaitedId.path}, $.wait.observed.state)`,
        ),
      )
      .when(anyOf(spec.pending), pause.next(count).next(poll))
      .when(sfn.Condition.not(anyOf(spec.success)), observedFailure());
    start.next(poll).next(settled);
    this.startState = start;
    this.endStates = defaultIsNext(settled);
  }
}
