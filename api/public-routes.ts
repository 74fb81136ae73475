/**
 * Routes anyone may call, without a token: the stack gives them no authorizer, the local server
 * checks no token, and the handler makes no caller. Its own module, so the stack does not load
 * the API's code to read it.
 */
export const PUBLIC_ROUTES = [{ method: "GET", path: "/health" }] as const;

/** Whether `method path` is a public route: exactly its path, as API Gateway matches a route. */
export function isPublicRoute(method: string, path: string): boolean {
  return PUBLIC_ROUTES.some((r) => r.method === method.toUpperCase() && r.path === path);
}
