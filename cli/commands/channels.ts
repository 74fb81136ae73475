import { seg } from "../client.ts";
import { type Context, printJson } from "../context.ts";
import { EXIT, type ExitCode } from "../errors.ts";
import { fields, str, table } from "../format.ts";

type Channel = Record<string, unknown>;

/** `castflow channels list` (admins): GET /admin/channels, the persistent channel registry. */
export async function listChannels(ctx: Context): Promise<ExitCode> {
  const { body } = await ctx.client.get<{ channels: Channel[] }>("/admin/channels");
  if (ctx.json) {
    printJson(ctx, body);
    return EXIT.ok;
  }
  const rows = body.channels.map((c) => [
    str(c, "channelId"),
    str(c, "name"),
    str(c, "hostUserId"),
    str(c, "state"),
    str(c, "currentSessionId"),
    str(c, "totalBroadcasts"),
  ]);
  for (const line of table(
    ["CHANNEL", "NAME", "HOST", "STATE", "SESSION", "BROADCASTS"],
    rows,
    "no channels",
  ))
    ctx.io.out(line);
  return EXIT.ok;
}

function printChannel(ctx: Context, c: Channel): void {
  for (const line of fields([
    ["channel", str(c, "channelId")],
    ["name", str(c, "name")],
    ["host", str(c, "hostUserId")],
    ["state", str(c, "state")],
    ["session", str(c, "currentSessionId")],
    ["playback", str(c, "playbackUrl")],
    ["ingest", str(c, "ingestEndpoint")],
    ["broadcasts", str(c, "totalBroadcasts")],
    ["minutes", str(c, "totalStreamingMinutes")],
    ["last", str(c, "lastBroadcastAt")],
  ]))
    ctx.io.out(line);
}

/** `castflow channels show <channelId>` (admins) */
export async function showChannel(ctx: Context, channelId: string): Promise<ExitCode> {
  const { body } = await ctx.client.get(`/admin/channels/${seg(channelId)}`);
  if (ctx.json) printJson(ctx, body);
  else printChannel(ctx, body);
  return EXIT.ok;
}

/** `castflow channels create [--name] [--host]` (admins): a persistent IVS channel, assigned to a host if given. */
export async function createChannel(
  ctx: Context,
  options: { readonly name?: string; readonly host?: string } = {},
): Promise<ExitCode> {
  const { body } = await ctx.client.post("/admin/channels", {
    ...(options.name ? { name: options.name } : {}),
    ...(options.host ? { hostUserId: options.host } : {}),
  });
  if (ctx.json) printJson(ctx, body);
  else {
    ctx.io.out(`created channel ${str(body, "channelId")}`);
    printChannel(ctx, body);
  }
  return EXIT.ok;
}

/** `castflow channels rm <channelId>` (admins): refused (409) while the channel is LIVE. */
export async function deleteChannel(ctx: Context, channelId: string): Promise<ExitCode> {
  const { body } = await ctx.client.delete(`/admin/channels/${seg(channelId)}`);
  if (ctx.json) printJson(ctx, body);
  else ctx.io.out(`deleted channel ${channelId}`);
  return EXIT.ok;
}
