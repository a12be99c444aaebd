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

/** Evaluates `=expr` (or a bare expression) against the variables; a static string is returned as it is. */
export function evaluateFeel(text: string, variables: Record<string, unknown>): unknown {
  if (!isFeel(text)) return text;
  const body = text.trimStart().slice(1);
  let result: { value: unknown; warnings: Array<{ message: string }> };
  try {
    result = feelin.evaluate(body, variables);
  } catch (err) {
    throw new FeelEvaluationError(body, err instanceof Error ? err.message : String(err));
  }
  return toPlain(result.value);
}
