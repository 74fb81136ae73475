/**
 * `npm run bench` (after reconcile.ts): how long a cold start of each deployable function takes to
 * load its code, next to a bare node start measured in the same run.
 *
 * Builds the artifacts with esbuild directly, with the options NodejsFunction passes it for
 * CastflowFunction's `BUNDLING` (infra/task-function.ts) and for the alternatives below, into a
 * temporary directory laid out as Lambda's /var/task (`<function>/index.js` or `index.mjs`, and
 * its map). Then times whole processes: `node load.mjs <artifact>` loads the artifact as the
 * Node.js 22 Lambda runtime does (require() for `.js`, import() for `.mjs`), checks that it
 * exports `handler` and exits. An artifact that leaves the SDK external resolves `@aws-sdk/*` from
 * the project's node_modules, as it would the runtime's own copy; a bundled one has no
 * node_modules to fall back on.
 *
 * The deployed variant is measured for every function; the alternatives for three tasks with
 * different SDK clients (MediaLive, IVS, DynamoDB), and a floor: a function that only sends one
 * DynamoDB GetItem, bundled the deployed way. Samples of all variants and of the bare node
 * start are interleaved in shuffled rounds, so a load spike on the machine hits them alike.
 * BENCH_RUNS rounds (default 3), medians. It prints figures; it asserts nothing.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import { type BuildOptions, build, version as esbuildVersion } from "esbuild";
import { median } from "#bench/api.ts";
import { BUNDLING, PROJECT_ROOT } from "#infra/task-function.ts";
import { stackDefinitions } from "#local/definitions.ts";

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
/** Tasks the alternatives are measured on: one per SDK client, so tree-shaking shows per client. */
const SUBSET = [
  ["describe-channel", "MediaLive"],
  ["confirm-program-channel", "IVS"],
  ["claim-session", "DynamoDB"],
] as const;

const started = performance.now();

/** NodejsFunction bundling options, plus what the function's environment adds at run time. */
type Bundling = nodejs.BundlingOptions & { readonly nodeOptions?: string };
interface Variant {
  readonly label: string;
  readonly bundling: Bundling;
  /** What CastflowFunction deploys: measured for every function, not only the subset. */
  readonly deployed: boolean;
}

const MAPS_ON = "--enable-source-maps";
const { ESM, CJS } = nodejs.OutputFormat;
const deployed: Bundling = {
  ...BUNDLING,
  mainFields: [...BUNDLING.mainFields],
  define: { ...BUNDLING.define },
};
/** An ESM bundle gets require() from a banner, as castflow's did (some dependencies call it). */
const ESM_BANNER =
  "import { createRequire as __cfCreateRequire } from 'node:module'; const require = __cfCreateRequire(import.meta.url);";
const esm: Bundling =
  deployed.format === ESM ? deployed : { ...deployed, format: ESM, define: {}, banner: ESM_BANNER };
/** CommonJS has no import.meta: tasks name their entry with import.meta.url (see BUNDLING). */
const cjs: Bundling =
  deployed.format === CJS
    ? deployed
    : {
        ...deployed,
        format: CJS,
        define: { "import.meta.url": "__cfImportMetaUrl" },
        banner: "const __cfImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
      };
/** What CastflowFunction deployed before this bench: the SDK from the runtime, source maps enabled. */
const before: Bundling = {
  ...esm,
  bundleAwsSDK: false,
  sourceMap: true,
  sourcesContent: true,
  nodeOptions: MAPS_ON,
};

const labelOf = (b: Bundling) =>
  [
    b.externalModules?.length || !b.bundleAwsSDK ? "sdk external" : "sdk bundled",
    b.format === ESM ? "esm" : "cjs",
    ...(b.minify ? [] : ["not minified"]),
    ...(b.mainFields?.[0] === "module" ? [] : ["main fields default"]),
    ...(b.nodeOptions === MAPS_ON ? ["maps on"] : []),
  ].join(", ");
