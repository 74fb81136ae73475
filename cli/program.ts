import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { PLATFORMS, PRESETS } from "#lib/destinations/platforms.ts";
import { ApiClient } from "./client.ts";
import { createChannel, deleteChannel, listChannels, showChannel } from "./commands/channels.ts";
import {
  addDestination,
  destinationAction,
  listDestinations,
  showDestination,
} from "./commands/destinations.ts";
import {
  createSession,
  endSession,
  goLive,
  listSessions,
  showSession,
  stopStreaming,
} from "./commands/sessions.ts";
import { watch } from "./commands/watch.ts";
import { why } from "./commands/why.ts";
import type { Context } from "./context.ts";
import { ApiFailure, CliError, EXIT, type ExitCode, UsageError } from "./errors.ts";
import { follow, report } from "./follow.ts";
import type { Io } from "./io.ts";
import { DEFAULT_USER, resolveTarget, type Target } from "./target.ts";

export interface RunOptions {
  /** Stops a follow or a watch (the bin aborts it on Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Poll interval; default 250 ms on the local runtime, 1 s on a deployed API. */
  readonly pollMs?: number;
  /** Use this target instead of --api/--token or the local runtime's files (tests). */
  readonly target?: Target;
}

interface GlobalOptions {
  readonly api?: string;
  readonly token?: string;
  readonly user: string;
  readonly admin?: boolean;
  readonly json?: boolean;
}

const positiveNumber = (raw: string) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
};

/** What to do next after an API refusal whose cause is usually the token. */
function hint(err: ApiFailure, target: Target | undefined): string {
  if (err.status === 401)
    return target?.local
      ? " (the local runtime refused the dev token: was it restarted with --clean? run the command again)"
      : " (pass a valid token with --token or CASTFLOW_TOKEN)";
  if (err.status === 403 && err.code === "forbidden")
    return target?.local ? " (admin commands need --admin)" : " (admin commands need an admin's token)";
  return "";
}

/**
 * Runs `castflow <argv>` and answers its exit code: 0 success, 1 a failed command or execution,
 * 2 a usage error. Commands are plain functions of a Context (commands/*.ts); this only wires
 * commander to them.
 */
