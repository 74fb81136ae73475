import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseWaitMode, type WaitMode } from "#state-machines/workflow/waits.ts";
import { STATE_DIR } from "./paths.ts";
import type { PortInUseError } from "./runtime.ts";

/**
 * `npm start`: the embedded local runtime. Its options and environment are USAGE's (what
 * `npm start -- --help` prints); an unknown option is refused with it and exit code 2.
 */
const USAGE = `usage: npm start -- [options]

Runs castflow on the embedded local runtime (DynamoDB Local, the AWS simulator, Step Functions,
the HTTP API and the console) on 127.0.0.1, with its state in .castflow/.

Options:
  --clean                    start from empty state (deletes .castflow/)
  --api-port N               API port (default 4566); --sfn-port (4567), --simulator-port (4568),
                             --dynamodb-port (4569) likewise
  --console-port N           the console's port (default 4570)
  --demo-host ID             host given a persistent channel at start, if it has none (default host-1;
                             --demo-host "" for none)
  --legacy-program-channels  hosts without a channel get a program channel per session (default: off,
                             as in the deployed stack, where they get 403)
  --waits events|polling     how lifecycles wait for MediaLive: on its state-change events with a
                             describe fallback (default, as deployed), or by polling (castflow:waits)
  --help                     print this and exit

Environment: CASTFLOW_TIME_SCALE (default 0.05), CASTFLOW_RECONCILE_MINUTES (reconcile's rate,
0 for none), POWERTOOLS_LOG_LEVEL (task logs; default WARN here, so the execution lines stay
readable: INFO shows every task's own log).`;

/** The option that moves each port (what a port in use asks to change). */
const PORT_OPTIONS: Record<PortInUseError["service"], string> = {
  api: "--api-port",
  sfn: "--sfn-port",
  simulator: "--simulator-port",
  dynamodb: "--dynamodb-port",
  console: "--console-port",
};

function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const parseOptions = () =>
  parseArgs({
    options: {
      clean: { type: "boolean", default: false },
      "api-port": { type: "string", default: "4566" },
      "sfn-port": { type: "string", default: "4567" },
      "simulator-port": { type: "string", default: "4568" },
      "dynamodb-port": { type: "string", default: "4569" },
      "console-port": { type: "string", default: "4570" },
      "demo-host": { type: "string", default: "host-1" },
      "legacy-program-channels": { type: "boolean", default: false },
      waits: { type: "string", default: "events" },
      help: { type: "boolean", default: false },
    },
  });
