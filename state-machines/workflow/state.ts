/**
 * The payload contract between a state machine and its tasks, checked by `tsc`.
 *
 * Each machine writes its state shape once, as a type built from its input and its tasks'
 * outputs (`TaskOutput<typeof someTask>`); `refs<State>()` then gives typed references into it:
 * `s.at("channel.channelId")` is a `Ref<string>` only if the state has that field, and a task
 * state accepts a payload only if every field matches the task's zod input (see `taskState`).
 */

declare const valueType: unique symbol;

/** A JSONPath reference to a value of type `T` in the state (or the context object). */
export interface Ref<T> {
  readonly path: string;
  /** Type-level only: the type of the value behind `path`. */
  readonly [valueType]?: T;
}

export const isRef = (value: unknown): value is Ref<unknown> =>
  typeof value === "object" && value !== null && "path" in value && Object.keys(value).length === 1;

type Prev = [never, 0, 1, 2, 3, 4, 5];
type Segment = string;

/** Every dotted path into `T`, to a depth of 5 (array/tuple elements by index: `parts.0.success`). */
export type PathOf<T, D extends number = 5> = [D] extends [never]
  ? never
  : T extends readonly unknown[]
    ? { [K in keyof T & `${number}`]: K | SubPath<K, T[K], D> }[keyof T & `${number}`]
    : T extends object
      ? { [K in keyof T & Segment]-?: K | SubPath<K, T[K], D> }[keyof T & Segment]
      : never;
type SubPath<K extends string, V, D extends number> =
  NonNullable<V> extends object ? `${K}.${PathOf<NonNullable<V>, Prev[D]>}` : never;

/** The type at a dotted path of `T`; a parent that may be null or absent makes the value so too. */
export type ValueAt<T, P extends string> = P extends `${infer K}.${infer Rest}`
  ? K extends keyof T
    ? ValueAt<NonNullable<T[K]>, Rest> | Extract<T[K], null | undefined>
    : never
  : P extends keyof T
    ? T[P]
    : never;

/** `a.b.0.c` -> `$.a.b[0].c` */
export function jsonPath(dotted: string): string {
  return `$${dotted
    .split(".")
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join("")}`;
}

declare const slotType: unique symbol;

/**
 * Where a task's result goes in the state: a field of type `T`. Only a result assignable to `T`
 * may be written there (`taskState` checks it against the task's output).
 */
export interface Slot<T> {
  readonly path: string;
  /** Type-level only (contravariant: a slot of `T` takes any value assignable to `T`). */
  readonly [slotType]?: (value: T) => void;
}

export interface StateRefs<S> {
  /** A reference to a field of the state. */
  at<P extends PathOf<S>>(path: P): Ref<ValueAt<S, P>>;
  /** A field of the state as the place a task's result goes. */
  slot<P extends PathOf<S>>(path: P): Slot<ValueAt<S, P>>;
  /** The JSONPath of a field (for Choice conditions and result paths). */
  path(path: PathOf<S>): string;
}

/** Typed references into a state of shape `S`. */
export function refs<S>(): StateRefs<S> {
  return {
    at: (path) => ({ path: jsonPath(path) }),
    slot: (path) => ({ path: jsonPath(path) }),
    path: (path) => jsonPath(path),
  };
}

/** The execution's own ARN and name (context object), as every task that writes to a record needs them. */
export const EXECUTION = {
  executionArn: { path: "$$.Execution.Id" } as Ref<string>,
  executionName: { path: "$$.Execution.Name" } as Ref<string>,
} as const;

/** When the execution started (ISO 8601, context object): the same for every retry of a state. */
export const EXECUTION_START_TIME = { path: "$$.Execution.StartTime" } as Ref<string>;

/** A payload field: a literal value of the input's type, or a reference to one; an array of either. */
export type PayloadValue<T> = T | Ref<T> | (T extends readonly (infer E)[] ? readonly Ref<E>[] : never);

/** What a task state may pass for a task input `I`: exactly its fields, each a value or a reference. */
export type Payload<I> = { readonly [K in keyof I]: PayloadValue<I[K]> };

/** Fields of `P` that `I` does not take are `never`: passing one fails `tsc`. */
export type Exact<P, I> = P & { readonly [K in Exclude<keyof P, keyof I>]: never };

/**
 * The same reference without `null`/`undefined`: for states reached only through a Choice that
 * checked the field is present (e.g. `Condition.isString`).
 */
export const present = <T>(ref: Ref<T>): Ref<NonNullable<T>> => ref as Ref<NonNullable<T>>;
