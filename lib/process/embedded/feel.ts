// FEEL for the embedded engine: `=expr` strings from zeebe attributes evaluated by feelin, results made plain JSON.
import { feelin } from "./modules";

export class FeelEvaluationError extends Error {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(`FEEL expression "${expression}" failed: ${message}`);
  }
}

export function isFeel(text: unknown): text is string {
  return typeof text === "string" && text.trimStart().startsWith("=");
}

/** Parses without evaluating; returns the problem or null. Used at deploy so typos fail there, not mid-incident. */
export function feelSyntaxProblem(text: string): string | null {
  const body = text.trimStart().replace(/^=/, "");
  try {
    const tree = feelin.parseExpression(body, {}, undefined);
    let problem: string | null = null;
    tree.iterate({
      enter(node) {
        if (problem === null && node.type.isError) problem = `syntax error at character ${node.from + 1}`;
      },
    });
    return problem;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Turns feelin's date, time and duration objects into the ISO strings BPMN timers and JSON variables use. */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const candidate = value as { iso?: unknown; toString?: () => string; constructor?: { name?: string } };
    const typeName = candidate.constructor?.name ?? "";
    if (typeName.startsWith("Feel") || typeName.startsWith("Temporal") || typeName === "ZonedDateTime") {
      if (typeof candidate.iso === "string") return candidate.iso;
      return String(value);
    }
    const plain: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value as Record<string, unknown>)) plain[key] = toPlain(entry);
    return plain;
  }
  return value;
}

const NAME_PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/;
const PLAIN_STRING = /^\s*"([^"\\]*)"\s*$/;
const FEEL_LITERALS: Record<string, unknown> = { true: true, false: false, null: null };
const NOT_FOUND = Symbol("not found");

/**
 * Most zeebe attributes are `=someVariable`, `=a.b` or `="text"`: read directly, as feelin would read them (a missing
 * name is null), sparing a parse per evaluation. Anything else, or a path through something that is not a plain
 * object (FEEL maps a path over a list), goes to feelin.
 */
function evaluateSimple(body: string, variables: Record<string, unknown>): unknown {
  const text = PLAIN_STRING.exec(body);
  if (text) return text[1];
  const path = NAME_PATH.exec(body);
  if (!path) return NOT_FOUND;
  const names = path[1].split(".");
  if (names.length === 1 && names[0] in FEEL_LITERALS) return FEEL_LITERALS[names[0]];
  if (names.some((name) => name in FEEL_LITERALS)) return NOT_FOUND;
  let value: unknown = variables;
  for (const name of names) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value === null || value === undefined ? null : NOT_FOUND;
    value = Object.prototype.hasOwnProperty.call(value, name) ? (value as Record<string, unknown>)[name] : null;
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return NOT_FOUND;
  return value ?? null;
}

/** Evaluates `=expr` (or a bare expression) against the variables; a static string is returned as it is. */
export function evaluateFeel(text: string, variables: Record<string, unknown>): unknown {
  if (!isFeel(text)) return text;
  const body = text.trimStart().slice(1);
  const simple = evaluateSimple(body, variables);
  if (simple !== NOT_FOUND) return toPlain(simple);
  let result: { value: unknown; warnings: Array<{ message: string }> };
  try {
    result = feelin.evaluate(body, variables);
  } catch (err) {
    throw new FeelEvaluationError(body, err instanceof Error ? err.message : String(err));
  }
  return toPlain(result.value);
}
