/**
 * EventBridge event pattern matching, for the local event bus: the rules the stack deploys are
 * matched here exactly as EventBridge would match them. Supported: literal values (strings,
 * numbers, booleans, null), `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`
 * (a value, a list, or `{prefix}`/`{suffix}`), `numeric`, `exists`, and `$or`. An operator outside
 * this list is refused when the rule is loaded (`checkPattern`), never silently ignored.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type EventPattern = { [k: string]: Json };

const OPERATORS = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "numeric",
  "exists",
]);

const isObject = (v: unknown): v is { [k: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Throws naming the path of the first construct the local bus cannot match as EventBridge does. */
export function checkPattern(pattern: Json, path = "pattern"): void {
  if (!isObject(pattern)) throw new Error(`${path}: an event pattern must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = `${path}.${key}`;
    if (key === "$or") {
      if (!Array.isArray(value)) throw new Error(`${at}: must be a list of patterns`);
      for (const [i, alt] of value.entries()) checkPattern(alt, `${at}[${i}]`);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new Error(`${at}: a pattern list must not be empty`);
      for (const item of value) {
        if (isObject(item) && !validMatcher(item))
          throw new Error(`${at}: the local event bus does not support the matcher ${JSON.stringify(item)}`);
      }
    } else if (isObject(value)) checkPattern(value, at);
    else throw new Error(`${at}: a pattern value must be a list or an object`);
  }
}

const isScalar = (v: Json): boolean => v === null || typeof v !== "object";

/** One operator with an argument of the shape EventBridge accepts for it. */
function validMatcher(item: { [k: string]: Json }): boolean {
  const [op, ...more] = Object.keys(item);
  if (!op || more.length > 0 || !OPERATORS.has(op)) return false;
  const arg = item[op] as Json;
  switch (op) {
    case "exists":
      return typeof arg === "boolean";
    case "numeric":
      return Array.isArray(arg) && arg.length % 2 === 0 && arg.length > 0;
    case "anything-but":
      if (Array.isArray(arg)) return arg.every(isScalar);
      if (isObject(arg)) {
        const [inner, ...rest] = Object.keys(arg);
        return (
          rest.length === 0 &&
          ["prefix", "suffix", "equals-ignore-case"].includes(inner ?? "") &&
          typeof arg[inner as string] === "string"
        );
      }
      return true;
    default:
      return typeof arg === "string";
  }
}

function wildcard(glob: string, value: string): boolean {
  const re = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${re}$`).test(value);
}

function numeric(conditions: Json[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = Number(conditions[i + 1]);
    const ok =
      (op === "=" && value === bound) ||
      (op === "<" && value < bound) ||
      (op === "<=" && value <= bound) ||
      (op === ">" && value > bound) ||
      (op === ">=" && value >= bound);
    if (!ok) return false;
  }
  return true;
}

/** Does one leaf value of the event match one item of a pattern list? */
function matchesItem(item: Json, value: Json): boolean {
  if (!isObject(item)) return item === value;
  const [op] = Object.keys(item) as [string];
  const arg = item[op] as Json;
  const text = typeof value === "string" ? value : undefined;
  switch (op) {
    case "prefix":
      return text?.startsWith(String(arg)) === true;
    case "suffix":
      return text?.endsWith(String(arg)) === true;
    case "equals-ignore-case":
      return text !== undefined && text.toLowerCase() === String(arg).toLowerCase();
    case "wildcard":
      return text !== undefined && wildcard(String(arg), text);
    case "numeric":
      return typeof value === "number" && Array.isArray(arg) && numeric(arg, value);
    case "anything-but": {
      if (Array.isArray(arg)) return !arg.includes(value);
      if (isObject(arg)) return !matchesItem(arg, value);
      return value !== arg;
    }
    default:
      return false;
  }
}

/** Does the leaf's values (none when the event does not have it) match the pattern list? */
function matchesList(list: Json[], values: Json[]): boolean {
  return list.some((item) => {
    if (isObject(item) && "exists" in item) return item.exists === values.length > 0;
    return values.some((v) => matchesItem(item, v));
  });
}

/**
 * The event's leaf values at a path, as EventBridge sees them once it has flattened the event:
 * arrays (of values or of objects) contribute each element, an object is no leaf, a missing field
 * gives none.
 */
function leafValues(value: unknown, path: readonly string[]): Json[] {
  if (Array.isArray(value)) return value.flatMap((v) => leafValues(v, path));
  if (path.length === 0) return value === undefined || isObject(value) ? [] : [value as Json];
  if (!isObject(value)) return [];
  const [head, ...rest] = path as [string, ...string[]];
  return leafValues(value[head], rest);
}

function matchesAt(pattern: EventPattern, event: unknown, path: readonly string[]): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === "$or") {
      const alternatives = expected as Json[];
      if (!alternatives.some((alt) => matchesAt(alt as EventPattern, event, path))) return false;
    } else if (Array.isArray(expected)) {
      if (!matchesList(expected, leafValues(event, [...path, key]))) return false;
    } else if (isObject(expected)) {
      if (!matchesAt(expected, event, [...path, key])) return false;
    } else return false;
  }
  return true;
}

/** Whether `event` matches `pattern`, as an EventBridge rule would decide (on the flattened event). */
export function matchesPattern(pattern: EventPattern, event: { [k: string]: unknown }): boolean {
  return matchesAt(pattern, event, []);
}
