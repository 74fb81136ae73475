import { AwsError } from "./http.ts";

/** Offset-based pagination with an opaque token, enough for `nextToken`/`maxResults` loops. */
export function paginate<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  invalidTokenError: string,
  defaultMax: number,
): { page: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken) {
    const decoded = Number(
      Buffer.from(nextToken, "base64url")
        .toString("utf8")
        .replace(/^offset:/, ""),
    );
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new AwsError(invalidTokenError, 400, "The nextToken is invalid");
    start = decoded;
  }
  const max = maxResults && maxResults > 0 ? maxResults : defaultMax;
  const page = items.slice(start, start + max);
  const end = start + page.length;
  return end < items.length
    ? { page, nextToken: Buffer.from(`offset:${end}`).toString("base64url") }
    : { page };
}

/** A numeric query/body value, or undefined. */
export function toInt(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Math.trunc(Number(v));
  return undefined;
}