const VARIANTS: Variant[] = [];
for (const bundling of [
  before,
  { ...esm, bundleAwsSDK: false },
  { ...esm, nodeOptions: MAPS_ON },
  esm,
  { ...cjs, nodeOptions: MAPS_ON },
  cjs,
  { ...deployed, minify: false },
  { ...deployed, mainFields: undefined },
]) {
  const isDeployed = bundling === deployed;
  const label = `${labelOf(bundling)}${bundling === before ? " (before)" : isDeployed ? " (deployed)" : ""}`;
  if (!VARIANTS.some((v) => v.label === label)) VARIANTS.push({ label, bundling, deployed: isDeployed });
}

/** What NodejsFunction's bundling.js passes esbuild for these options (its `buildEsbuildArgs`). */
function esbuildOptions(b: Bundling): BuildOptions {
  return {
    bundle: true,
    platform: "node",
    target: b.target ?? "node22",
    format: b.format === ESM ? "esm" : "cjs",
    outExtension: { ".js": b.format === ESM ? ".mjs" : ".js" },
    minify: b.minify ?? false,
    sourcemap: b.sourceMap ?? false,
    sourcesContent: b.sourcesContent ?? true,
    external: b.externalModules ?? (b.bundleAwsSDK ? [] : ["@aws-sdk/*"]),
    ...(b.mainFields ? { mainFields: b.mainFields } : {}),
    ...(b.define && Object.keys(b.define).length > 0 ? { define: b.define } : {}),
    ...(b.banner ? { banner: { js: b.banner } } : {}),
    logLevel: "silent",
  };
}

// Every function the stack deploys: the tasks its machines and reactions use, and the API.
const functions: [string, string][] = [
  ...[...stackDefinitions().functions.values()].map((t): [string, string] => [t.name, t.entry]),
  ["api", join(PROJECT_ROOT, "api/handler.ts")],
];
const entryOf = new Map(functions);
for (const [name] of SUBSET) if (!entryOf.has(name)) throw new Error(`No deployed task is named ${name}`);

/** The process's own CPU time so far (user + system, every thread), in ms, on stdout. */
const PRINT_CPU =
  "{ const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000)); }";

