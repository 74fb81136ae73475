/**
 * Events out of the simulator, shaped like the EventBridge events AWS services send (what an
 * EventBridge rule's target receives), so code written for those events can be fed from the
 * simulator (Simulator.onEvent). Today: "MediaLive Channel Alert" (medialive/alerts.ts),
 * "MediaLive Channel State Change" (medialive/state-events.ts) and "MediaConnect Flow Status
 * Change" (mediaconnect/models.ts). The event path can be faulted (POST /_sim/faults with
 * `"service": "events"`): events dropped, delayed, duplicated or swapped, as EventBridge's best
 * effort delivery of service events allows.
 */

import { randomUUID } from "node:crypto";

/** An AWS service event as EventBridge delivers it. */
export interface SimEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  /**
   * ISO 8601 in UTC, e.g. 2023-03-08T18:14:25Z: whole seconds as EventBridge sends it, except state
   * changes of a simulator run faster than AWS, which carry milliseconds (see eventTimeAt).
   */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export type SimEventListener = (event: SimEvent) => void;

/** EventBridge's `time`: ISO 8601 in UTC, whole seconds. */
export function eventTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The `time` of a state-change event (MediaLive channel state, MediaConnect flow status) in a
 * simulator running at `timeScale`. At timeScale >= 1 (AWS's pace or slower): EventBridge's format,
 * whole seconds (eventTime). Below 1 the simulator compresses minutes of AWS transitions into
 * milliseconds (at 0.01 a channel goes CREATED, STARTING, RUNNING within a second), so whole seconds
 * would give several transitions of one resource the same `time` and a consumer ordering events by
 * `time` (the way to cope with EventBridge's out-of-order delivery) could not recover their order:
 * there the time keeps its milliseconds (2026-12-01T05:00:00.123Z, still ISO 8601, still parsed by
 * `new Date`).
 */
export function eventTimeAt(iso: string, timeScale: number): string {
  return timeScale < 1 ? new Date(iso).toISOString() : eventTime(iso);
}

/** An AWS service event about one resource, as EventBridge delivers it (a fresh id each). */
export function awsEvent(
  account: { readonly accountId: string; readonly region: string },
  event: {
    readonly detailType: string;
    readonly source: string;
    readonly resource: string;
    readonly time: string;
    readonly detail: Record<string, unknown>;
  },
): SimEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": event.detailType,
    source: event.source,
    account: account.accountId,
    time: event.time,
    region: account.region,
    resources: [event.resource],
    detail: event.detail,
  };
}

/** What an event fault does to an event (POST /_sim/faults `{"service": "events", "action"}`). */
export const EVENT_FAULT_ACTIONS = ["drop", "delay", "duplicate", "reorder"] as const;
export type EventFaultAction = (typeof EVENT_FAULT_ACTIONS)[number];

/** How long a reordered event waits for the next one before it is delivered anyway (ms). */
export const DEFAULT_REORDER_WINDOW_MS = 1000;

/** The fault drawn for one event: its action and `delayMs` as the fault gave it. */
export interface EventFaultDraw {
  action: EventFaultAction;
  delayMs?: number;
}

/** Draws the fault that applies to an event, if any (at most one per event). */
export type EventFaultSource = (event: SimEvent) => EventFaultDraw | undefined;

/** An event held back by a `reorder` fault, until the next event or its window ends. */
interface Held {
  event: SimEvent;
  timer: NodeJS.Timeout;
}

/**
 * The simulator's listeners. Delivery is asynchronous, as EventBridge's is: a listener never runs
 * inside the API call or timer that caused the event, so it cannot see half-applied state or make
 * the simulator re-enter itself; and a listener that throws (or rejects) is reported, never
 * allowed to break the call that caused the event.
 *
 * Event faults apply here, before any listener, so every listener sees the same faulted stream:
 * - drop: never delivered;
 * - delay: delivered `delayMs` later;
 * - duplicate: delivered now, and the same event (same id, as EventBridge's at-least-once delivery
 *   repeats it) again `delayMs` later (default 0: the next macrotask);
 * - reorder: held back and delivered right after the next event the bus emits (after that
 *   event's own delivery, whatever its fault), so the two arrive swapped; delivered anyway if no
 *   event comes within `delayMs` (default DEFAULT_REORDER_WINDOW_MS).
 * A later delivery goes to the listeners subscribed at that time.
 */
export class EventBus {
  private readonly listeners = new Set<SimEventListener>();
  /** Deliveries scheduled by delay and duplicate faults. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Events held by reorder faults, oldest first. */
  private held: Held[] = [];

  /** `fault`: the event faults to apply (default: none, every event delivered once, in order). */
  constructor(private readonly fault: EventFaultSource = () => undefined) {}

  /** Subscribe; returns the unsubscribe. */
  on(listener: SimEventListener): () => void {
    // A wrapper per subscription, so subscribing one function twice delivers twice and
    // each unsubscribe removes its own.
    const entry: SimEventListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: SimEvent): void {
    const draw = this.fault(event);
    const waiting = this.held;
    this.held = [];
    switch (draw?.action) {
      case "drop":
      case "reorder": // held below, once the events held before it are out
        break;
      case "delay":
        this.later(event, draw.delayMs ?? 0);
        break;
      case "duplicate":
        this.dispatch(event);
        this.later(event, draw.delayMs ?? 0);
        break;
      default:
        this.dispatch(event);
    }
    // The events held before this one follow it.
    for (const h of waiting) {
      clearTimeout(h.timer);
      this.dispatch(h.event);
    }
    if (draw?.action === "reorder") this.hold(event, draw.delayMs ?? DEFAULT_REORDER_WINDOW_MS);
  }

  /** Cancels every delayed, duplicated and held delivery (DELETE /_sim/faults, POST /_sim/reset). */
  cancelPending(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const h of this.held) clearTimeout(h.timer);
    this.held = [];
  }

  /** Unsubscribes every listener and cancels pending deliveries (the simulator closes). */
  clear(): void {
    this.cancelPending();
    this.listeners.clear();
  }

  /** Queues the event for every listener subscribed now. */
  private dispatch(event: SimEvent): void {
    for (const listener of this.listeners)
      queueMicrotask(() => {
        // Unsubscribed between the event and its delivery: not delivered.
        if (this.listeners.has(listener)) deliver(listener, event);
      });
  }

  private later(event: SimEvent, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.dispatch(event);
    }, ms);
    // A faulted event must never keep a test process (or `npm start`) alive on its own.
    timer.unref();
    this.timers.add(timer);
  }

  private hold(event: SimEvent, windowMs: number): void {
    const held: Held = {
      event,
      timer: setTimeout(() => {
        this.held = this.held.filter((h) => h !== held);
        this.dispatch(event);
      }, windowMs),
    };
    held.timer.unref();
    this.held.push(held);
  }
}

function deliver(listener: SimEventListener, event: SimEvent): void {
  const report = (e: unknown) => {
    console.error(`[simulator] an onEvent listener failed on "${event["detail-type"]}" ${event.id}:`, e);
  };
  try {
    const result: unknown = listener(event);
    // An async listener's rejection would otherwise be an unhandled rejection in the host process.
    if (result instanceof Promise) result.catch(report);
  } catch (e) {
    report(e);
  }
}
