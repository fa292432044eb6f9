/**
 * Kubernetes Status errors exactly as the API server words them
 * (k8s.io/apimachinery/pkg/api/errors). Every layer of the embedded cluster
 * throws these; the HTTP server writes `error.status` as the response body.
 */
import { KubeApiError, type KubeStatus } from "../../engine/kube/types.ts";

/** group-qualified resource as upstream prints it: `deployments.apps`, `configmaps`. */
export function qualified(plural: string, group: string): string {
  return group === "" ? plural : `${plural}.${group}`;
}

function status(
  code: number,
  reason: string,
  message: string,
  details?: KubeStatus["details"],
): KubeApiError {
  const s: KubeStatus = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
  if (details !== undefined) s.details = details;
  return new KubeApiError(s);
}

export interface GroupResource {
  group: string;
  plural: string;
  kind?: string;
}

export function notFound(gr: GroupResource, name: string): KubeApiError {
  return status(404, "NotFound", `${qualified(gr.plural, gr.group)} "${name}" not found`, {
    name,
    group: gr.group,
    kind: gr.plural,
  });
}

export function alreadyExists(gr: GroupResource, name: string): KubeApiError {
  return status(409, "AlreadyExists", `${qualified(gr.plural, gr.group)} "${name}" already exists`, {
    name,
    group: gr.group,
    kind: gr.plural,
  });
}

export function conflict(gr: GroupResource, name: string, why: string): KubeApiError {
  return status(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(gr.plural, gr.group)} "${name}": ${why}`,
    { name, group: gr.group, kind: gr.plural },
  );
}

export const STALE_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

export interface Cause {
  type: string;
  message: string;
  field: string;
}

export function invalid(kind: string, group: string, name: string, causes: Cause[]): KubeApiError {
  const what = group === "" ? kind : `${kind}.${group}`;
  const parts = causes.map((c) => (c.field === "" ? c.message : `${c.field}: ${c.message}`));
  const msg =
    parts.length === 1
      ? `${what} "${name}" is invalid: ${parts[0]}`
      : `${what} "${name}" is invalid: [${parts.join(", ")}]`;
  return status(422, "Invalid", msg, { name, group, kind, causes });
}

export function required(field: string): Cause {
  return { type: "FieldValueRequired", message: "Required value", field };
}

/** 404 for a path the server does not serve. */
export function noResource(): KubeApiError {
  return status(404, "NotFound", "the server could not find the requested resource", {});
}

export function badRequest(message: string): KubeApiError {
  return status(400, "BadRequest", message);
}

export function methodNotAllowed(message: string): KubeApiError {
  return status(405, "MethodNotAllowed", message);
}

export function unsupportedMediaType(message: string): KubeApiError {
  return status(415, "UnsupportedMediaType", message);
}

export function notAcceptable(message: string): KubeApiError {
  return status(406, "NotAcceptable", message);
}

export function expired(message: string): KubeApiError {
  return status(410, "Expired", message);
}

export function unauthorized(): KubeApiError {
  return status(401, "Unauthorized", "Unauthorized");
}

export function forbidden(
  user: string,
  verb: string,
  gr: GroupResource,
  name: string,
  namespace: string | undefined,
): KubeApiError {
  const subject =
    name === "" ? qualified(gr.plural, gr.group) : `${qualified(gr.plural, gr.group)} "${name}"`;
  const scope =
    namespace === undefined || namespace === "" ? "at the cluster scope" : `in the namespace "${namespace}"`;
  return status(
    403,
    "Forbidden",
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${gr.plural}" in API group "${gr.group}" ${scope}`,
    { name, group: gr.group, kind: gr.plural },
  );
}

export function internalError(message: string): KubeApiError {
  return status(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  } as KubeStatus["details"]);
}

export function successStatus(gr: GroupResource, name: string, uid: string | undefined): KubeStatus {
  const details: NonNullable<KubeStatus["details"]> = { name, group: gr.group, kind: gr.plural };
  if (uid !== undefined) details.uid = uid;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    message: "",
    reason: "",
    details,
    code: 200,
  };
}
