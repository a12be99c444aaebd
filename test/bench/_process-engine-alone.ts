// The yardstick of the start-to-end figure, measured beside it: bpmn-engine by itself (no store; speedups only when
// SSF_ENGINE_SPEEDUPS is not off) running start → service task → end with a pre-parsed model, one instance after
// another. Prints instances per second.
import { compileResource, ENGINE_ELEMENTS } from "../../lib/process/embedded/model";
import { bpmnEngine, type ElementApi } from "../../lib/process/embedded/modules";
import { nowMs } from "./_stats";

const XML = process.argv[2];
const COUNT = Number(process.argv[3] ?? 2000);
const SILENT = { debug: () => undefined, error: () => undefined, warn: () => undefined };

async function main(): Promise<void> {
  const compiled = await compileResource("alone.bpmn", XML);
  const sourceContext = compiled.processes[0].sourceContext;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const engine = new bpmnEngine.Engine({
        name: "alone",
        sourceContext,
        elements: ENGINE_ELEMENTS,
        Logger: () => SILENT,
        listener: {
          emit: (name: string, api: ElementApi) => {
            if (name === "activity.wait") setImmediate(() => engine.execution?.signal({ id: api.id, executionId: api.executionId }));
          },
        },
      });
      engine.on("end", () => resolve());
      engine.on("error", reject);
      void engine.execute();
    });
  for (let i = 0; i < 200; i += 1) await once();
  const began = nowMs();
  for (let i = 0; i < COUNT; i += 1) await once();
  process.stdout.write(`${COUNT / ((nowMs() - began) / 1000)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
