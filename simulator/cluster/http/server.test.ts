/** The HTTP surfaces through app.inject() (no sockets, no TLS). */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../clock/virtual.ts";
import { ApiServer } from "../api.ts";
import { MASTERS } from "../policy.ts";
import { AGGREGATED_CONTENT_TYPE } from "./discovery.ts";
import { buildServer } from "./server.ts";
import { humanDuration } from "./table.ts";

function setup() {
  const clock = new VirtualClock();
  const api = new ApiServer({ clock });
  const app = buildServer({ api, users: () => [{ name: "admin", token: "t0k", groups: [MASTERS] }] });
  const auth = { authorization: "Bearer t0k" };
  return { clock, api, app, auth };
}

describe("embedded API over HTTP", () => {
  it("requires a bearer token except for /version", async () => {
    const { app } = setup();
    const denied = await app.inject({ method: "GET", url: "/api/v1/namespaces" });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    const version = await app.inject({ method: "GET", url: "/version" });
    expect(version.json()).toMatchObject({ major: "1", minor: "32" });
  });

  it("serves legacy and aggregated discovery with subresources", async () => {
    const { app, auth } = setup();
    const apps = (await app.inject({ method: "GET", url: "/apis/apps/v1", headers: auth })).json() as {
      resources: Array<{ name: string; kind: string }>;
    };
    expect(apps.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(["deployments", "deployments/scale", "deployments/status"]),
    );
    const agg = await app.inject({
      method: "GET",
      url: "/apis",
      headers: {
        ...auth,
        accept:
          "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
      },
    });
    expect(agg.headers["content-type"]).toBe(AGGREGATED_CONTENT_TYPE);
    const groups = (agg.json() as { items: Array<{ metadata: { name: string } }> }).items.map(
      (i) => i.metadata.name,
    );
    expect(groups).toEqual(expect.arrayContaining(["apps", "argoproj.io", "batch", "autoscaling"]));
  });

  it("serves the OpenAPI v3 stub kubectl validates with", async () => {
    const { app, auth } = setup();
    const index = (await app.inject({ method: "GET", url: "/openapi/v3", headers: auth })).json() as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    const url = index.paths["apis/apps/v1"]!.serverRelativeURL;
    const doc = (await app.inject({ method: "GET", url, headers: auth })).json() as {
      paths: Record<
        string,
        { patch?: { "x-kubernetes-group-version-kind": unknown; parameters: Array<{ name: string }> } }
      >;
    };
    const patch = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!.patch!;
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({
      group: "apps",
      version: "v1",
      kind: "Deployment",
    });
    expect(patch.parameters.map((p) => p.name)).toContain("fieldValidation");
  });

  it("prints tables with upstream columns and ages from the clock", async () => {
    const { app, auth, clock } = setup();
    await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/default/pods",
      headers: auth,
      payload: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: { containers: [{ name: "c", image: "x" }] },
      },
    });
    await clock.runFor(125_000);
    const t = (
      await app.inject({
        method: "GET",
        url: "/api/v1/namespaces/default/pods",
        headers: { ...auth, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" },
      })
    ).json() as {
      kind: string;
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: unknown[] }>;
    };
    expect(t.kind).toBe("Table");
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual([
      "Name",
      "Ready",
      "Status",
      "Restarts",
      "Age",
    ]);
    expect(t.rows[0]!.cells.slice(0, 5)).toEqual(["p", "0/1", "Pending", "0", "2m5s"]);
  });

  it.each([
    [0, "0s"],
    [119_000, "119s"],
    [125_000, "2m5s"],
    [600_000, "10m"],
    [3 * 3_600_000 + 60_000, "3h1m"],
    [30 * 3_600_000, "30h"],
    [3 * 86_400_000 + 3_600_000, "3d1h"],
    [400 * 86_400_000, "400d"],
    [800 * 86_400_000, "2y70d"],
  ])("humanDuration(%i) = %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it("accepts an empty JSON body on DELETE and answers a Success Status", async () => {
    const { app, auth } = setup();
    await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/default/configmaps",
      headers: auth,
      payload: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } },
    });
    const del = await app.inject({
      method: "DELETE",
      url: "/api/v1/namespaces/default/configmaps/x",
      headers: { ...auth, "content-type": "application/json" },
      payload: "",
    });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({
      kind: "Status",
      status: "Success",
      details: { name: "x", kind: "configmaps" },
    });
  });

  it("answers protobuf bodies and unknown patch types with 415", async () => {
    const { app, auth } = setup();
    const proto = await app.inject({
      method: "POST",
      url: "/apis/apps/v1/namespaces/default/deployments",
      headers: { ...auth, "content-type": "application/vnd.kubernetes.protobuf" },
      payload: Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    });
    expect(proto.statusCode).toBe(415);
    expect((proto.json() as { message: string }).message).toContain(
      "kubectl create ... --dry-run=client -o yaml | kubectl apply -f -",
    );
    const patch = await app.inject({
      method: "PATCH",
      url: "/api/v1/namespaces/default/configmaps/x",
      headers: { ...auth, "content-type": "text/plain" },
      payload: "x",
    });
    expect(patch.statusCode).toBe(415);
    expect(patch.json()).toMatchObject({ reason: "UnsupportedMediaType" });
  });

  it("answers 404 Status for unknown resources and bad JSON with 400", async () => {
    const { app, auth } = setup();
    const nf = await app.inject({ method: "GET", url: "/apis/example.com/v1/widgets", headers: auth });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toMatchObject({
      message: "the server could not find the requested resource",
      code: 404,
    });
    const bad = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/default/configmaps",
      headers: { ...auth, "content-type": "application/json" },
      payload: "{nope",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ kind: "Status", reason: "BadRequest" });
  });

  it("accepts tokens of users added after the server was built", async () => {
    const clock = new VirtualClock();
    const api = new ApiServer({ clock });
    let users = [{ name: "admin", token: "t0k", groups: [MASTERS] }];
    const app = buildServer({ api, users: () => users });
    const get = (token: string) =>
      app.inject({ method: "GET", url: "/api/v1/namespaces", headers: { authorization: `Bearer ${token}` } });
    expect((await get("t0k")).statusCode).toBe(200);
    expect((await get("later")).statusCode).toBe(401);
    users = [...users, { name: "later", token: "later", groups: [MASTERS] }];
    expect((await get("later")).statusCode).toBe(200);
    users.push({ name: "appended", token: "appended", groups: [MASTERS] });
    expect((await get("appended")).statusCode).toBe(200);
    users = users.filter((u) => u.name !== "admin");
    expect((await get("t0k")).statusCode).toBe(401);
  });

  it("reads apply patches sent as JSON, as YAML, and as a YAML flow mapping alike", async () => {
    const { app, auth } = setup();
    const bodies = [
      JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "j" }, data: { k: "1" } }),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: '1'\n",
      "{apiVersion: v1, kind: ConfigMap, metadata: {name: f}, data: {k: '1'}}",
    ];
    for (const [i, payload] of bodies.entries()) {
      const name = ["j", "y", "f"][i]!;
      const res = await app.inject({
        method: "PATCH",
        url: `/api/v1/namespaces/default/configmaps/${name}?fieldManager=test`,
        headers: { ...auth, "content-type": "application/apply-patch+yaml" },
        payload,
      });
      expect(res.statusCode, payload).toBe(201);
      expect(res.json()).toMatchObject({ metadata: { name }, data: { k: "1" } });
    }
    const bad = await app.inject({
      method: "PATCH",
      url: "/api/v1/namespaces/default/configmaps/z?fieldManager=test",
      headers: { ...auth, "content-type": "application/apply-patch+yaml" },
      payload: "{apiVersion: v1, kind: [",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ reason: "BadRequest", message: expect.stringContaining("YAML") });
  });
});
