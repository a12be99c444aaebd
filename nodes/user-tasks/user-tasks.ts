// user-tasks: the task list for dashboards — list tasks (by group, assignee, process or business key), claim one,
// complete one with variables checked against its form.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { ValidationError } from "../../lib/errors";
import { firstText, processEngineNode, settleInput, variablesOf } from "../../lib/nodered/process";
import { statusFailed, statusOk } from "../../lib/nodered/status";
import type { UserTaskQuery, UserTaskStatus } from "../../lib/process/engine";
import { validateSubmission } from "../../lib/process/forms";

type Action = "list" | "claim" | "complete";
const ACTIONS: readonly Action[] = ["list", "claim", "complete"];

interface UserTasksDef extends NodeDef {
  engine: string;
  action: Action | "msg";
  candidateGroups: string;
}

function listOf(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value === "string" && value.trim() !== "") return value.split(",").map((v) => v.trim()).filter(Boolean);
  return undefined;
}

export = function register(RED: NodeAPI): void {
  function UserTasks(this: Node, def: UserTasksDef): void {
    RED.nodes.createNode(this, def);
    const engineNode = processEngineNode(RED.nodes.getNode, def.engine);
    if (!engineNode) this.status(statusFailed(RED._("user-tasks.errors.engine")));

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      settleInput(
        (async () => {
          if (!engineNode) throw new ValidationError(RED._("user-tasks.errors.engine"), "engine");
          const action = (def.action === "msg" || !def.action ? firstText(msg.topic) ?? "list" : def.action) as Action;
          if (!ACTIONS.includes(action)) throw new ValidationError(RED._("user-tasks.errors.action", { action }), "topic");
          const host = await engineNode.host();
          const input = variablesOf(msg.payload);
          if (action === "list") {
            const query: UserTaskQuery = {
              candidateGroups: listOf(input.candidateGroups) ?? listOf(def.candidateGroups),
              assignee: firstText(input.assignee) ?? undefined,
              bpmnProcessId: firstText(input.bpmnProcessId) ?? undefined,
              businessKey: firstText(input.businessKey) ?? undefined,
              instanceId: firstText(input.instanceId) ?? undefined,
              status: (firstText(input.status) ?? "created") as UserTaskStatus,
            };
            const tasks = await host.engine.listUserTasks(query);
            this.status(statusOk(RED._("user-tasks.status.listed", { count: tasks.length })));
            send({ ...msg, payload: tasks });
            return;
          }
          const taskKey = firstText(input.taskKey, input.key);
          if (!taskKey) throw new ValidationError(RED._("user-tasks.errors.taskKey"), "payload.taskKey");
          if (action === "claim") {
            const assignee = firstText(input.assignee);
            if (!assignee) throw new ValidationError(RED._("user-tasks.errors.assignee"), "payload.assignee");
            const task = await host.engine.claimUserTask(taskKey, assignee);
            this.status(statusOk(RED._("user-tasks.status.claimed", { key: taskKey, assignee })));
            send({ ...msg, payload: task });
            return;
          }
          const task = await host.engine.getUserTask(taskKey);
          if (!task) throw new ValidationError(RED._("user-tasks.errors.notFound", { key: taskKey }), "payload.taskKey");
          let variables = variablesOf(input.variables);
          const form = task.formId ? host.forms.get(task.formId) : undefined;
          if (task.formId && !form) throw new ValidationError(RED._("user-tasks.errors.noForm", { form: task.formId }), "formId");
          if (form) {
            const checked = validateSubmission(form, variables, { variables: task.variables });
            if (!checked.ok) {
              const reasons = checked.errors.map((e) => `${e.key}: ${e.message["en-US"]}`).join("; ");
              throw Object.assign(new ValidationError(RED._("user-tasks.errors.invalid", { reasons }), "payload.variables"), { fields: checked.errors });
            }
            variables = checked.values;
          }
          const completedBy = firstText(input.completedBy, input.assignee) ?? undefined;
          await host.engine.completeUserTask(taskKey, variables, completedBy);
          if (completedBy) {
            await host.store.audit.record({ schoolId: host.schoolId, actor: completedBy, action: "task.complete", targetType: "user-task", targetId: taskKey, details: { bpmnProcessId: task.bpmnProcessId, businessKey: task.businessKey, via: "flow" } });
          }
          this.status(statusOk(RED._("user-tasks.status.completed", { key: taskKey })));
          send({ ...msg, payload: { key: taskKey, completed: true, variables } });
        })(),
        done,
        (reason) => this.status(statusFailed(reason)),
      );
    });
  }

  RED.nodes.registerType("user-tasks", UserTasks as unknown as (this: Node, def: NodeDef) => void);
};
