import * as z from "zod";
import { type WaitedKind, wakeWaiters } from "#lib/waits.ts";
import { defineTask } from "#tasks/define.ts";

/**
 * A task that turns a resource's state-change event into the end of the waits registered on the
 * resource (lib/waits.ts `wakeWaiters`). A late, repeated or out-of-order event wakes nothing it
 * should not: it is compared with each registration's time and pending states, and a wait already
 * ended refuses it. Its reaction passes it `fields` (an input transformer) and nothing else.
 */
export function wakeTask(spec: {
  readonly name: string;
  /** The declaring module's `import.meta.url` (it exports `handler`). */
  readonly entry: string;
  readonly kind: WaitedKind;
  /** Where the event holds its time, the resource's new state and the resource's ARN. */
  readonly paths: { readonly state: string; readonly resourceArn: string };
  /** The id the waits are registered under, from the resource's ARN. */
  readonly idOf: (arn: string) => string;
  /** The state a wait compares, from the event's (default: as it is). */
  readonly stateOf?: (state: string) => string;
}) {
  const fields = { time: "$.time", ...spec.paths } as const;
  const task = defineTask({
    name: spec.name,
    entry: spec.entry,
    input: z.object({
      time: z.string(),
      state: z.string().min(1),
      resourceArn: z.string().startsWith("arn:"),
    }),
    table: "waits",
    grants: [{ actions: ["states:SendTaskSuccess"], on: "state-machines" }],
    run: (event) =>
      wakeWaiters(
        spec.kind,
        spec.idOf(event.resourceArn),
        spec.stateOf ? spec.stateOf(event.state) : event.state,
        event.time,
      ),
  });
  return { task, fields };
}
