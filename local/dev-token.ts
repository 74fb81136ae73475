import { join } from "node:path";
import { parseArgs } from "node:util";
import { issueDevToken } from "./dev-issuer.ts";
import { STATE_DIR } from "./paths.ts";

const USAGE = `usage: npm run dev-token -- <userId> [--admin]

Prints a bearer token (ES256 JWT, valid 12 hours) for the local API, signed by the local issuer
(.castflow/dev-issuer.json).
  --admin   the token carries the admin group (admin routes)
  --help    prints this and exits`;

/**
 * `npm run dev-token -- <userId> [--admin]`: prints a bearer token for the local API. Unknown
 * options and a missing or second userId are refused with the usage and exit code 2.
 */
function fail(message: string): never {
  console.error(`dev-token: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: { admin: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // node's message names the option ("Unknown option '--admn'. To specify..."): its first sentence.
    return fail(err instanceof Error ? (err.message.split(". ")[0] ?? err.message) : String(err));
  }
}

const parsed = parse();
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [userId, ...extra] = parsed.positionals;
if (!userId) fail("a userId is required");
if (extra.length > 0)
  fail(`one userId only, got ${parsed.positionals.length}: ${parsed.positionals.join(" ")}`);
console.log(await issueDevToken(join(STATE_DIR, "dev-issuer.json"), userId, { admin: parsed.values.admin }));
