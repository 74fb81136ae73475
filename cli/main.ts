import { processIo } from "./io.ts";
import { runCli } from "./program.ts";

/** `castflow` (bin/castflow.mjs): Ctrl-C stops following or watching; a second one quits at once. */
const stop = new AbortController();
process.once("SIGINT", () => {
  stop.abort();
  process.once("SIGINT", () => process.exit(130));
});
// `castflow ... | head`: the reader has gone, so there is nobody left to tell.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});
process.exitCode = await runCli(process.argv.slice(2), processIo(), { signal: stop.signal });
