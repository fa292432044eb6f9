/**
 * The embedded provider: the in-memory EmbeddedCluster served over HTTPS on
 * 127.0.0.1 (self-signed CA in the kubeconfig), one bearer token per identity.
 */
import { randomBytes } from "node:crypto";
import type { EmbeddedCluster } from "../cluster.ts";
import { MASTERS } from "../policy.ts";
import type { ClusterConnection, ClusterProvider } from "./types.ts";

export class EmbeddedProvider implements ClusterProvider {
  readonly name = "embedded";
  private started = false;

  /** @param user the identity of the kubeconfig start() returns (registered in system:masters). */
  constructor(
    readonly cluster: EmbeddedCluster,
    private readonly user = "platform-admin",
  ) {}

  async start(): Promise<ClusterConnection> {
    this.register(this.user, true);
    await this.cluster.listen({ host: "127.0.0.1" });
    this.started = true;
    return {
      kubeconfig: this.cluster.kubeconfig(this.user),
      close: async () => {
        this.started = false;
        await this.cluster.close();
      },
    };
  }

  /**
   * A kubeconfig for `identity`, registering it as a bearer-token user on first use
   * (`system` identities join system:masters). Call after start().
   */
  kubeconfigFor(identity: string, system: boolean): Record<string, unknown> {
    if (!this.started) throw new Error("EmbeddedProvider.kubeconfigFor(): call start() first");
    this.register(identity, system);
    return this.cluster.kubeconfig(identity);
  }

  private register(identity: string, system: boolean): void {
    const known = this.cluster.userList.find((u) => u.name === identity);
    const groups = system ? [MASTERS] : [];
    if (known !== undefined && (!system || (known.groups ?? []).includes(MASTERS))) return;
    this.cluster.addUser({
      name: identity,
      token: known?.token ?? randomBytes(24).toString("base64url"),
      groups: [...new Set([...(known?.groups ?? []), ...groups])],
    });
  }
}
