import { ApiFailure, CliError, UnreachableError } from "./errors.ts";
import { noLocalRuntime, type Target } from "./target.ts";

export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/** A JSON object of an answer, read field by field. */
export type Json = Record<string, unknown>;

/** The castflow HTTP API, as the CLI calls it: JSON in, JSON out, errors thrown as ApiFailure. */
export class ApiClient {
  constructor(
    readonly target: Target,
    private readonly signal?: AbortSignal,
  ) {}

  async call<T = Json>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.target.token()}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${this.target.api}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (err) {
      if (this.signal?.aborted) throw err;
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      if (this.target.local) throw noLocalRuntime(this.target.api, ` (${code})`);
      throw new UnreachableError(`cannot reach ${this.target.api}: ${code}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(`${method} ${path} answered ${res.status} with a body that is not JSON`);
    }
    if (res.status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)
        ?.error;
      throw new ApiFailure(
        res.status,
        error?.code ?? "error",
        error?.message ?? res.statusText,
        error?.details,
      );
    }
    return { status: res.status, body: parsed as T };
  }

  get<T = Json>(path: string) {
    return this.call<T>("GET", path);
  }
  post<T = Json>(path: string, body?: unknown) {
    return this.call<T>("POST", path, body);
  }
  delete<T = Json>(path: string) {
    return this.call<T>("DELETE", path);
  }
}

/** A path segment: ids and execution ARNs (whose colons the API expects URL-encoded). */
export const seg = (id: string) => encodeURIComponent(id);
