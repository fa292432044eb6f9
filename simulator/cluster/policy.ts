/**
 * Users (bearer token -> identity and groups) and the write policy: which
 * identities may write in which namespaces. No policy = everyone may write.
 * Members of the group `system:masters` always may (the cluster's own
 * controllers run as such).
 */
import { GtbError } from "../../engine/core/errors.ts";

export interface ClusterUser {
  name: string;
  token: string;
  groups?: string[];
}

export interface PolicyRule {
  /** User names this rule applies to. */
  users?: string[];
  /** Groups this rule applies to. */
  groups?: string[];
  /**
   * Namespaces the subjects may write: exact names, prefixes ending in `*`
   * (`team-*`), or `*` for every namespace and cluster-scoped objects.
   */
  namespaces: string[];
}

export interface WritePolicy {
  rules: PolicyRule[];
  /** What happens to an identity no rule names (default "deny", like RBAC). */
  default?: "allow" | "deny";
}

export interface Identity {
  user: string;
  groups: string[];
}

export const MASTERS = "system:masters";

function matches(pattern: string, namespace: string | undefined): boolean {
  if (pattern === "*") return true;
  if (namespace === undefined) return false;
  if (pattern.endsWith("*")) return namespace.startsWith(pattern.slice(0, -1));
  return pattern === namespace;
}

/** True when `who` may write in `namespace` (undefined = cluster scope). */
export function mayWrite(
  policy: WritePolicy | undefined,
  who: Identity,
  namespace: string | undefined,
): boolean {
  if (policy === undefined || who.groups.includes(MASTERS)) return true;
  let named = false;
  for (const r of policy.rules) {
    const applies =
      (r.users ?? []).includes(who.user) || (r.groups ?? []).some((g) => who.groups.includes(g));
    if (!applies) continue;
    named = true;
    if (r.namespaces.some((p) => matches(p, namespace))) return true;
  }
  return !named && policy.default === "allow";
}

/** Parse and check a users file ({users: [...], policy?: {...}}), already decoded from YAML/JSON. */
export function parseUsersFile(doc: unknown, file: string): { users: ClusterUser[]; policy?: WritePolicy } {
  const fail = (path: string, msg: string): never => {
    throw new GtbError("GTB_CLUSTER_USERS_INVALID", msg, {
      file,
      path,
      hint: "expected {users: [{name, token, groups?}], policy?: {rules: [{users?, groups?, namespaces}], default?}}",
    });
  };
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) fail("", "users file must be a mapping");
  const d = doc as { users?: unknown; policy?: unknown };
  if (!Array.isArray(d.users)) fail("users", "users must be a list");
  const users: ClusterUser[] = [];
  const tokens = new Set<string>();
  (d.users as unknown[]).forEach((u, i) => {
    const x = (u ?? {}) as Record<string, unknown>;
    if (typeof x.name !== "string" || x.name === "")
      fail(`users[${i}].name`, "name must be a non-empty string");
    if (typeof x.token !== "string" || x.token === "")
      fail(`users[${i}].token`, "token must be a non-empty string");
    if (tokens.has(x.token as string)) fail(`users[${i}].token`, "token is used by another user");
    tokens.add(x.token as string);
    if (x.groups !== undefined && !(Array.isArray(x.groups) && x.groups.every((g) => typeof g === "string")))
      fail(`users[${i}].groups`, "groups must be a list of strings");
    users.push({
      name: x.name as string,
      token: x.token as string,
      groups: (x.groups as string[] | undefined) ?? [],
    });
  });
  if (d.policy === undefined) return { users };
  const p = d.policy as { rules?: unknown; default?: unknown };
  if (p === null || typeof p !== "object" || !Array.isArray(p.rules))
    return fail("policy.rules", "policy.rules must be a list");
  if (p.default !== undefined && p.default !== "allow" && p.default !== "deny")
    fail("policy.default", 'policy.default must be "allow" or "deny"');
  const rules: PolicyRule[] = (p.rules as unknown[]).map((r, i) => {
    const x = (r ?? {}) as Record<string, unknown>;
    const strings = (v: unknown): boolean =>
      v === undefined || (Array.isArray(v) && v.every((s) => typeof s === "string"));
    if (!Array.isArray(x.namespaces) || !strings(x.namespaces))
      fail(`policy.rules[${i}].namespaces`, "namespaces must be a list of strings");
    if (!strings(x.users)) fail(`policy.rules[${i}].users`, "users must be a list of strings");
    if (!strings(x.groups)) fail(`policy.rules[${i}].groups`, "groups must be a list of strings");
    const rule: PolicyRule = { namespaces: x.namespaces as string[] };
    if (x.users !== undefined) rule.users = x.users as string[];
    if (x.groups !== undefined) rule.groups = x.groups as string[];
    return rule;
  });
  const policy: WritePolicy = { rules };
  if (p.default !== undefined) policy.default = p.default as "allow" | "deny";
  return { users, policy };
}
