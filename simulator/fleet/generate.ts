/**
 * The synthetic fleet: N services with names, teams, tiers, request rates, replicas, SLOs and
 * images. Service i is generated from its own fork of the seed (and faker seeded from it), so it
 * does not depend on how many services there are: 201 services keep the first 200 identical.
 *
 * Tier proportions follow the case study's migration groups: internal non-critical services
 * (weeks 1-3) 30%, tier-2 customer-facing (weeks 4-7) 45%, tier-1 critical (weeks 8-10) 25%.
 * Tiers are assigned by a golden-ratio sequence, so every prefix of the fleet is within one
 * service of those proportions.
 */
// the English locale alone: the package root loads every locale (~0.3 s of CPU at each start)
import { faker } from "@faker-js/faker/locale/en";
import { GtbError } from "../../engine/core/errors.ts";
import { SeededRng } from "../clock/rng.ts";
import type { Tier } from "../events.ts";
import type { VersionBehaviour } from "../traffic/behaviour.ts";
import type { ServiceTrafficSpec } from "../traffic/service.ts";

export interface TierShares {
  internal: number;
  "tier-2": number;
  "tier-1": number;
}

export const DEFAULT_TIER_SHARES: Readonly<TierShares> = { internal: 0.3, "tier-2": 0.45, "tier-1": 0.25 };

export interface FleetOptions {
  seed: number | string;
  /** Number of services (default 200). */
  services?: number;
  tierShares?: TierShares;
  /** Image registry host (default registry.example.com). */
  registry?: string;
  /** Request rate range, log-uniform (default 1..2000 rps). */
  minRps?: number;
  maxRps?: number;
  /** SLO defaults (case study: error rate < 0.5%, P99 < 500 ms). */
  sloErrorRate?: number;
  sloP99Ms?: number;
}

export interface FleetService {
  /** Index in the fleet (0-based). */
  index: number;
  /** DNS-1123 label, unique in the fleet, e.g. "payments-api". */
  name: string;
  namespace: string;
  team: string;
  tier: Tier;
  /** Mean request rate, requests per second. */
  rps: number;
  replicas: number;
  slo: { errorRate: number; p99Ms: number };
  image: { repository: string; tag: string };
  /** Healthy baseline behaviour of its versions. */
  baseline: { errorRatio: number; p50Ms: number; p99Ms: number };
  owner: { name: string; email: string };
}

export interface Fleet {
  seed: string;
  services: FleetService[];
  teams: string[];
}

const DOMAINS: Record<Tier, readonly string[]> = {
  internal: [
    "metrics",
    "logs",
    "traces",
    "dashboards",
    "alerts",
    "ci",
    "build",
    "artifacts",
    "docs",
    "search-index",
    "feature-flags",
    "config",
    "secrets-sync",
    "cost",
    "audit",
    "backup",
    "status-page",
    "oncall",
    "sandbox",
    "lint",
  ],
  "tier-2": [
    "preferences",
    "notifications",
    "analytics",
    "recommendations",
    "profiles",
    "reviews",
    "media",
    "email",
    "sms",
    "push",
    "reports",
    "exports",
    "imports",
    "comments",
    "favorites",
    "catalog",
    "pricing-preview",
    "onboarding",
    "surveys",
    "referrals",
  ],
  "tier-1": [
    "payments",
    "auth",
    "api-gateway",
    "checkout",
    "billing",
    "ledger",
    "accounts",
    "identity",
    "sessions",
    "orders",
    "inventory",
    "fraud",
    "tokens",
    "edge",
    "invoices",
    "subscriptions",
    "wallet",
    "payouts",
  ],
};

const SUFFIXES: Record<Tier, readonly string[]> = {
  internal: ["service", "worker", "web", "exporter", "scheduler", "api"],
  "tier-2": ["api", "worker", "service", "consumer", "web", "sync"],
  "tier-1": ["api", "service", "gateway", "worker", "processor"],
};

const TEAMS: Record<Tier, readonly string[]> = {
  internal: ["platform", "observability", "developer-experience", "infra-tools"],
  "tier-2": ["growth", "engagement", "messaging", "insights", "content"],
  "tier-1": ["payments", "identity", "edge", "core-commerce"],
};

