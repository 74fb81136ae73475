/** Rows as aligned columns under a header; an empty list says so instead. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  empty: string,
): string[] {
  if (rows.length === 0) return [empty];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `key: value` lines for the fields that are set, keys aligned. */
export function fields(pairs: readonly (readonly [string, unknown])[]): string[] {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== null && v !== "");
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${String(v)}`);
}

/** A field of an answer, read without trusting its shape. */
export function at(value: unknown, path: string): unknown {
  let v: unknown = value;
  for (const key of path.split(".")) {
    if (!v || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export const str = (value: unknown, path: string): string => {
  const v = at(value, path);
  return v === undefined || v === null ? "" : String(v);
};

/** The execution name at the end of an execution ARN. */
export const executionNameOf = (arn: string) => arn.split(":").at(-1) ?? arn;