const dir = mkdtempSync(join(tmpdir(), "castflow-cold-start-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const loader = join(dir, "load.mjs");
// The Node.js 22 runtime's loader (UserFunction.js) require()s `index.js` (no package.json says
// "type": "module") and import()s `index.mjs`; the runtime itself is an ES module.
writeFileSync(
  loader,
  [
    'import { createRequire } from "node:module";',
    "const file = process.argv[2];",
    'const mod = file.endsWith(".mjs") ? await import(file) : createRequire(import.meta.url)(file);',
    'if (typeof mod.handler !== "function") {',
    '  console.error("Error: no handler export");',
    "  process.exit(2);",
    "}",
    PRINT_CPU,
    "process.exit(0);",
  ].join("\n"),
);

interface Artifact {
  readonly file: string;
  readonly bytes: number;
  readonly mapBytes: number;
}
/** Built artifacts by variant label, then function name. */
const artifacts = new Map<string, Map<string, Artifact>>();
/** Variants sharing one esbuild configuration share its build (maps on / off is only NODE_OPTIONS). */
const builds = new Map<string, Map<string, Artifact>>();
let buildMs = 0;
for (const [i, variant] of VARIANTS.entries()) {
  const options = esbuildOptions(variant.bundling);
  const names = variant.deployed ? functions.map(([n]) => n) : SUBSET.map(([n]) => n);
  const key = JSON.stringify(options);
  let built = builds.get(key);
  const missing = names.filter((n) => !built?.has(n));
  if (!built || missing.length > 0) {
    const out = join(dir, `v${i}`);
    mkdirSync(out);
    // Only artifacts that leave the SDK external may resolve packages (as from the runtime's node_modules).
    if ((options.external ?? []).length > 0)
      symlinkSync(join(PROJECT_ROOT, "node_modules"), join(out, "node_modules"));
    const t0 = performance.now();
    // One esbuild call for all entries: each output is still a separate bundle, as NodejsFunction's.
    await build({
      ...options,
      entryPoints: Object.fromEntries(missing.map((n) => [`${n}/index`, entryOf.get(n) as string])),
      outdir: out,
    });
    buildMs += performance.now() - t0;
    built ??= new Map();
    for (const n of missing) {
      const file = join(out, n, `index${options.outExtension?.[".js"]}`);
      const map = `${file}.map`;
      built.set(n, {
        file,
        bytes: statSync(file).size,
        mapBytes: options.sourcemap ? statSync(map).size : 0,
      });
    }
    builds.set(key, built);
  }
  artifacts.set(variant.label, built);
}

/**
 * A floor to read the figures against: a function that only sends one DynamoDB GetItem (the SDK's
 * Node.js HTTP handler, signer and credential chain, nothing of castflow's), bundled the deployed way.
 */
const FLOOR: Variant = {
  label: "floor: GetItem only, deployed bundling",
  bundling: deployed,
  deployed: false,
};
const FLOOR_NAME = "(dynamodb client)";
{
  const options = esbuildOptions(deployed);
  const file = join(dir, "floor", `index${options.outExtension?.[".js"]}`);
  const t0 = performance.now();
  await build({
    ...options,
    stdin: {
      contents: [
        'import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";',
        "const client = new DynamoDBClient({});",
        'export const handler = () => client.send(new GetItemCommand({ TableName: "t", Key: {} }));',
      ].join("\n"),
      resolveDir: PROJECT_ROOT,
      sourcefile: "floor.ts",
      loader: "ts",
    },
    outfile: file,
  });
  buildMs += performance.now() - t0;
  const mapBytes = options.sourcemap ? statSync(`${file}.map`).size : 0;
  artifacts.set(FLOOR.label, new Map([[FLOOR_NAME, { file, bytes: statSync(file).size, mapBytes }]]));
}

// --- measure ---

/** Only what a Lambda environment would have: no NODE_OPTIONS or NODE_PATH from this shell. */
const baseEnv = { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", LANG: "C.UTF-8" };
interface Sample {
  /** Wall time from spawn to exit. */
  readonly ms: number;
  /** CPU time the process reported (steadier than wall time on a busy machine). */
  readonly cpuMs: number;
}
function timeProcess(args: string[], nodeOptions?: string): Sample | { error: string } {
  const env = nodeOptions ? { ...baseEnv, NODE_OPTIONS: nodeOptions } : baseEnv;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status === 0) return { ms, cpuMs: Number(r.stdout) };
  const error = `${r.stderr}`.split("\n").find((l) => /^[A-Z]\w*Error\b/.test(l));
  return { error: error?.trim() ?? `exit ${r.status ?? r.signal}` };
}
/** A bare node start: `node -e` with only the CPU time print (what `node -e 0` does, plus one write). */
const bareProcess = () => timeProcess(["-e", PRINT_CPU]) as Sample;

interface Job {
  readonly variant: Variant;
  readonly name: string;
}
const jobs: Job[] = VARIANTS.flatMap((variant) =>
  [...(artifacts.get(variant.label)?.keys() ?? [])]
    .filter((name) => variant.deployed || SUBSET.some(([n]) => n === name))
    .map((name) => ({ variant, name })),
);
jobs.push({ variant: FLOOR, name: FLOOR_NAME });
const samples = new Map<string, Sample[]>();
const failures = new Map<string, string>();
const bare: Sample[] = [];
const jobKey = (j: Job) => `${j.variant.label}\u0000${j.name}`;
const run = (j: Job) => {
  const artifact = artifacts.get(j.variant.label)?.get(j.name) as Artifact;
  const r = timeProcess([loader, artifact.file], j.variant.bundling.nodeOptions);
  if ("error" in r) failures.set(jobKey(j), r.error);
  else samples.set(jobKey(j), [...(samples.get(jobKey(j)) ?? []), r]);
};

// Warm the page cache (node itself, the SDK in node_modules) before anything counts.
bareProcess();
for (const j of jobs.filter((j) => j.name === SUBSET[0][0])) run(j);
samples.clear();
failures.clear();

for (let round = 0; round < RUNS; round++) {
  // A bare start every few artifacts, in a shuffled order, so drift and spikes hit all alike.
  const order = [...jobs].sort(() => Math.random() - 0.5);
  for (const [i, j] of order.entries()) {
    if (i % 4 === 0) bare.push(bareProcess());
    if (failures.has(jobKey(j))) continue;
    run(j);
  }
}

// --- report ---

const bareMs = median(bare.map((s) => s.ms));
const bareCpuMs = median(bare.map((s) => s.cpuMs));
const kb = (bytes: number) => (bytes / 1024).toFixed(0);
const COLUMNS = "     KB  map KB   wall ms   x bare   cpu ms   x bare";
const row = (name: string, variant: Variant) => {
  const a = artifacts.get(variant.label)?.get(name) as Artifact;
  const failed = failures.get(`${variant.label}\u0000${name}`);
  const xs = samples.get(`${variant.label}\u0000${name}`) ?? [];
  const ms = median(xs.map((s) => s.ms));
  const cpuMs = median(xs.map((s) => s.cpuMs));
  const figures = failed
    ? `   fails on import: ${failed}`
    : `${ms.toFixed(0).padStart(10)}${(ms / bareMs).toFixed(2).padStart(9)}` +
      `${cpuMs.toFixed(0).padStart(9)}${(cpuMs / bareCpuMs).toFixed(2).padStart(9)}`;
  return { ms, cpuMs, failed, line: `${kb(a.bytes).padStart(7)}${kb(a.mapBytes).padStart(8)}${figures}` };
};

console.log(
  `\nCold start: node ${process.version}, esbuild ${esbuildVersion}, ${RUNS} round(s), medians; ` +
    `bare node start: ${bareMs.toFixed(0)} ms wall, ${bareCpuMs.toFixed(0)} ms cpu (${bare.length} samples, same run)`,
);
console.log(
  "wall ms: whole process from spawn to exit of `node load.mjs <artifact>` (imports the handler module, exits);\n" +
    "cpu ms: the CPU time that process reports at exit (steadier when the machine is busy); x bare: / bare node\n",
);
console.log(
  `Variants, on ${SUBSET.map(([n, c]) => `${n} (${c})`).join(", ")}\n` +
    "(maps on: NODE_OPTIONS=--enable-source-maps; 'before' also ships the sources in the map;\n" +
    " floor: a function that only sends one DynamoDB GetItem, for scale)\n",
);
console.log(`${"task".padEnd(25)}${"variant".padEnd(38)}${COLUMNS}`);
for (const [name] of SUBSET) {
  for (const variant of VARIANTS)
    console.log(`${name.padEnd(25)}${variant.label.padEnd(38)}${row(name, variant).line}`);
}
console.log(`${FLOOR_NAME.padEnd(25)}${FLOOR.label.padEnd(38)}${row(FLOOR_NAME, FLOOR).line}`);

const chosen = VARIANTS.find((v) => v.deployed) as Variant;
console.log(`\nEvery deployed function, ${chosen.label}\n`);
console.log(`${"function".padEnd(28)}${COLUMNS}`);
const all = functions.map(([name]) => ({ name, ...row(name, chosen) }));
for (const r of all) console.log(`${r.name.padEnd(28)}${r.line}`);
const ok = all.filter((r) => !r.failed);
const summary = (of: (r: (typeof all)[number]) => number, bareOf: number) => {
  const worst = ok.reduce((a, b) => (of(b) > of(a) ? b : a), ok[0] as (typeof ok)[number]);
  const over = all.filter((r) => r.failed || of(r) > 2 * bareOf);
  return (
    `median ${(median(ok.map(of)) / bareOf).toFixed(2)}x, worst ${worst.name} ${(of(worst) / bareOf).toFixed(2)}x, ` +
    `${over.length === 0 ? "every one <= 2x" : `${over.length} over 2x`}`
  );
};
if (ok.length > 0) {
  console.log(`\n${all.length} functions against a bare node start (goal: every task <= 2x)`);
  console.log(`  wall: ${summary((r) => r.ms, bareMs)}`);
  console.log(`  cpu:  ${summary((r) => r.cpuMs, bareCpuMs)}`);
}
console.log(
  `cold-start bench: ${((performance.now() - started) / 1000).toFixed(1)} s ` +
    `(esbuild ${(buildMs / 1000).toFixed(1)} s, ${jobs.length * RUNS + bare.length} processes)`,
);