const PHI = 0.6180339887498949;

/** Lower-case, [a-z0-9-], no leading/trailing dash, at most `max` characters. */
export function dns1123(s: string, max = 63): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, max)
    .replace(/^-+|-+$/g, "");
  return out.length > 0 ? out : "svc";
}

export function generateFleet(opts: FleetOptions): Fleet {
  const n = opts.services ?? 200;
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new GtbError("GTB_FLEET_BAD_SIZE", `fleet size must be an integer in 1..10000, got ${n}`, {
      path: "services",
      hint: "the case study uses 200 services",
    });
  }
  const shares = opts.tierShares ?? DEFAULT_TIER_SHARES;
  const total = shares.internal + shares["tier-2"] + shares["tier-1"];
  if (!(total > 0)) {
    throw new GtbError("GTB_FLEET_BAD_TIERS", "tier shares must be >= 0 and not all 0", {
      path: "tierShares",
    });
  }
  const root = new SeededRng(`fleet/${String(opts.seed)}`);
  const phase = root.fork("tiers").float();
  const minRps = opts.minRps ?? 1;
  const maxRps = opts.maxRps ?? 2000;
  const registry = opts.registry ?? "registry.example.com";
  const taken = new Set<string>();
  const services: FleetService[] = [];
  for (let i = 0; i < n; i++) {
    const rng = root.fork(`service-${i}`);
    faker.seed(rng.int(0, 2 ** 31 - 1));
    const u = (phase + i * PHI) % 1;
    const tier: Tier =
      u < shares.internal / total
        ? "internal"
        : u < (shares.internal + shares["tier-2"]) / total
          ? "tier-2"
          : "tier-1";
    const domain = faker.helpers.arrayElement(DOMAINS[tier]);
    const suffix = faker.helpers.arrayElement(SUFFIXES[tier]);
    let name = dns1123(`${domain}-${suffix}`, 50);
    if (taken.has(name)) name = dns1123(`${domain}-${faker.word.noun()}-${suffix}`, 50);
    for (let k = 2; taken.has(name); k++) name = dns1123(`${domain}-${suffix}-${k}`, 50);
    taken.add(name);
    const team = faker.helpers.arrayElement(TEAMS[tier]);
    const rps = Math.exp(Math.log(minRps) + rng.float() * (Math.log(maxRps) - Math.log(minRps)));
    const span = Math.log(maxRps / minRps);
    const replicas = Math.min(
      10,
      Math.max(2, 2 + Math.round((8 * Math.log(rps / minRps)) / (span > 0 ? span : 1))),
    );
    const p50Ms = Math.round(8 + rng.float() * 72);
    const p99Ms = Math.round(Math.min(380, p50Ms * (3 + rng.float() * 3)));
    const first = faker.person.firstName();
    const last = faker.person.lastName();
    services.push({
      index: i,
      name,
      namespace: team,
      team,
      tier,
      rps: Math.round(rps * 1000) / 1000,
      replicas,
      slo: { errorRate: opts.sloErrorRate ?? 0.005, p99Ms: opts.sloP99Ms ?? 500 },
      image: {
        repository: `${registry}/${team}/${name}`,
        tag: `${rng.int(1, 4)}.${rng.int(0, 30)}.${rng.int(0, 20)}`,
      },
      baseline: { errorRatio: Math.round((0.0002 + rng.float() * 0.0013) * 1e6) / 1e6, p50Ms, p99Ms },
      owner: {
        name: `${first} ${last}`,
        email: `${dns1123(`${first}.${last}`).replace(/-/g, ".")}@example.com`,
      },
    });
  }
  const teams = [...new Set(services.map((s) => s.team))].sort();
  return { seed: String(opts.seed), services, teams };
}

/** The healthy behaviour of a fleet service's versions. */
export function baselineBehaviour(s: FleetService): VersionBehaviour {
  return { errorRatio: s.baseline.errorRatio, latency: { p50Ms: s.baseline.p50Ms, p99Ms: s.baseline.p99Ms } };
}

/** The traffic model's registration for a fleet service. */
export function trafficSpec(s: FleetService): ServiceTrafficSpec {
  return { namespace: s.namespace, service: s.name, baseRps: s.rps, behaviour: baselineBehaviour(s) };
}
