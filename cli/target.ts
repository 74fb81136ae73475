import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "#local/paths.ts";
import { UnreachableError, UsageError } from "./errors.ts";

/** Where the CLI sends its requests, and the bearer token it sends. */
export interface Target {
  /** The API's base URL, without a trailing slash. */
  readonly api: string;
  /** The local runtime (a dev token made here), or a deployed API (a token given). */
  readonly local: boolean;
  token(): Promise<string>;
}

export interface TargetOptions {
  /** A deployed API (`--api`, or CASTFLOW_API); absent: the local runtime. */
  readonly api?: string | undefined;
  /** The deployed API's bearer token (`--token`, or CASTFLOW_TOKEN). */
  readonly token?: string | undefined;
  /** Local runtime only: the user the dev token is for (default host-1) and whether it is an admin. */
  readonly user?: string | undefined;
  readonly admin?: boolean | undefined;
}

/** The local runtime's API when `npm start` runs with its default ports. */
export const DEFAULT_LOCAL_API = "http://127.0.0.1:4566";
export const DEFAULT_USER = "host-1";

export const noLocalRuntime = (api: string, why = "") =>
  new UnreachableError(`no local runtime at ${api}${why}: start it with npm start, or pass --api`);

/**
 * The deployed API given by `--api` (with `--token` or CASTFLOW_TOKEN), else the local runtime
 * whose endpoints `npm start` wrote to `<state dir>/local.json`, with a dev token of its issuer
 * for `--user` (an admin with `--admin`), made on first use.
 */
export function resolveTarget(
  options: TargetOptions,
  env: Readonly<Record<string, string | undefined>>,
): Target {
  const api = options.api ?? env.CASTFLOW_API;
  if (api) {
    let url: URL;
    try {
      url = new URL(api);
    } catch {
      throw new UsageError(`--api must be a URL such as https://api.example.com, got ${JSON.stringify(api)}`);
    }
    const token = options.token ?? env.CASTFLOW_TOKEN;
    if (!token) throw new UsageError("--api needs a bearer token: pass --token or set CASTFLOW_TOKEN");
    return { api: url.toString().replace(/\/+$/, ""), local: false, token: async () => token };
  }
  const dir = stateDir(env);
  const endpointsFile = join(dir, "local.json");
  if (!existsSync(endpointsFile)) throw noLocalRuntime(DEFAULT_LOCAL_API, ` (no ${endpointsFile})`);
  let localApi: string;
  try {
    localApi = String((JSON.parse(readFileSync(endpointsFile, "utf8")) as { api?: unknown }).api ?? "");
    new URL(localApi);
  } catch {
    throw noLocalRuntime(DEFAULT_LOCAL_API, ` (${endpointsFile} names no API)`);
  }
  const issuerKeys = join(dir, "dev-issuer.json");
  const user = options.user ?? DEFAULT_USER;
  let token: Promise<string> | undefined;
  return {
    api: localApi.replace(/\/+$/, ""),
    local: true,
    token: () => {
      // Without the runtime's issuer key a new one would be made, which the runtime refuses.
      if (!existsSync(issuerKeys)) throw noLocalRuntime(localApi, ` (no ${issuerKeys})`);
      // Loaded on first use: the issuer pulls in the API's modules, which a deployed target never needs.
      token ??= import("#local/dev-issuer.ts").then(({ issueDevToken }) =>
        issueDevToken(issuerKeys, user, { admin: options.admin === true, expiresIn: "1h" }),
      );
      return token;
    },
  };
}
