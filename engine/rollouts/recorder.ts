/**
 * Kubernetes Events (core/v1 Event objects) as the Argo Rollouts controller
 * records them: involvedObject, reason, message, type Normal|Warning, source
 * component "rollouts-controller"; a repeat of the same reason+message on the
 * same object bumps `count` and `lastTimestamp` (from the count the recorder remembers, as
 * client-go's EventCorrelator: no read per event). An Event last written longer ago than the API
 * server keeps Events (kube-apiserver --event-ttl, 1 h by default) is created afresh rather than
 * patched: the patch would only find it gone. (Were it still there, the create's AlreadyExists
 * makes the recorder count on from the server's count.)
 */
import { type Clock, rfc3339, rfc3339Micro } from "../core/clock.ts";
import { type KubeClient, type KubeObject, type ObjectRef, isConflict, isNotFound } from "../kube/types.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** client-go's event cache size (record.maxLruCacheEntries). */
const CACHE_ENTRIES = 4096;

/** kube-apiserver's default --event-ttl. */
export const DEFAULT_EVENT_TTL_MS = 3_600_000;

export class KubeEventRecorder implements EventRecorder {
  /**
   * count and last write time of each Event this recorder wrote (by name), oldest first: as
   * client-go's EventCorrelator, a repeat is a patch of the count it remembers, without reading the Event.
   */
  private readonly counts = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly component = "rollouts-controller",
    /** How long the API server keeps an Event after its last write (--event-ttl). */
    private readonly eventTtlMs = DEFAULT_EVENT_TTL_MS,
  ) {}

  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const ns = obj.metadata.namespace ?? "default";
    const name = `${obj.metadata.name}.${fnv(`${obj.metadata.uid}/${reason}/${message}`)}`;
    const now = this.clock.now();
    const ref = { apiVersion: "v1", kind: "Event", name, namespace: ns };
    const known = this.counts.get(name);
    if (
      known !== undefined &&
      now - known.at < this.eventTtlMs &&
      (await this.bump(ref, known.count + 1, now))
    )
      return;
    try {
      await this.client.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace: ns },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: ns,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        eventTime: rfc3339Micro(now),
        reportingComponent: this.component,
        reportingInstance: this.component,
        source: { component: this.component },
        action: reason,
      });
      this.remember(name, 1, now);
    } catch (e) {
      if (!isConflict(e)) throw e;
      // recorded before this recorder remembers (e.g. a controller restart): count on from the server's
      const existing = await this.client.get(ref).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (existing !== undefined)
        await this.bump(ref, ((existing.count as number | undefined) ?? 1) + 1, now);
    }
  }

  /** Patch the Event's count; false when it is gone (expired or deleted). */
  private async bump(ref: ObjectRef, count: number, now: number): Promise<boolean> {
    try {
      await this.client.patch(ref, { count, lastTimestamp: rfc3339(now) }, "merge");
    } catch (e) {
      if (isNotFound(e)) {
        this.counts.delete(ref.name);
        return false;
      }
      throw e;
    }
    this.remember(ref.name, count, now);
    return true;
  }

  private remember(name: string, count: number, at: number): void {
    this.counts.delete(name);
    this.counts.set(name, { count, at });
    if (this.counts.size > CACHE_ENTRIES) this.counts.delete(this.counts.keys().next().value as string);
  }
}

/** Records nothing (for pure what-if runs). */
export const NULL_RECORDER: EventRecorder = { record: async () => {} };
