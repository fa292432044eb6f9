/**
 * Worker thread of a sweep: receives RunTasks, answers each with its sample or its error.
 * World runners come from the module named in workerData.worldsModule (its WORLD_RUNNERS
 * export), so the caller decides which worlds exist without library code importing the CLI.
 */
import { parentPort, workerData } from "node:worker_threads";
import { toThreadError } from "../../simulator/threads.ts";
import { type RunTask, runOne, type WorldRunners } from "./run-one.ts";

interface Message {
  id: number;
  task: RunTask;
}

const port = parentPort;
const moduleUrl = (workerData as { worldsModule?: string } | undefined)?.worldsModule;
let runners: Promise<WorldRunners> | undefined;

function loadRunners(): Promise<WorldRunners> {
  runners ??=
    moduleUrl === undefined
      ? Promise.resolve({})
      : import(moduleUrl).then((m: { WORLD_RUNNERS?: WorldRunners }) => m.WORLD_RUNNERS ?? {});
  return runners;
}

port?.on("message", (msg: Message) => {
  loadRunners()
    .then((r) => runOne(msg.task, r))
    .then(
      (sample) => port.postMessage({ id: msg.id, sample }),
      (e: unknown) =>
        port.postMessage({
          id: msg.id,
          error: toThreadError(e),
        }),
    );
});
