/**
 * Discovery: /version, legacy discovery (/api, /apis, /api/v1,
 * /apis/{g}/{v} as APIVersions / APIGroupList / APIResourceList) and
 * aggregated discovery (APIGroupDiscoveryList, apidiscovery.k8s.io/v2) when
 * the client's Accept asks for it. Always computed from the live registry,
 * so a CRD is discoverable the moment it is created.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiServer } from "../api.ts";
import { gvString, type ResourceType, VERBS } from "../registry.ts";

export interface DiscoveryOptions {
  api: ApiServer;
}

export const AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

export const VERSION_INFO = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-gitops-testbed",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.4",
  compiler: "gc",
  platform: "linux/amd64",
};

function wantsAggregated(req: FastifyRequest): boolean {
  return (req.headers.accept ?? "").includes("as=APIGroupDiscoveryList");
}

const SUB_VERBS = ["get", "patch", "update"];

function legacyResources(types: ResourceType[], version: string): unknown[] {
  const out: unknown[] = [];
  for (const t of types) {
    const r: Record<string, unknown> = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: VERBS,
    };
    if (t.shortNames.length > 0) r.shortNames = t.shortNames;
    if (t.categories.length > 0) r.categories = t.categories;
    if (!t.custom) r.storageVersionHash = Buffer.from(t.key).toString("base64").slice(0, 11);
    out.push(r);
    if (t.scale !== undefined)
      out.push({
        name: `${t.plural}/scale`,
        singularName: "",
        namespaced: t.namespaced,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: SUB_VERBS,
      });
    if (t.status)
      out.push({
        name: `${t.plural}/status`,
        singularName: "",
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: SUB_VERBS,
      });
  }
  void version;
  return out;
}

function aggregatedResources(types: ResourceType[], version: string): unknown[] {
  return types.map((t) => {
    const r: Record<string, unknown> = {
      resource: t.plural,
      responseKind: { group: t.group, version, kind: t.kind },
      scope: t.namespaced ? "Namespaced" : "Cluster",
      singularResource: t.singular,
      verbs: VERBS,
    };
    if (t.shortNames.length > 0) r.shortNames = t.shortNames;
    if (t.categories.length > 0) r.categories = t.categories;
    const subs: unknown[] = [];
    if (t.scale !== undefined)
      subs.push({
        subresource: "scale",
        responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
        verbs: SUB_VERBS,
      });
    if (t.status)
      subs.push({
        subresource: "status",
        responseKind: { group: t.group, version, kind: t.kind },
        verbs: SUB_VERBS,
      });
    if (subs.length > 0) r.subresources = subs;
    return r;
  });
}

function typesIn(api: ApiServer, group: string, version: string): ResourceType[] {
  return api.registry.all().filter((t) => t.group === group && t.versions.includes(version));
}

function aggregated(api: ApiServer, core: boolean): unknown {
  const items: unknown[] = [];
  if (core) {
    items.push({
      metadata: { creationTimestamp: null },
      versions: [
        { version: "v1", resources: aggregatedResources(typesIn(api, "", "v1"), "v1"), freshness: "Current" },
      ],
    });
  } else {
    for (const g of api.registry.groups()) {
      const versions = [g.preferred, ...g.versions.filter((v) => v !== g.preferred)];
      items.push({
        metadata: { name: g.group, creationTimestamp: null },
        versions: versions.map((v) => ({
          version: v,
          resources: aggregatedResources(typesIn(api, g.group, v), v),
          freshness: "Current",
        })),
      });
    }
  }
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}

function sendAggregated(reply: FastifyReply, body: unknown): FastifyReply {
  return reply
    .header("content-type", AGGREGATED_CONTENT_TYPE)
    .header("vary", "Accept")
    .send(Buffer.from(JSON.stringify(body)));
}

export async function discoveryPlugin(app: FastifyInstance, opts: DiscoveryOptions): Promise<void> {
  const { api } = opts;
  app.get("/version", async () => VERSION_INFO);
  app.get("/api", async (req, reply) => {
    if (wantsAggregated(req)) return sendAggregated(reply, aggregated(api, true));
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `${req.hostname}` }],
    };
  });
  app.get("/apis", async (req, reply) => {
    if (wantsAggregated(req)) return sendAggregated(reply, aggregated(api, false));
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: api.registry.groups().map((g) => ({
        name: g.group,
        versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${g.group}/${g.preferred}`, version: g.preferred },
      })),
    };
  });
  app.get("/api/v1", async () => ({
    kind: "APIResourceList",
    groupVersion: "v1",
    resources: legacyResources(typesIn(api, "", "v1"), "v1"),
  }));
  app.get<{ Params: { group: string; version: string } }>("/apis/:group/:version", async (req, reply) => {
    const { group, version } = req.params;
    const types = typesIn(api, group, version);
    if (types.length === 0)
      return reply.code(404).send({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "the server could not find the requested resource",
        reason: "NotFound",
        details: {},
        code: 404,
      });
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: gvString(group, version),
      resources: legacyResources(types, version),
    };
  });
  app.get<{ Params: { group: string } }>("/apis/:group", async (req, reply) => {
    const g = api.registry.groups().find((x) => x.group === req.params.group);
    if (g === undefined)
      return reply.code(404).send({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "the server could not find the requested resource",
        reason: "NotFound",
        details: {},
        code: 404,
      });
    return {
      kind: "APIGroup",
      apiVersion: "v1",
      name: g.group,
      versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${g.group}/${g.preferred}`, version: g.preferred },
    };
  });
  for (const p of ["/healthz", "/livez", "/readyz"])
    app.get(p, async (_req, reply) => reply.type("text/plain").send("ok"));
}
