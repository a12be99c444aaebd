// Validation of what a flow sends to a door: a DoorCommand, or an AccessDecision turned into one.
import { ValidationError } from "../errors";
import type { AccessDecision, DoorCommand } from "./messages";

const COLORS = ["red", "green", "amber", "blue", "off"];

function optionalMs(raw: Record<string, unknown>, name: string, max = 600_000): number | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ValidationError(`door command field "${name}" must be whole milliseconds from 0 to ${max}`, name);
  }
  return value;
}

function isDecision(raw: Record<string, unknown>): boolean {
  return typeof raw.granted === "boolean" && typeof raw.requestId === "string";
}

/** A granted decision unlocks for its unlockMs; a denied one shows red. */
export function commandForDecision(decision: Pick<AccessDecision, "granted" | "unlockMs">): DoorCommand {
  return decision.granted ? { command: "unlock", pulseMs: decision.unlockMs ?? 5000 } : { command: "led", color: "red", onMs: 1000 };
}

export function parseDoorCommand(input: unknown, topic?: unknown): DoorCommand {
  if (typeof input === "string" && input !== "") return parseDoorCommand({ command: input });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    if (typeof topic === "string" && topic !== "") return parseDoorCommand({ command: topic });
    throw new ValidationError("a door command must be an object in msg.payload, e.g. {\"command\": \"unlock\", \"pulseMs\": 5000}", "payload");
  }
  const raw = input as Record<string, unknown>;
  if (isDecision(raw)) return commandForDecision(raw as unknown as AccessDecision);
  switch (raw.command) {
    case "unlock":
      return { command: "unlock", pulseMs: optionalMs(raw, "pulseMs") };
    case "lock":
    case "hold-open":
    case "lockdown":
    case "normal":
      return { command: raw.command };
    case "led": {
      if (typeof raw.color !== "string" || !COLORS.includes(raw.color)) throw new ValidationError(`door command "led" needs color: ${COLORS.join(", ")}`, "color");
      return { command: "led", color: raw.color as "red", onMs: optionalMs(raw, "onMs"), offMs: optionalMs(raw, "offMs"), repeat: optionalMs(raw, "repeat", 100) };
    }
    case "buzzer":
      return { command: "buzzer", onMs: optionalMs(raw, "onMs"), offMs: optionalMs(raw, "offMs"), repeat: optionalMs(raw, "repeat", 100) };
    default:
      throw new ValidationError(`"${String(raw.command)}" is not a door command: use unlock, lock, hold-open, lockdown, normal, led or buzzer`, "command");
  }
}
