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
