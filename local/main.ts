import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { STATE_DIR } from "./paths.ts";
import { DEFAULT_TIME_SCALE, startLocalRuntime } from "./runtime.ts";

/**
 * `npm start`: the embedded local runtime. Options:
 *   --clean            start from empty state (deletes .castflow/)
 *   --api-port N       API port (default 4566); --sfn-port, --simulator-port, --dynamodb-port likewise
 * Environment: CASTFLOW_TIME_SCALE (default 0.05), POWERTOOLS_LOG_LEVEL (task logs; default INFO).
 */
const { values } = parseArgs({
  options: {
    clean: { type: "boolean", default: false },
    "api-port": { type: "string", default: "4566" },
    "sfn-port": { type: "string", default: "4567" },
    "simulator-port": { type: "string", default: "4568" },
    "dynamodb-port": { type: "string", default: "4569" },
  },
});

const port = (name: string, raw: string | undefined) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${name} must be a port number, got ${raw}`);
    process.exit(2);
  }
  return n;
};

if (values.clean) rmSync(STATE_DIR, { recursive: true, force: true });

const runtime = await startLocalRuntime({
  stateDir: STATE_DIR,
  ports: {
    api: port("api-port", values["api-port"]),
    sfn: port("sfn-port", values["sfn-port"]),
    simulator: port("simulator-port", values["simulator-port"]),
    dynamodb: port("dynamodb-port", values["dynamodb-port"]),
  },
});
const { api, sfn, simulator, dynamodb } = runtime.endpoints;
const scale = runtime.timeScale;
console.log(`castflow local runtime is up (time scale ${scale}${scale === DEFAULT_TIME_SCALE ? ", the default" : ""})

  API          ${api}
  Step Functions ${sfn}
  Simulator    ${simulator}   (MediaLive, IVS, SSM; GET /_sim/resources)
  DynamoDB     ${dynamodb}
  State        ${STATE_DIR}  (endpoints in ${join(STATE_DIR, "local.json")})

Try this (in another terminal):
  TOKEN=$(npm run -s dev-token -- host-1)
  curl -s -X POST ${api}/sessions -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"showId":"demo"}'
  curl -s -X POST ${api}/sessions/<sessionId>/streaming/start -H "authorization: Bearer $TOKEN"
  curl -s ${api}/executions/<url-encoded executionArn> -H "authorization: Bearer $TOKEN"
  curl -s ${api}/sessions/<sessionId> -H "authorization: Bearer $TOKEN"
  curl -s -X POST ${api}/sessions/<sessionId>/streaming/stop -H "authorization: Bearer $TOKEN"
  curl -s ${simulator}/_sim/resources
  aws stepfunctions list-executions --endpoint-url ${sfn} --state-machine-arn ${runtime.stateMachineArns["go-live"]}

Ctrl-C stops everything.`);

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
