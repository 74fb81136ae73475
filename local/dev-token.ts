import { join } from "node:path";
import { issueDevToken } from "./dev-issuer.ts";
import { STATE_DIR } from "./paths.ts";

/** `npm run dev-token -- <userId> [--admin]`: prints a bearer token for the local API. */
const args = process.argv.slice(2);
const admin = args.includes("--admin");
const userId = args.find((a) => !a.startsWith("--"));
if (!userId) {
  console.error("usage: npm run dev-token -- <userId> [--admin]");
  process.exit(2);
}
console.log(await issueDevToken(join(STATE_DIR, "dev-issuer.json"), userId, { admin }));
