import { seg } from "../client.ts";
import { type Context, printJson } from "../context.ts";
import { EXIT, type ExitCode } from "../errors.ts";
import { startedOrDone } from "../follow.ts";
import { at, executionNameOf, fields, str, table } from "../format.ts";

type Session = Record<string, unknown>;
interface SessionPage {
  readonly sessions: Session[];
  readonly nextToken?: string;
}

export interface ListSessionsOptions {
  readonly status?: string;
  /** Admins: one host's sessions. */
  readonly host?: string;
  readonly limit?: number;
  /** Follow `nextToken` to the last page. */
  readonly all?: boolean;
}

/** `castflow sessions list`: GET /sessions, newest first. */
export async function listSessions(ctx: Context, options: ListSessionsOptions = {}): Promise<ExitCode> {
  const sessions: Session[] = [];
  let nextToken: string | undefined;
  do {
    const query = new URLSearchParams({
      ...(options.status ? { status: options.status } : {}),
      ...(options.host ? { hostUserId: options.host } : {}),
      ...(options.limit ? { limit: String(options.limit) } : {}),
      ...(nextToken ? { nextToken } : {}),
    }).toString();
    const page = (await ctx.client.get<SessionPage>(`/sessions${query ? `?${query}` : ""}`)).body;
    sessions.push(...page.sessions);
    nextToken = page.nextToken;
  } while (options.all && nextToken);
  if (ctx.json) {
    printJson(ctx, { sessions, ...(nextToken ? { nextToken } : {}) });
    return EXIT.ok;
  }
  const rows = sessions.map((s) => [
    str(s, "sessionId"),
    str(s, "hostUserId"),
    str(s, "showId"),
    str(s, "status"),
    str(s, "streaming.status") +
      (at(s, "streaming.error.code") ? ` (${str(s, "streaming.error.code")})` : ""),
    str(s, "createdAt"),
  ]);
  for (const line of table(
    ["SESSION", "HOST", "SHOW", "STATUS", "STREAMING", "CREATED"],
    rows,
    "no sessions",
  ))
    ctx.io.out(line);
  if (nextToken) ctx.io.out("(more sessions: --all lists every page)");
  return EXIT.ok;
}

/** `castflow sessions create --show <showId>`: POST /sessions (201; the host's channel is claimed). */
export async function createSession(
  ctx: Context,
  options: { readonly show: string; readonly episode?: string },
): Promise<ExitCode> {
  const { body } = await ctx.client.post("/sessions", {
    showId: options.show,
    ...(options.episode ? { episodeId: options.episode } : {}),
  });
  if (ctx.json) printJson(ctx, body);
  else {
    ctx.io.out(`created session ${str(body, "sessionId")}`);
    for (const line of fields([
      ["  playback", at(body, "ivs.persistentPlaybackUrl") ?? at(body, "ivs.programPlaybackUrl")],
      ["  next", `castflow go-live ${str(body, "sessionId")}`],
    ]))
      ctx.io.out(line);
  }
  return EXIT.ok;
}

/** The executions a session record names, newest lifecycle last: go-live, stop, end. */
export function sessionExecutions(session: Session): string[] {
  const arns = [
    at(session, "streaming.executionArn"),
    at(session, "streaming.stopExecutionArn"),
    at(session, "endRequest.executionArn"),
    at(session, "end.executionArn"),
  ].filter((a): a is string => typeof a === "string" && a !== "");
  return [...new Set(arns)];
}

/** `castflow sessions show <id>` */
export async function showSession(ctx: Context, sessionId: string): Promise<ExitCode> {
  const { body: s } = await ctx.client.get(`/sessions/${seg(sessionId)}`);
  if (ctx.json) {
    printJson(ctx, s);
    return EXIT.ok;
  }
  const error = at(s, "streaming.error");
  const ingest = at(s, "mediaLive.rtmpEndpoints.host");
  const firstIngest = Array.isArray(ingest) ? (ingest[0] as Record<string, unknown> | undefined) : undefined;
  for (const line of fields([
    ["session", str(s, "sessionId")],
    ["host", str(s, "hostUserId")],
    ["show", str(s, "showId")],
    ["status", str(s, "status")],
    ["streaming", str(s, "streaming.status")],
    ["error", error ? `${str(error, "code")}: ${str(error, "message")}` : undefined],
    [
      "playback",
      at(s, "streaming.playbackUrl") ?? at(s, "ivs.persistentPlaybackUrl") ?? at(s, "ivs.programPlaybackUrl"),
    ],
    ["encoder", firstIngest ? `${str(firstIngest, "url")}/${str(firstIngest, "streamName")}` : undefined],
    ["streamed", `${Math.round(Number(at(s, "streaming.totalStreamedSeconds") ?? 0))} s`],
    ["created", str(s, "createdAt")],
  ]))
    ctx.io.out(line);
  const executions = sessionExecutions(s);
  if (executions.length > 0) ctx.io.out(`executions: ${executions.map(executionNameOf).join(", ")}`);
  return EXIT.ok;
}

export interface WaitOption {
  /** Follow the execution to its end (default); false: print its ARN and return. */
  readonly wait?: boolean;
}

/** `castflow go-live <sessionId>`: POST /sessions/{id}/streaming/start, then follows go-live. */
export async function goLive(ctx: Context, sessionId: string, options: WaitOption = {}): Promise<ExitCode> {
  const answer = await ctx.client.post(`/sessions/${seg(sessionId)}/streaming/start`);
  return await startedOrDone(ctx, answer, {
    wait: options.wait !== false,
    already: `session ${sessionId} is already live: ${str(answer.body, "playbackUrl")}`,
  });
}

/** `castflow stop <sessionId>`: POST /sessions/{id}/streaming/stop, then follows stop-streaming. */
export async function stopStreaming(
  ctx: Context,
  sessionId: string,
  options: WaitOption = {},
): Promise<ExitCode> {
  const answer = await ctx.client.post(`/sessions/${seg(sessionId)}/streaming/stop`);
  return await startedOrDone(ctx, answer, {
    wait: options.wait !== false,
    already: `session ${sessionId} is not streaming (idle): nothing to stop`,
  });
}

/** `castflow sessions end <sessionId>`: DELETE /sessions/{id}, then follows end-session. */
export async function endSession(
  ctx: Context,
  sessionId: string,
  options: WaitOption = {},
): Promise<ExitCode> {
  const answer = await ctx.client.delete(`/sessions/${seg(sessionId)}`);
  return await startedOrDone(ctx, answer, {
    wait: options.wait !== false,
    already: `session ${sessionId} has ended (${str(answer.body, "endedAt")}), everything cleaned up`,
  });
}
