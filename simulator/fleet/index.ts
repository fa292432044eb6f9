/** The synthetic fleet and its GitOps monorepo. */
import type { GitIdentity } from "./repo.ts";
import { FleetRepo, type FleetRepoOptions } from "./repo.ts";
import { fleetFiles, type RepoLayoutOptions } from "./chart.ts";
import type { Fleet } from "./generate.ts";

export * from "./chart.ts";
export * from "./generate.ts";
export * from "./repo.ts";

/** Create the monorepo in `opts.dir` with the whole fleet in one initial commit. */
export function writeFleetRepo(
  fleet: Fleet,
  opts: FleetRepoOptions & RepoLayoutOptions & { author?: GitIdentity; time?: number },
): FleetRepo {
  const repo = FleetRepo.init(opts);
  repo.commit({
    files: fleetFiles(fleet, opts),
    message: `Add ${fleet.services.length} services to the GitOps monorepo`,
    author: opts.author ?? { name: "Platform Team", email: "platform@example.com" },
    ...(opts.time !== undefined ? { time: opts.time } : {}),
  });
  return repo;
}
