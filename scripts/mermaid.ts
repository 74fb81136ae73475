/**
 * Regenerates docs/state-machines.md: every lifecycle's state machine as a Mermaid flowchart,
 * drawn from the definitions the CDK stack synthesizes (the graphs the console draws).
 *
 *   npm run docs:graphs              # rewrite the file
 *   npm run docs:graphs -- --check   # exit 1 if it is stale (test/console/graph.test.ts checks it too)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderStateMachinesDoc, STATE_MACHINES_DOC } from "#local/console/mermaid.ts";
import { stackDefinitions } from "#local/definitions.ts";

const path = join(import.meta.dirname, "..", STATE_MACHINES_DOC);
const text = renderStateMachinesDoc(stackDefinitions().machines);
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // missing: stale
  }
  if (current !== text) {
    console.error(`${STATE_MACHINES_DOC} is stale: run npm run docs:graphs`);
    process.exit(1);
  }
  console.log(`${STATE_MACHINES_DOC} is up to date`);
} else {
  writeFileSync(path, text);
  console.log(`wrote ${STATE_MACHINES_DOC}`);
}
