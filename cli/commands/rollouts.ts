/**
 * `gitops-testbed rollouts <verb> NAME [-n NS] [--kubeconfig FILE] [--context C]`:
 * the kubectl-argo-rollouts operator verbs against any cluster (the embedded
 * one served over HTTPS, kind, k3s, a real one): promote [--full], abort,
 * retry, pause, undo [--to-revision N], status.
 */
import type { Command } from "commander";
import { GtbError } from "../../engine/core/errors.ts";
import type { KubeClient } from "../../engine/kube/types.ts";
import type { Rollout } from "../../engine/rollouts/types.ts";
import { abort, pause, promote, retry, undo } from "../../engine/rollouts/verbs.ts";

interface Common {
  namespace: string;
  kubeconfig?: string;
  context?: string;
}

/** An HTTP client on the kubeconfig (client-node is loaded only by the commands that talk to a cluster). */
async function clientFor(o: Common): Promise<KubeClient> {
  const { HttpKubeClient } = await import("../../engine/kube/http-client.ts");
  const path = o.kubeconfig ?? process.env.KUBECONFIG ?? `${process.env.HOME ?? ""}/.kube/config`;
  try {
    return new HttpKubeClient(
      o.context === undefined ? { kubeconfig: path } : { kubeconfig: path, context: o.context },
    );
  } catch (e) {
    throw new GtbError("GTB_KUBECONFIG", `cannot load kubeconfig ${path}: ${(e as Error).message}`, {
      file: path,
      hint: "pass --kubeconfig FILE (e.g. from `gitops-testbed cluster serve`) or set KUBECONFIG",
    });
  }
}

function summary(ro: Rollout): string {
  const s = ro.status ?? {};
  const steps = ro.spec.strategy?.canary?.steps?.length ?? 0;
  const w = s.canary?.weights;
  return [
    `Name:            ${ro.metadata.name}`,
    `Namespace:       ${ro.metadata.namespace}`,
    `Status:          ${s.phase ?? "Unknown"}${s.message === undefined ? "" : ` (${s.message})`}`,
    `Step:            ${s.currentStepIndex ?? 0}/${steps}`,
    `SetWeight:       ${w?.canary.weight ?? 0}`,
    `Stable:          ${s.stableRS ?? "-"}`,
    `Current:         ${s.currentPodHash ?? "-"}`,
    `Replicas:        desired ${ro.spec.replicas ?? 1}, current ${s.replicas ?? 0}, updated ${s.updatedReplicas ?? 0}, available ${s.availableReplicas ?? 0}`,
  ].join("\n");
}

function common(cmd: Command): Command {
  return cmd
    .option("-n, --namespace <ns>", "namespace", "default")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context");
}

export function register(program: Command): void {
  const cmd = program
    .command("rollouts")
    .description("Argo Rollouts operator verbs (as kubectl argo rollouts)");
  const done = (verb: string, ro: Rollout): void => {
    process.stdout.write(`rollout '${ro.metadata.name}' ${verb}\n`);
  };
  common(cmd.command("promote").argument("<name>").option("--full", "skip all remaining steps and analysis"))
    .description("promote a paused rollout (or skip the current step); --full skips every remaining step")
    .action(async (name: string, o: Common & { full?: boolean }) => {
      done(
        o.full === true ? "fully promoted" : "promoted",
        await promote(await clientFor(o), o.namespace, name, { full: o.full === true }),
      );
    });
  common(cmd.command("abort").argument("<name>"))
    .description("abort the update: all traffic back to stable, canary scaled down")
    .action(async (name: string, o: Common) =>
      done("aborted", await abort(await clientFor(o), o.namespace, name)),
    );
  common(cmd.command("retry").argument("<name>"))
    .description("retry an aborted rollout")
    .action(async (name: string, o: Common) =>
      done("retried", await retry(await clientFor(o), o.namespace, name)),
    );
  common(cmd.command("pause").argument("<name>"))
    .description("pause a rollout (spec.paused)")
    .action(async (name: string, o: Common) =>
      done("paused", await pause(await clientFor(o), o.namespace, name)),
    );
  common(
    cmd
      .command("undo")
      .argument("<name>")
      .option("--to-revision <n>", "revision to roll back to (default: previous)"),
  )
    .description("roll back to a previous revision's pod template")
    .action(async (name: string, o: Common & { toRevision?: string }) => {
      const rev = o.toRevision === undefined ? undefined : Number(o.toRevision);
      if (rev !== undefined && !Number.isInteger(rev)) {
        throw new GtbError("GTB_BAD_REVISION", `invalid --to-revision "${o.toRevision}"`, {
          path: "--to-revision",
          hint: "an integer revision",
        });
      }
      done("undo", await undo(await clientFor(o), o.namespace, name, rev));
    });
  common(cmd.command("status").argument("<name>"))
    .description("print the rollout's phase, step, weight and replicas")
    .action(async (name: string, o: Common) => {
      const ro = await (await clientFor(o)).get<Rollout>({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        name,
        namespace: o.namespace,
      });
      process.stdout.write(`${summary(ro)}\n`);
    });
}
