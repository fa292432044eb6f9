/**
 * A KubeClient whose transport is settled later: every call first awaits
 * `resolve()` (e.g. a live cluster still starting), then delegates. Lets code
 * take a client before the cluster it talks to is up.
 */
import type {
  ApiResourceInfo,
  DeleteOptions,
  KubeClient,
  KubeList,
  KubeObject,
  ListOptions,
  ObjectRef,
  PatchOptions,
  PatchType,
  WatchEvent,
  WatchHandle,
  WatchOptions,
  WriteOptions,
} from "../../../engine/kube/types.ts";

export class DeferredKubeClient implements KubeClient {
  private target: Promise<KubeClient> | undefined;

  constructor(
    readonly identity: string,
    private readonly resolveTarget: () => Promise<KubeClient>,
  ) {}

  private client(): Promise<KubeClient> {
    this.target ??= this.resolveTarget();
    return this.target;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return (await this.client()).get<T>(ref);
  }
  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts?: ListOptions,
  ): Promise<KubeList<T>> {
    return (await this.client()).list<T>(apiVersion, kind, opts);
  }
  async create<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.client()).create<T>(obj, opts);
  }
  async replace<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.client()).replace<T>(obj, opts);
  }
  async replaceStatus<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.client()).replaceStatus<T>(obj, opts);
  }
  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    type: PatchType,
    opts?: PatchOptions,
  ): Promise<T> {
    return (await this.client()).patch<T>(ref, patch, type, opts);
  }
  async apply<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T> {
    return (await this.client()).apply<T>(obj, opts);
  }
  async delete(ref: ObjectRef, opts?: DeleteOptions): Promise<KubeObject | undefined> {
    return (await this.client()).delete(ref, opts);
  }
  async watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onClose?: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    return (await this.client()).watch<T>(apiVersion, kind, opts, onEvent, onClose);
  }
  async resources(): Promise<ApiResourceInfo[]> {
    return (await this.client()).resources();
  }
}
