import { DECLARED_WAITS } from "#state-machines/workflow/history-events.ts";

/** The longest fallback of any event-driven wait (waits.ts), in seconds. */
const LONGEST_FALLBACK_SECONDS = Math.max(
  ...DECLARED_WAITS.flatMap((w) => (w.events ? [w.events.fallbackSeconds] : [])),
);

/** A delay (ms, at the time scale) past every wait's fallback: the event comes after a describe. */
export const pastFallbackMs = (timeScale: number) =>
  Math.ceil((LONGEST_FALLBACK_SECONDS + 10) * 1000 * timeScale);

/**
 * Faults on the event path for the chaos runs (POST /_sim/faults with `"service": "events"`): of
 * all the AWS events the simulator sends, 30% dropped, 20% delayed past the longest wait fallback
 * (wait-for-state.ts: after it, the wait has described again), 5% delivered twice (the copy late)
 * and 5% out of order. Each event draws once, trying the faults in order, so each rate is
 * conditional on the ones before it.
 */
export function eventFaults(timeScale: number): Record<string, unknown>[] {
  const late = pastFallbackMs(timeScale);
  return [
    { service: "events", action: "drop", rate: 0.3 },
    { service: "events", action: "delay", rate: 0.2 / 0.7, delayMs: late },
    { service: "events", action: "duplicate", rate: 0.05 / 0.5, delayMs: late },
    { service: "events", action: "reorder", rate: 0.05 / 0.45 },
  ];
}

export const EVENT_FAULTS_DESCRIPTION =
  "Events (AWS's state-change events): 30% dropped, 20% delayed past the longest wait fallback, 5% duplicated (the copy as late), 5% reordered.";
