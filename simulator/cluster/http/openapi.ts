/**
 * /openapi/v3: the part of OpenAPI kubectl needs. The index lists one
 * document per group version; each document has, per resource, a `patch`
 * operation tagged with x-kubernetes-group-version-kind and a
 * `fieldValidation` query parameter (so `kubectl apply --validate=true`
 * uses server-side field validation). The patch operations declare no
 * request body, so kubectl computes client-side-apply patches from its
 * compiled-in types (strategic merge) or as JSON merge patches for custom
 * resources, as it does against CRDs without schemas.
 */
import type { FastifyInstance } from "fastify";
import type { ApiServer } from "../api.ts";
import { noResource } from "../status.ts";
import type { ResourceType } from "../registry.ts";

export interface OpenApiOptions {
  api: ApiServer;
}

function gvPath(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

/** A stable hash of the served types, so kubectl's OpenAPI cache notices CRD changes. */
function registryHash(api: ApiServer): string {
  let h = 0x811c9dc5;
  for (const t of api.registry.all()) {
    const s = `${t.key}|${t.versions.join(",")}`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return (h >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

function document(types: ResourceType[], group: string, version: string): unknown {
  const paths: Record<string, unknown> = {};
  const prefix = `/${gvPath(group, version)}`;
  for (const t of types) {
    const gvk = { group: t.group, version, kind: t.kind };
    const op = (action: string) => ({
      operationId: `${action}${t.kind}`,
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [
        { name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } },
        { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
        { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
      ],
      responses: { "200": { description: "OK" } },
    });
    const item = t.namespaced
      ? `${prefix}/namespaces/{namespace}/${t.plural}/{name}`
      : `${prefix}/${t.plural}/{name}`;
    const coll = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}` : `${prefix}/${t.plural}`;
    paths[item] = { get: op("get"), put: op("put"), patch: op("patch"), delete: op("delete") };
    paths[coll] = { get: op("list"), post: op("post") };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths,
    components: { schemas: {} },
  };
}

export async function openApiPlugin(app: FastifyInstance, opts: OpenApiOptions): Promise<void> {
  const { api } = opts;
  app.get("/openapi/v3", async () => {
    const hash = registryHash(api);
    const paths: Record<string, unknown> = {
      "api/v1": { serverRelativeURL: `/openapi/v3/api/v1?hash=${hash}` },
    };
    for (const g of api.registry.groups())
      for (const v of g.versions)
        paths[gvPath(g.group, v)] = { serverRelativeURL: `/openapi/v3/${gvPath(g.group, v)}?hash=${hash}` };
    return { paths };
  });
  app.get<{ Params: { "*": string } }>("/openapi/v3/*", async (req, reply) => {
    const segs = req.params["*"].split("/");
    let group: string;
    let version: string;
    if (segs[0] === "api" && segs.length === 2) [group, version] = ["", segs[1]!];
    else if (segs[0] === "apis" && segs.length === 3) [group, version] = [segs[1]!, segs[2]!];
    else return reply.code(404).send(noResource().status);
    const types = api.registry.all().filter((t) => t.group === group && t.versions.includes(version));
    if (types.length === 0) return reply.code(404).send(noResource().status);
    return document(types, group, version);
  });
}
