/**
 * The KubeClient contract over HTTPS (client-node 1.4 -> the served
 * EmbeddedCluster), plus what only the wire shows: client-node's informer
 * re-listing after a 410 Expired, bearer-token auth, the kubeconfig.
 */
import { type KubernetesListObject, type KubernetesObject, makeInformer } from "@kubernetes/client-node";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../simulator/clock/virtual.ts";
import { EmbeddedCluster } from "../../simulator/cluster/cluster.ts";
import { generateTls } from "../../simulator/cluster/http/tls.ts";
import { CONTRACT_HISTORY_SIZE, kubeClientContract } from "./contract.suite.ts";
import { HttpKubeClient } from "./http-client.ts";
import { KubeApiError, type KubeObject } from "./types.ts";

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tls = generateTls();

async function served(historySize = CONTRACT_HISTORY_SIZE) {
  const cluster = new EmbeddedCluster({ clock: new VirtualClock(), historySize });
  await cluster.listen({ port: 0, tls });
  const client = new HttpKubeClient({ kubeconfig: cluster.kubeconfig() });
  return { cluster, client };
}

kubeClientContract("HTTP (client-node 1.4)", async () => {
  const { cluster, client } = await served();
  return { client, settle: () => until(() => true, "settle"), until, close: () => cluster.close() };
});

describe("HTTP adapter on the wire", () => {
  it("client-node's informer re-lists after a 410 Expired watch", async () => {
    const { cluster, client } = await served(20);
    try {
      const cm = (name: string): KubeObject => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: "default" },
        data: {},
      });
      for (let i = 0; i < 30; i++) await client.create(cm(`c${i}`));
      let lists = 0;
      const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
        lists++;
        const l = await client.list("v1", "ConfigMap", { namespace: "default" });
        // the first list answers with a resourceVersion long out of the watch window
        const resourceVersion = lists === 1 ? "1" : l.metadata.resourceVersion;
        return {
          apiVersion: l.apiVersion,
          kind: l.kind,
          items: l.items as KubernetesObject[],
          metadata: { resourceVersion },
        };
      };
      const informer = makeInformer(client.kubeConfig, "/api/v1/namespaces/default/configmaps", listFn);
      const errors: unknown[] = [];
      informer.on("error", (e) => errors.push(e));
      await informer.start();
      await until(() => lists >= 2, "a second list after 410");
      await client.create(cm("after"));
      await until(() => informer.get("after", "default") !== undefined, "the informer to see new objects");
      expect(informer.list("default")).toHaveLength(31);
      expect(errors).toEqual([]);
      await informer.stop();
    } finally {
      await cluster.close();
    }
  });

  it("answers 401 Unauthorized without a valid token", async () => {
    const { cluster } = await served();
    try {
      const kc = cluster.kubeconfig() as { users: Array<{ user: { token: string } }> };
      kc.users[0]!.user.token = "wrong";
      const bad = new HttpKubeClient({ kubeconfig: kc });
      const e = await bad.list("v1", "ConfigMap").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(KubeApiError);
      expect((e as KubeApiError).status).toMatchObject({
        code: 401,
        reason: "Unauthorized",
        message: "Unauthorized",
      });
    } finally {
      await cluster.close();
    }
  });

  describe("watch streams from a server that misbehaves", () => {
    /** A plain-HTTP server with core/v1 discovery and `watch` answering the ConfigMap watch. */
    async function fake(watch: (res: ServerResponse) => void) {
      const srv = createServer((req, res) => {
        if (req.url === "/api/v1") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              kind: "APIResourceList",
              groupVersion: "v1",
              resources: [{ name: "configmaps", namespaced: true, kind: "ConfigMap", verbs: ["watch"] }],
            }),
          );
        } else if (req.url?.startsWith("/api/v1/namespaces/default/configmaps?") === true) watch(res);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
      const { port } = srv.address() as AddressInfo;
      const client = new HttpKubeClient({
        kubeconfig: {
          apiVersion: "v1",
          kind: "Config",
          clusters: [
            { name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } },
          ],
          users: [{ name: "u", user: { token: "t" } }],
          contexts: [{ name: "x", context: { cluster: "c", user: "u", namespace: "default" } }],
          "current-context": "x",
        },
      });
      return { client, close: () => new Promise<void>((r) => srv.close(() => r())) };
    }

    const watchOnce = (client: HttpKubeClient) =>
      new Promise<{ events: string[]; err: unknown }>((resolve, reject) => {
        const events: string[] = [];
        client
          .watch(
            "v1",
            "ConfigMap",
            { namespace: "default", resourceVersion: "5" },
            (e) => events.push(`${e.type} ${e.object.metadata.name}`),
            (err) => resolve({ events, err }),
          )
          .catch(reject);
      });

    it("ends the watch with an error on a line that is not JSON (instead of dropping the event)", async () => {
      const { client, close } = await fake((res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}\n{"type":"MODI');
        res.write('FIED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}\nnot json\n');
      });
      try {
        const { events, err } = await watchOnce(client);
        expect(events).toEqual(["ADDED a", "MODIFIED a"]);
        expect(String(err)).toMatch(/undecodable watch event/);
      } finally {
        await close();
      }
    });

    it("reports a refused watch with the server's Status", async () => {
      const { client, close } = await fake((res) => {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            reason: "Forbidden",
            message: 'configmaps is forbidden: User "u" cannot watch resource "configmaps"',
            code: 403,
          }),
        );
      });
      try {
        const { events, err } = await watchOnce(client);
        expect(events).toEqual([]);
        expect(err).toBeInstanceOf(KubeApiError);
        expect((err as KubeApiError).status).toMatchObject({ code: 403, reason: "Forbidden" });
      } finally {
        await close();
      }
    });
  });
});
