/**
 * The event log is the spine: every commit, sync, drift, heal, rollout step,
 * measurement, abort, incident and notification is a typed event appended to
 * a log. Reports are pure functions of the log.
 *
 * Each module declares its own event interfaces (extending EventBase with a
 * literal `type`) next to its code; the log itself only needs EventBase.
 * `time` is the clock time in ms since the Unix epoch (virtual or real).
 */
export interface EventBase {
  readonly type: string;
  readonly time: number;
}

export interface EventSink<E extends EventBase = EventBase> {
  emit(event: E): void;
}

/** In-memory event log; writers to disk (JSONL) wrap or drain it. */
export class MemoryEventLog<E extends EventBase = EventBase> implements EventSink<E> {
  readonly events: E[] = [];
  private readonly listeners: Array<(e: E) => void> = [];

  emit(event: E): void {
    this.events.push(event);
    for (const l of this.listeners) l(event);
  }

  /** Subscribe to events as they are appended; returns an unsubscribe function. */
  subscribe(listener: (e: E) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  ofType<T extends E["type"]>(type: T): Array<Extract<E, { type: T }>> {
    return this.events.filter((e) => e.type === type) as Array<Extract<E, { type: T }>>;
  }
}

/** Deterministic JSONL: keys in insertion order, one event per line. */
export function toJsonl(events: readonly EventBase[]): string {
  let out = "";
  for (const e of events) out += `${JSON.stringify(e)}\n`;
  return out;
}

export const NULL_SINK: EventSink = { emit() {} };
