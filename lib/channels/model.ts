import * as z from "zod";

/**
 * A host's persistent IVS channel in castflow's registry. `state` is castflow's own record, not
 * an IVS state (IVS channels have none): IDLE = free, LIVE = claimed by `currentSessionId`,
 * OFFLINE = taken out of service by an admin. Never holds the stream key.
 */
export const ChannelState = z.enum(["IDLE", "LIVE", "OFFLINE"]);
export type ChannelState = z.infer<typeof ChannelState>;

export const PersistentChannel = z.object({
  channelId: z.string(),
  channelArn: z.string(),
  name: z.string(),
  hostUserId: z.string().optional(),
  state: ChannelState,
  currentSessionId: z.string().optional(),
  playbackUrl: z.string(),
  ingestEndpoint: z.string(),
  totalBroadcasts: z.number().int().nonnegative(),
  totalStreamingMinutes: z.number().nonnegative(),
  lastBroadcastAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Optimistic lock: +1 on every write (records written before it existed read as 0). */
  version: z.number().int().nonnegative().default(0),
});
export type PersistentChannel = z.infer<typeof PersistentChannel>;

export const HostAssignment = z.object({
  hostUserId: z.string(),
  channelId: z.string(),
  assignedAt: z.string(),
});
export type HostAssignment = z.infer<typeof HostAssignment>;

/** All channel records share one partition so the registry lists with a single Query. */
export const CHANNEL_PARTITION = "CHANNEL";
export const channelKey = (channelId: string) => ({ pk: CHANNEL_PARTITION, sk: channelId });
export const hostKey = (hostUserId: string) => ({ pk: `HOST#${hostUserId}`, sk: "CHANNEL" });

/** The IVS channel id: the last part of its ARN (`arn:aws:ivs:<region>:<account>:channel/<id>`). */
export const ivsChannelId = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

/** Minutes as stored in `totalStreamingMinutes`: two decimals. */
export const toMinutes = (seconds: number) => Math.round((seconds / 60) * 100) / 100;
