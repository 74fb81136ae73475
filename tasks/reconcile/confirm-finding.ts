import * as z from "zod";
import { describeFlow } from "#lib/aws/mediaconnect.ts";
import { channelStateAndTags, liveInput } from "#lib/aws/medialive.ts";
import { getChannel } from "#lib/channels/store.ts";
import { DestinationTags, sourceIdOfFlow } from "#lib/destinations/model.ts";
import { getDestination, getSource, listDestinations } from "#lib/destinations/store.ts";
import { DELETABLE } from "#lib/reconcile/classify.ts";
import { type Repair, ResourceType } from "#lib/reconcile/model.ts";
import { channelNoInputSince } from "#lib/sessions/input-signal.ts";
import { Tags } from "#lib/sessions/model.ts";
import { getSession } from "#lib/sessions/store.ts";
import { defineTask } from "#tasks/define.ts";

/** The state a channel must still be in for its repair to make sense. */
const CHANNEL_STATES: Partial<Record<Repair["action"], ReadonlySet<string>>> = {
  "stop-channel": new Set(["RUNNING"]),
  "delete-channel": DELETABLE,
};

/** The status a flow must still have for its repair to make sense. */
const FLOW_STATES: Partial<Record<Repair["action"], string>> = {
  "stop-flow": "ACTIVE",
  "release-flow": "ACTIVE",
  "delete-flow": "STANDBY",
};

type Dated = { readonly updatedAt: string } | undefined;

/** The record a resource's tags name (a session, destination or source), if any. */
async function ownerOf(tags: Record<string, string>): Promise<Dated> {
  const session = tags[Tags.sessionId];
  if (session) return await getSession(session);
  const destination = tags[DestinationTags.destinationId];
  if (destination) return await getDestination(destination);
  const source = tags[DestinationTags.sourceId];
  return source ? await getSource(source) : undefined;
}

/** The record a finding is about, by its type. */
async function record(type: ResourceType, id: string): Promise<Dated> {
  switch (type) {
    case "session":
      return await getSession(id);
    case "destination":
      return await getDestination(id);
    case "source":
      return await getSource(id);
    default:
      return undefined;
  }
}

const changedSince = (r: Dated, since: string) =>
  r !== undefined && Date.parse(r.updatedAt) >= Date.parse(since);

/**
 * Is a finding still what the inventory saw, right before its repair? The resource is still in
 * the state the repair needs (a channel to stop still RUNNING, one to delete still at rest, an
 * input still detached, a flow to stop still ACTIVE, one to delete STANDBY), and neither the record the finding is about nor the one the resource's
 * tags name changed since the run started (a lifecycle acting on it now wins: the next run looks
 * again). A repair that is no longer needed is skipped, never forced.
 */
export const task = defineTask({
  name: "confirm-finding",
  entry: import.meta.url,
  input: z.object({
    resourceType: ResourceType,
    resourceId: z.string().min(1),
    action: z.string().min(1),
    runStartedAt: z.string().min(1),
  }),
  table: "read",
  grants: [
    {
      actions: ["medialive:DescribeChannel", "medialive:DescribeInput", "medialive:ListAlerts"],
      on: "medialive",
    },
    { actions: ["mediaconnect:DescribeFlow"], on: "mediaconnect" },
  ],
  run: async ({ resourceType, resourceId, action, runStartedAt }) => {
    const skip = (why: string) => ({ confirmed: false, why });
    if (resourceType === "medialive-channel") {
      const channel = await channelStateAndTags(resourceId);
      if (channel.state === "DELETED") return skip("the channel no longer exists");
      const wanted = CHANNEL_STATES[action as Repair["action"]];
      if (wanted && !wanted.has(channel.state)) return skip(`the channel is ${channel.state} now`);
      // A session stopped for lack of input: only while its channel still receives nothing.
      if (action === "run-lifecycle" && !(await channelNoInputSince(resourceId)).since)
        return skip("the channel receives input again (or no longer runs)");
      if (changedSince(await ownerOf(channel.tags), runStartedAt))
        return skip("its record changed since the inventory");
    } else if (resourceType === "medialive-input") {
      const input = await liveInput(resourceId);
      if (!input) return skip("the input no longer exists");
      if ((input.AttachedChannels ?? []).length > 0) return skip("the input is attached to a channel now");
      if (changedSince(await ownerOf(input.Tags ?? {}), runStartedAt))
        return skip("its record changed since the inventory");
    } else if (resourceType === "mediaconnect-flow") {
      const flow = await describeFlow(resourceId);
      if (!flow) return skip("the flow no longer exists");
      const wanted = FLOW_STATES[action as Repair["action"]];
      if (wanted && flow.Status !== wanted) return skip(`the flow is ${flow.Status} now`);
      const sourceId = sourceIdOfFlow(flow.Name);
      if (sourceId && changedSince(await getSource(sourceId), runStartedAt))
        return skip("its source's record changed since the inventory");
      // A destination asked to start since (its flow user is added later, by its execution).
      if (sourceId && (await listDestinations({ sourceId })).some((d) => changedSince(d, runStartedAt)))
        return skip("a destination of its source changed since the inventory");
    } else if (resourceType === "persistent-channel") {
      // A claim leak: the claim's session may have been written since (POST /sessions claims the
      // channel before it writes the session).
      const pc = await getChannel(resourceId);
      if (!pc || changedSince(pc, runStartedAt)) return skip("the record changed since the inventory");
      const session = pc.currentSessionId ? await getSession(pc.currentSessionId) : undefined;
      if (session && session.status !== "ended") return skip(`its session ${session.sessionId} exists now`);
    } else if (changedSince(await record(resourceType, resourceId), runStartedAt)) {
      return skip("the record changed since the inventory");
    }
    return { confirmed: true, why: "" };
  },
});

export const handler = task.handler;