export async function runCli(argv: readonly string[], io: Io, options: RunOptions = {}): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  let target: Target | undefined;

  const program = new Command("castflow")
    .description(
      "castflow's command line: sessions, go-live and stop with live progress, restream destinations, " +
        "persistent channels (admins), why an execution failed, and a watch of what changes. " +
        "Talks to the local runtime (npm start) by default, or to a deployed API with --api and --token.",
    )
    .option("--api <url>", "a deployed castflow API (default: the local runtime; env CASTFLOW_API)")
    .option("--token <token>", "the bearer token for --api (env CASTFLOW_TOKEN)")
    .option("--user <userId>", "local runtime: whom the dev token is for", DEFAULT_USER)
    .option("--admin", "local runtime: an admin's dev token (channels commands need it)")
    .option("--json", "print the final JSON answer only, for scripts")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    })
    .showHelpAfterError("(castflow --help lists the commands)")
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 the command or its execution failed, 2 usage error.\n" +
        "Commands that start an execution follow it to its end (--no-wait: print its ARN and return).",
    );

  /** Runs a command with its Context; its exit code becomes the CLI's. */
  const act =
    <A extends unknown[]>(run: (ctx: Context, ...args: A) => Promise<ExitCode>) =>
    async (...args: A) => {
      const command = args.at(-1) as Command;
      const g = command.optsWithGlobals<GlobalOptions>();
      target =
        options.target ??
        resolveTarget({ api: g.api, token: g.token, user: g.user, admin: g.admin === true }, io.env);
      const ctx: Context = {
        client: new ApiClient(target, options.signal),
        io,
        json: g.json === true,
        pollMs: options.pollMs ?? (target.local ? 250 : 1000),
        ...(options.signal ? { signal: options.signal } : {}),
      };
      code = await run(ctx, ...args);
    };
  const noWait = (c: Command) => c.option("--no-wait", "return at once with the execution's ARN and name");
  type Opts<T> = T & Record<string, unknown>;

  // --- sessions ---
  const sessions = program
    .command("sessions")
    .description("list | create | show | end: a host's studio sessions");
  sessions
    .command("list")
    .description("your sessions, newest first (admins: everyone's)")
    .addOption(new Option("--status <status>", "only these").choices(["active", "ending", "ended"]))
    .option("--host <userId>", "admins: one host's sessions")
    .option("--limit <n>", "a page of at most n (1-100, default 20)", positiveNumber)
    .option("--all", "every page")
    .action(
      act((ctx, o: Opts<{ status?: string; host?: string; limit?: number; all?: boolean }>) =>
        listSessions(ctx, o),
      ),
    );
  sessions
    .command("create")
    .description("a new session (claims your persistent channel)")
    .requiredOption("--show <showId>", "the show it belongs to")
    .option("--episode <episodeId>", "the episode")
    .action(act((ctx, o: Opts<{ show: string; episode?: string }>) => createSession(ctx, o)));
  sessions
    .command("show")
    .description("one session: status, streaming, playback, its executions")
    .argument("<sessionId>")
    .action(act((ctx, id: string) => showSession(ctx, id)));
  noWait(
    sessions
      .command("end")
      .description("end a session: releases its channel and resources (end-session, followed)")
      .argument("<sessionId>"),
  ).action(act((ctx, id: string, o: Opts<{ wait: boolean }>) => endSession(ctx, id, o)));

  noWait(
    program
      .command("go-live")
      .description("start streaming a session (go-live, followed with live progress)")
      .argument("<sessionId>"),
  ).action(act((ctx, id: string, o: Opts<{ wait: boolean }>) => goLive(ctx, id, o)));
  noWait(
    program
      .command("stop")
      .description("stop streaming a session (stop-streaming, followed)")
      .argument("<sessionId>"),
  ).action(act((ctx, id: string, o: Opts<{ wait: boolean }>) => stopStreaming(ctx, id, o)));

  // --- destinations ---
  const destinations = program
    .command("destinations")
    .description("list | show | add | start | stop | rm: restream destinations (YouTube, Twitch, ...)");
  destinations
    .command("list")
    .description("your destinations (admins: everyone's)")
    .option("--source <sourceId>", "only on this source")
    .option("--include-deleted", "deleted ones too")
    .action(act((ctx, o: Opts<{ source?: string; includeDeleted?: boolean }>) => listDestinations(ctx, o)));
  destinations
    .command("show")
    .description("one destination (never its key)")
    .argument("<destinationId>")
    .action(act((ctx, id: string) => showDestination(ctx, id)));
  noWait(
    destinations
      .command("add")
      .summary("add a destination (destination-add, followed)")
      .description(
        "Add a destination (destination-add, followed). The stream key is read from standard input " +
          "(--stream-key -, or piped) or CASTFLOW_STREAM_KEY, so it stays out of shell history; " +
          "a backup key from CASTFLOW_BACKUP_STREAM_KEY. Keys are never printed.",
      )
      .requiredOption("--name <name>", "what you call it")
      .addOption(
        new Option("--platform <platform>", "where it goes").choices(PLATFORMS).makeOptionMandatory(),
      )
      .requiredOption("--source <sourceId>", "the source it restreams")
      .option("--stream-key <key>", 'the platform\'s stream key, or "-" to read it from standard input')
      .option("--rtmp-url <url>", "ingest URL (custom platforms; others have a default)")
      .addOption(new Option("--preset <preset>", "the encode").choices(PRESETS))
      .option("--backup-rtmp-url <url>", "backup ingest URL (key in CASTFLOW_BACKUP_STREAM_KEY)")
      .option("--failover", "fail over to the backup automatically when the platform refuses the stream"),
  ).action(act((ctx, o: Opts<Parameters<typeof addDestination>[1]>) => addDestination(ctx, o)));
  for (const [name, action, description] of [
    ["start", "start", "start pushing (destination-start, followed)"],
    ["stop", "stop", "stop pushing (destination-stop, followed)"],
    ["rm", "rm", "delete it and everything it created (destination-delete, followed)"],
  ] as const) {
    noWait(destinations.command(name).description(description).argument("<destinationId>")).action(
      act((ctx, id: string, o: Opts<{ wait: boolean }>) => destinationAction(ctx, action, id, o)),
    );
  }

  // --- channels (admins) ---
  const channels = program
    .command("channels")
    .description("list | show | create | rm: persistent host channels (admins: --admin locally)");
  channels
    .command("list")
    .description("the channel registry")
    .action(act((ctx) => listChannels(ctx)));
  channels
    .command("show")
    .description("one channel")
    .argument("<channelId>")
    .action(act((ctx, id: string) => showChannel(ctx, id)));
  channels
    .command("create")
    .description("a persistent IVS channel, assigned to a host if given")
    .option("--name <name>", "its name (letters, digits, _ and -)")
    .option("--host <userId>", "assign it to this host")
    .action(act((ctx, o: Opts<{ name?: string; host?: string }>) => createChannel(ctx, o)));
  channels
    .command("rm")
    .description("delete a channel (refused while LIVE)")
    .argument("<channelId>")
    .action(act((ctx, id: string) => deleteChannel(ctx, id)));

  // --- executions ---
  program
    .command("why")
    .summary("why the last execution failed: failed state, error, cause, compensation")
    .description(
      "Why the last execution failed: the state it failed in, the error and its cause, the retries before, " +
        "the path that led there and what the compensation did. Give an execution ARN or name, or a " +
        "session or destination id (its newest execution that did not succeed).",
    )
    .argument("<id>", "executionArn, executionName, sessionId or destinationId")
    .action(act((ctx, id: string) => why(ctx, id)));
  program
    .command("follow")
    .description("follow a running execution with live progress (as go-live does)")
    .argument("<execution>", "executionArn or executionName")
    .action(act(async (ctx, id: string) => report(ctx, await follow(ctx, id))));
  program
    .command("watch")
    .summary("a line per lifecycle change of your sessions and destinations")
    .description(
      "Print a line per lifecycle change of your sessions and destinations: a status that moved, an " +
        "error recorded, an execution started. It polls the lists, so two changes between polls show " +
        "as one. --json: one JSON object per line.",
    )
    .option("--interval <seconds>", "seconds between polls (default 1 locally, 2 deployed)", positiveNumber)
    .option("--for <seconds>", "stop after this long (default: until Ctrl-C)", positiveNumber)
    .action(
      act((ctx, o: Opts<{ interval?: number; for?: number }>) =>
        watch(
          {
            ...ctx,
            pollMs: o.interval
              ? o.interval * 1000
              : (options.pollMs ?? (ctx.client.target.local ? 1000 : 2000)),
          },
          o.for ? { forMs: o.for * 1000 } : {},
        ),
      ),
    );

  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof UsageError) {
      io.err(`castflow: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof ApiFailure) {
      io.err(`castflow: ${err.status} ${err.code}: ${err.message}${hint(err, target)}`);
      return EXIT.failed;
    }
    if (err instanceof CliError) {
      io.err(`castflow: ${err.message}`);
      return EXIT.failed;
    }
    if (options.signal?.aborted) return EXIT.failed;
    io.err(`castflow: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.failed;
  }
}
