import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import * as z from "zod";
import { startLifecycle } from "#api/executions.ts";
import { sfn } from "#lib/aws/clients.ts";
import { deleteFlow, stopFlow } from "#lib/aws/mediaconnect.ts";
import { releaseChannel } from "#lib/channels/store.ts";
import { allOf, atVersion } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { Repair } from "#lib/reconcile/model.ts";
import { getSession, updateSession } from "#lib/sessions/store.ts";
import { destinationAdd } from "#state-machines/destinations/destination-add/lifecycle.ts";
import { destinationDelete } from "#state-machines/destinations/destination-delete/lifecycle.ts";
import { destinationStart } from "#state-machines/destinations/destination-start/lifecycle.ts";
import { destinationStop } from "#state-machines/destinations/destination-stop/lifecycle.ts";
import { destinationUpdate } from "#state-machines/destinations/destination-update/lifecycle.ts";
import { sharedChannelApply } from "#state-machines/destinations/shared-channel-apply/lifecycle.ts";
import { endSession } from "#state-machines/sessions/end-session/lifecycle.ts";
import { goLive } from "#state-machines/sessions/go-live/lifecycle.ts";
import { stopStreaming } from "#state-machines/sessions/stop-streaming/lifecycle.ts";
import type { Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import { defineTask } from "#tasks/define.ts";
import { releaseFlow } from "#tasks/destinations/release-flow.ts";

/**
 * The lifecycles whose executions own records (and so can leave one stuck), by name. The registry
 * (state-machines/registry.ts) builds CDK constructs and cannot be bundled into a task;
 * test/tasks/reconcile/apply-repair.test.ts fails when a lifecycle of the registry that declares
 * `settledBy` is missing here.
 */
export const OWNING_LIFECYCLES: readonly Lifecycle[] = [
  goLive,
  stopStreaming,
  endSession,
  destinationAdd,
  destinationStart,
  destinationStop,
  destinationUpdate,
  destinationDelete,
  sharedChannelApply,
] as Lifecycle[];

const byName = (name: string) => OWNING_LIFECYCLES.find((l) => l.name === name);

/** The lifecycle of a state machine ARN of this deployment. */
function lifecycleOf(stateMachineArn: string): Lifecycle | undefined {
  const entry = Object.entries(config().STATE_MACHINE_ARNS).find(([, arn]) => arn === stateMachineArn);
  return entry ? byName(entry[0]) : undefined;
}

/**
 * Finishes what a closed execution left half-way, as the local runtime does after a restart: its
 * lifecycle's `settledBy` (a go-live is stopped, the others run again) with the input it had.
 */
async function settle(executionArn: string): Promise<string> {
  const described = await sfn().send(new DescribeExecutionCommand({ executionArn }));
  if (described.status === "RUNNING") return "the execution runs again: nothing to settle";
  const lifecycle = described.stateMachineArn ? lifecycleOf(described.stateMachineArn) : undefined;
  const rule = lifecycle?.settledBy;
  if (!lifecycle || !rule) throw new Error(`No lifecycle settles ${executionArn}`);
  const input = lifecycle.input.parse(JSON.parse(described.input ?? "{}"));
  const [next, nextInput] = rule === "itself" ? [lifecycle, input] : [rule.lifecycle, rule.input(input)];
  const started = await startLifecycle(next, 0, () => nextInput as never);
  return started.executionArn;
}

/**
 * Takes a session's channel and push input off it, only if the record is still the one the
 * inventory classified (its version) and the session is not streaming: a go-live that claimed it
 * meanwhile wins. The ids go to `mediaLive.retired`, so go-live never adopts them again by tag;
 * the runs after delete them as orphans.
 */
async function retireSessionResources(sessionId: string, version: number): Promise<boolean> {
  const session = await getSession(sessionId);
  if (!session || session.version !== version) return false;
  const saved = await updateSession(sessionId, {
    set: {
      "mediaLive.retired": {
        ...(session.mediaLive.channelId ? { channelId: session.mediaLive.channelId } : {}),
        ...(session.mediaLive.inputIds.host ? { inputId: session.mediaLive.inputIds.host } : {}),
        at: new Date().toISOString(),
      },
    },
    remove: [
      "mediaLive.channelId",
      "mediaLive.channelArn",
      "mediaLive.inputIds.host",
      "mediaLive.rtmpEndpoints.host",
    ],
    condition: allOf(atVersion(version), {
      expression: "#status = :active AND #streaming.#sstatus IN (:idle, :error)",
      names: { "#status": "status", "#streaming": "streaming", "#sstatus": "status" },
      values: { ":active": "active", ":idle": "idle", ":error": "error" },
    }),
  });
  return saved !== undefined;
}

/**
 * reconcile's repairs that are not a single AWS call: settling a stuck record (`settle`), correcting
 * drift through the lifecycle that owns the record (`run-lifecycle`), and releasing a persistent
 * channel's claim held for a session that is gone (`release-claim`, conditional on that claim), and
 * MediaConnect flows: stopping an idle or orphan one, deleting an orphan, releasing a source's flow
 * for users that no longer need it (release-flow's own code).
 */
export const task = defineTask({
  name: "apply-repair",
  entry: import.meta.url,
  input: z.object({ repair: Repair }),
  table: "write",
  grants: [
    { actions: ["states:DescribeExecution"], on: "states" },
    { actions: ["states:StartExecution"], on: "state-machines" },
    {
      actions: ["mediaconnect:DescribeFlow", "mediaconnect:StopFlow", "mediaconnect:DeleteFlow"],
      on: "mediaconnect",
    },
  ],
  run: async ({ repair }, { signal }) => {
    switch (repair.action) {
      case "settle":
        return { done: await settle(repair.executionArn) };
      case "run-lifecycle": {
        const lifecycle = byName(repair.lifecycle);
        if (!lifecycle) throw new Error(`Unknown lifecycle ${repair.lifecycle}`);
        const started = await startLifecycle(lifecycle, repair.from ?? 1, () => repair.input as never);
        return { done: started.executionArn };
      }
      case "stop-flow":
        return { done: await stopFlow(repair.flowArn, signal) };
      case "delete-flow":
        await deleteFlow(repair.flowArn, signal);
        return { done: "deleting" };
      case "release-flow": {
        // As each user's destination-stop would: the last one out stops the flow. A user is taken
        // off only if it is still the acquisition the inventory saw (a destination starting again
        // since has acquired the flow anew and keeps it).
        let stopped = false;
        for (const destinationId of repair.users) {
          const since = repair.usersSince?.[destinationId];
          const user = { sourceId: repair.sourceId, destinationId };
          stopped = (await releaseFlow(user, { signal }, since ? { since } : {})).stopped;
        }
        return { done: stopped ? "released; the flow is stopping" : "released; the flow is kept" };
      }
      case "retire-session-resources":
        return {
          done: (await retireSessionResources(repair.sessionId, repair.version))
            ? "retired"
            : "the session changed",
        };
      case "release-claim": {
        const released = await releaseChannel(repair.channelId, repair.sessionId);
        return { done: released ? "released" : "the claim had already moved" };
      }
      default:
        throw new Error(`apply-repair does not make ${repair.action} repairs`);
    }
  },
});

export const handler = task.handler;