let values: ReturnType<typeof parseOptions>["values"];
try {
  ({ values } = parseOptions());
} catch (err) {
  // node names the option ("Unknown option '--api-prot'. To specify..."): its first sentence.
  usageError(err instanceof Error ? (err.message.split(". ")[0] ?? err.message) : String(err));
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
// Task logs: warnings and errors unless asked for more (set before any logger is made).
process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
// Loaded once the options are known: the runtime's modules (the CDK stack among them) take seconds.
const { DEFAULT_TIME_SCALE, PortInUseError: PortInUse, startLocalRuntime } = await import("./runtime.ts");

const port = (name: string, raw: string | undefined) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${name} must be a port number, got ${raw}`);
    process.exit(2);
  }
  return n;
};

let waits: WaitMode = "events";
try {
  waits = parseWaitMode(values.waits, "--waits");
} catch (err) {
  usageError((err as Error).message);
}

if (values.clean) rmSync(STATE_DIR, { recursive: true, force: true });

const runtime = await startLocalRuntime({
  stateDir: STATE_DIR,
  legacyProgramChannels: values["legacy-program-channels"],
  waits,
  // One line per execution started, succeeded or failed.
  executionLog: true,
  // The deployed stack's schedules (reconcile every 5 minutes), at the time scale.
  schedules:
    process.env.CASTFLOW_RECONCILE_MINUTES === undefined
      ? true
      : { reconcile: Number(process.env.CASTFLOW_RECONCILE_MINUTES) },
  ports: {
    api: port("api-port", values["api-port"]),
    sfn: port("sfn-port", values["sfn-port"]),
    simulator: port("simulator-port", values["simulator-port"]),
    dynamodb: port("dynamodb-port", values["dynamodb-port"]),
    console: port("console-port", values["console-port"]),
  },
}).catch((err: unknown) => {
  if (!(err instanceof PortInUse)) throw err;
  console.error(
    `port ${err.port} is in use: pass ${PORT_OPTIONS[err.service]} N (or stop what listens there: another castflow?)`,
  );
  process.exit(1);
});
const { api, sfn, simulator, dynamodb, console: consoleUrl } = runtime.endpoints;

/**
 * The demo host gets a persistent channel through the admin API, as an operator would give one
 * (the deployed stack refuses sessions to hosts without one): the quick start works at once.
 */
async function provisionDemoHost(host: string): Promise<string> {
  const admin = await runtime.token("castflow-local-admin", { admin: true });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const existing = await call("GET", `/hosts/${encodeURIComponent(host)}/channel`);
  const channel =
    existing.status === 200
      ? (existing.body.channel as Record<string, unknown> | undefined)
      : (await call("POST", "/admin/channels", { name: host, hostUserId: host })).body;
  return `${host} streams to persistent channel ${String(channel?.channelId)} (playback ${String(channel?.playbackUrl)})`;
}
const settledLines = runtime.settled.map(
  (x) =>
    `  ${x.aborted.split(":").at(-1)} was aborted by the restart: ${x.settledBy ? `settling it with ${x.settledBy.split(":").at(-1)}` : `not settled (${x.error ?? "its lifecycle declares nothing to settle it"})`}`,
);
const demoHost = values["demo-host"];
const demoLine = demoHost ? await provisionDemoHost(demoHost) : 'no demo host (--demo-host "")';
const scale = runtime.timeScale;
console.log(`castflow local runtime is up (time scale ${scale}${scale === DEFAULT_TIME_SCALE ? ", the default" : ""})

  API          ${api}
  Step Functions ${sfn}
  Simulator    ${simulator}   (MediaLive, IVS, MediaConnect, SSM; GET /_sim/resources)
  DynamoDB     ${dynamodb}
  Console      ${consoleUrl}   (sessions, executions drawn on their state machines, faults)
  State        ${STATE_DIR}  (endpoints in ${join(STATE_DIR, "local.json")})

Demo host    ${demoLine}
${settledLines.length ? `\nExecutions of the previous run:\n${settledLines.join("\n")}\n` : ""}
Try this (in another terminal):
  TOKEN=$(npm run -s dev-token -- ${demoHost || "host-1"})
  curl -s -X POST ${api}/sessions -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"showId":"demo"}'
  curl -s -X POST ${api}/sessions/<sessionId>/streaming/start -H "authorization: Bearer $TOKEN"
  curl -s ${api}/executions/<executionName or url-encoded executionArn> -H "authorization: Bearer $TOKEN"
  curl -s ${api}/sessions/<sessionId> -H "authorization: Bearer $TOKEN"
  curl -s ${api}/sessions -H "authorization: Bearer $TOKEN"
  curl -s -X POST ${api}/sessions/<sessionId>/streaming/stop -H "authorization: Bearer $TOKEN"
  curl -s -X DELETE ${api}/sessions/<sessionId> -H "authorization: Bearer $TOKEN"
  curl -s ${simulator}/_sim/resources

Restream destinations (an admin registers a source, a host adds a destination on it):
  ADMIN=$(npm run -s dev-token -- ops --admin)
  curl -s -X POST ${api}/admin/sources -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' -d '{"name":"studio","protocol":"srt-listener"}'
  curl -s -X POST ${api}/destinations -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"YouTube","platform":"youtube","sourceId":"<sourceId>","streamKey":"abcd-efgh-ijkl-mnop-qrst"}'
  curl -s -X POST ${api}/destinations/<destinationId>/start -H "authorization: Bearer $TOKEN"
  curl -s ${simulator}/_sim/ingest

  AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
    aws stepfunctions list-executions --endpoint-url ${sfn} --state-machine-arn ${runtime.stateMachineArns["go-live"]}

Executions print one line each below as they start and end. Ctrl-C stops everything.`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping castflow local runtime...");
  await runtime.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
