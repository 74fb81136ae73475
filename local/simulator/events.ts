/**
 * Events out of the simulator, shaped like the EventBridge events AWS services send (what an
 * EventBridge rule's target receives), so code written for those events can be fed from the
 * simulator (Simulator.onEvent). Today: "MediaLive Channel Alert" (medialive/alerts.ts).
 */

/** An AWS service event as EventBridge delivers it. */
export interface SimEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  /** ISO 8601 without milliseconds, e.g. 2023-03-08T18:14:25Z (EventBridge's format). */
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
 * The simulator's listeners. Delivery is asynchronous, as EventBridge's is: a listener never runs
 * inside the API call or timer that caused the event, so it cannot see half-applied state or make
 * the simulator re-enter itself; and a listener that throws (or rejects) is reported, never
 * allowed to break the call that caused the event.
 */
export class EventBus {
  private readonly listeners = new Set<SimEventListener>();

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
    for (const listener of this.listeners)
      queueMicrotask(() => {
        // Unsubscribed between the event and its delivery: not delivered.
        if (this.listeners.has(listener)) deliver(listener, event);
      });
  }

  clear(): void {
    this.listeners.clear();
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
