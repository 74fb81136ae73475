/**
 * The benches' HTTP caller: the runtime's API with a bearer token, answering status and body
 * (the benches read a few known fields of it).
 */
export function apiCaller(apiUrl: string, defaultToken: string) {
  return async (method: string, path: string, body?: unknown, token = defaultToken) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: bench reads a few known fields
    return { status: res.status, body: (await res.json()) as any };
  };
}

/** The median of `xs` (the mean of the middle two for an even count); 0 for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
