import type { Platform, Preset } from "#lib/destinations/platforms.ts";
import { type ApiAnswer, type Json, seg } from "../client.ts";
import { type Context, printJson } from "../context.ts";
import { CliError, EXIT, type ExitCode, UsageError } from "../errors.ts";
import { startedOrDone } from "../follow.ts";
import { at, fields, str, table } from "../format.ts";
import type { WaitOption } from "./sessions.ts";

type Destination = Record<string, unknown>;

/** `castflow destinations list`: GET /destinations (yours; admins: everyone's). */
export async function listDestinations(
  ctx: Context,
  options: { readonly source?: string; readonly includeDeleted?: boolean } = {},
): Promise<ExitCode> {
  const query = new URLSearchParams({
    ...(options.source ? { sourceId: options.source } : {}),
    ...(options.includeDeleted ? { includeDeleted: "true" } : {}),
  }).toString();
  const { body } = await ctx.client.get<{ destinations: Destination[] }>(
    `/destinations${query ? `?${query}` : ""}`,
  );
  if (ctx.json) {
    printJson(ctx, body);
    return EXIT.ok;
  }
  const rows = body.destinations.map((d) => [
    str(d, "destinationId"),
    str(d, "name"),
    str(d, "platform"),
    str(d, "sourceId"),
    str(d, "deliveryMode"),
    str(d, "status") + (at(d, "error.code") ? ` (${str(d, "error.code")})` : ""),
    str(d, "activeUrl"),
  ]);
  for (const line of table(
    ["DESTINATION", "NAME", "PLATFORM", "SOURCE", "MODE", "STATUS", "ACTIVE"],
    rows,
    "no destinations",
  ))
    ctx.io.out(line);
  return EXIT.ok;
}

/** `castflow destinations show <id>`: the record as the API shows it (never a key). */
export async function showDestination(ctx: Context, destinationId: string): Promise<ExitCode> {
  const { body: d } = await ctx.client.get(`/destinations/${seg(destinationId)}`);
  if (ctx.json) {
    printJson(ctx, d);
    return EXIT.ok;
  }
  const error = at(d, "error");
  for (const line of fields([
    ["destination", str(d, "destinationId")],
    ["name", str(d, "name")],
    ["platform", str(d, "platform")],
    ["source", `${str(d, "sourceId")} (${str(d, "deliveryMode")})`],
    ["status", str(d, "status")],
    ["error", error ? `${str(error, "code")}: ${str(error, "message")}` : undefined],
    ["rtmpUrl", str(d, "rtmpUrl")],
    ["backupRtmpUrl", at(d, "backupRtmpUrl")],
    ["active", str(d, "activeUrl")],
    ["preset", str(d, "preset")],
    ["failover", at(d, "failoverEnabled") ? "automatic" : "manual"],
    ["execution", at(d, "executionArn") ?? at(d, "lastSettled.executionArn")],
  ]))
    ctx.io.out(line);
  return EXIT.ok;
}

export interface AddDestinationOptions extends WaitOption {
  readonly name: string;
  readonly platform: Platform;
  readonly source: string;
  /** The key itself, or "-" to read it from standard input. */
  readonly streamKey?: string;
  readonly rtmpUrl?: string;
  readonly preset?: Preset;
  readonly backupRtmpUrl?: string;
  readonly failover?: boolean;
}

/**
 * The stream key, from where it stays out of shell history: standard input (`--stream-key -`,
 * or piped without the option), or CASTFLOW_STREAM_KEY; `--stream-key <key>` works too.
 */
async function streamKeyOf(ctx: Context, option: string | undefined): Promise<string> {
  const fromStdin = async () => {
    const text = await ctx.io.readStdin();
    const key = text?.trim();
    if (!key) throw new UsageError("--stream-key -: standard input gave no key");
    return key;
  };
  if (option === "-") return await fromStdin();
  if (option) return option;
  const env = ctx.io.env.CASTFLOW_STREAM_KEY;
  if (env) return env;
  const piped = (await ctx.io.readStdin())?.trim();
  if (piped) return piped;
  throw new UsageError(
    "the stream key is missing: pipe it in (--stream-key -), set CASTFLOW_STREAM_KEY, or pass --stream-key <key>",
  );
}

/** Whatever an error says, never the keys it was given. */
function withoutKeys(err: unknown, keys: readonly string[]): unknown {
  if (!(err instanceof Error)) return err;
  const hidden = keys.filter((k) => k.length > 0);
  if (!hidden.some((k) => err.message.includes(k))) return err;
  const message = hidden.reduce((m, k) => m.split(k).join("<stream key>"), err.message);
  return Object.assign(new CliError(message), { name: err.name });
}

/** `castflow destinations add`: POST /destinations, then follows destination-add (shared sources: 201 idle). */
export async function addDestination(ctx: Context, options: AddDestinationOptions): Promise<ExitCode> {
  const streamKey = await streamKeyOf(ctx, options.streamKey);
  const backupStreamKey = ctx.io.env.CASTFLOW_BACKUP_STREAM_KEY;
  if (options.backupRtmpUrl && !backupStreamKey)
    throw new UsageError("--backup-rtmp-url needs the backup key in CASTFLOW_BACKUP_STREAM_KEY");
  const body = {
    name: options.name,
    platform: options.platform,
    sourceId: options.source,
    streamKey,
    ...(options.rtmpUrl ? { rtmpUrl: options.rtmpUrl } : {}),
    ...(options.preset ? { preset: options.preset } : {}),
    ...(options.backupRtmpUrl ? { backupRtmpUrl: options.backupRtmpUrl } : {}),
    ...(backupStreamKey ? { backupStreamKey } : {}),
    ...(options.failover ? { failoverEnabled: true } : {}),
  };
  let answer: ApiAnswer<Json>;
  try {
    answer = await ctx.client.post("/destinations", body);
  } catch (err) {
    throw withoutKeys(err, [streamKey, backupStreamKey ?? ""]);
  }
  const id = str(answer.body, "destinationId");
  if (!ctx.json) ctx.io.out(`destination ${id} (${options.name}, ${options.platform}) added`);
  return await startedOrDone(ctx, answer, {
    wait: options.wait !== false,
    already: `destination ${id} is ${str(answer.body, "status")} on a shared source: start it with castflow destinations start ${id}`,
  });
}

type Action = "start" | "stop" | "rm";

/** `castflow destinations start|stop|rm <id>`: the destination's lifecycle, followed. */
export async function destinationAction(
  ctx: Context,
  action: Action,
  destinationId: string,
  options: WaitOption = {},
): Promise<ExitCode> {
  const path = `/destinations/${seg(destinationId)}`;
  const answer = action === "rm" ? await ctx.client.delete(path) : await ctx.client.post(`${path}/${action}`);
  return await startedOrDone(ctx, answer, {
    wait: options.wait !== false,
    already: `destination ${destinationId} is already ${str(answer.body, "status")}`,
  });
}
