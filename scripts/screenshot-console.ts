/**
 * Takes the README's screenshot of the console: a local runtime in memory (its own DynamoDB
 * Local), one go-live that succeeds and one that fails because MediaLive refuses StartChannel,
 * and headless Chromium on the failed go-live's execution page.
 *
 *   npx tsx scripts/screenshot-console.ts     # writes docs/console-execution.png
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const OUT = join(import.meta.dirname, "..", "docs");
// Task logs are read when the logger loads: set the level before importing the runtime.
process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
const { startLocalRuntime } = await import("#local/runtime.ts");
const { launchChromium } = await import("#test/console/chromium.ts");

const rt = await startLocalRuntime({ timeScale: 0.01 });
const browser = await launchChromium();
try {
  const admin = await rt.token("ops", { admin: true });
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${rt.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const goLive = async (host: string) => {
    await call("POST", "/admin/channels", admin, { name: host, hostUserId: host });
    const token = await rt.token(host);
    const session = await call("POST", "/sessions", token, { showId: "weekly" });
    const start = await call("POST", `/sessions/${String(session.sessionId)}/streaming/start`, token);
    const executionArn = String(start.executionArn);
    await rt.sfn.waitForExecution(executionArn, 60_000);
    return executionArn;
  };
  await goLive("host-1");
  await fetch(`${rt.endpoints.simulator}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ service: "medialive", operation: "StartChannel", error: "BadRequestException" }),
  });
  const failed = await goLive("host-2");

  mkdirSync(OUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${rt.endpoints.console}/#/execution/${encodeURIComponent(failed)}`);
  await page.locator('.node.failed[data-state="Start Channel"]').waitFor();
  await page.screenshot({ path: join(OUT, "console-execution.png") });
  console.log(`wrote ${join(OUT, "console-execution.png")}`);
} finally {
  await browser.close();
  await rt.stop();
}
