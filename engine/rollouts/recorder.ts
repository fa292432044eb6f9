/**
 * Kubernetes Events (core/v1 Event objects) as the Argo Rollouts controller
 * records them: involvedObject, reason, message, type Normal|Warning, source
 * component "rollouts-controller"; a repeat of the same reason+message on the
 * same object bumps `count` and `lastTimestamp`.
 */
import { type Clock, rfc3339, rfc3339Micro } from "../core/clock.ts";
import { type KubeClient, type KubeObject, isConflict, isNotFound } from "../kube/types.ts";

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

export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly component = "rollouts-controller",
  ) {}

  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const ns = obj.metadata.namespace ?? "default";
    const name = `${obj.metadata.name}.${fnv(`${obj.metadata.uid}/${reason}/${message}`)}`;
    const now = this.clock.now();
    const ref = { apiVersion: "v1", kind: "Event", name, namespace: ns };
    try {
      const existing = await this.client.get(ref);
      await this.client.patch(
        ref,
        { count: ((existing.count as number | undefined) ?? 1) + 1, lastTimestamp: rfc3339(now) },
        "merge",
      );
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
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
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
}

/** Records nothing (for pure what-if runs). */
export const NULL_RECORDER: EventRecorder = { record: async () => {} };
