// Line protocols of stand-alone panic buttons on serial lines: one configurable parser per profile.
import { DeviceProtocolError, ConfigError } from "../../errors";
import { SEVERITIES, type Severity } from "../../events";

export interface LineState {
  kind: string;
  severity: Severity;
  /** The button went back to normal (released, reset): clears the kind's alarm. */
  restore?: boolean;
  silent?: boolean;
}

export interface LineProfile {
  name: string;
  /** Must capture `device` and `state`; may capture `seq` (echoed in the acknowledgement) and `zone`. */
  pattern: RegExp;
  states: Record<string, LineState>;
  /** Sent after the event is journaled; ${seq} and ${device} are filled in. Empty: no acknowledgement. */
  ack: string;
}

export interface LineFrame {
  device: string;
  state: string;
  seq: string | null;
  zone: string | null;
  meaning: LineState;
  raw: string;
}

/** The built-in profile: `BTN,<device>,<STATE>[,<seq>]`, answered with `ACK,<seq>`. */
export const BUTTON_PROFILE: LineProfile = {
  name: "button",
  pattern: /^BTN,(?<device>[\w.-]{1,64}),(?<state>[A-Z]{2,16})(?:,(?<seq>\d{1,10}))?$/,
  states: {
    PRESS: { kind: "panic", severity: "critical" },
    SILENT: { kind: "panic-silent", severity: "critical", silent: true },
    RELEASE: { kind: "panic", severity: "info", restore: true },
    TAMPER: { kind: "tamper", severity: "high" },
    LOWBAT: { kind: "battery-low", severity: "low" },
    TEST: { kind: "test-report", severity: "info" },
  },
  ack: "ACK,${seq}\r\n",
};

const KIND = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Builds a profile from node settings, refusing what would silently never match. */
export function lineProfileFrom(settings: { pattern: string; states: unknown; ack?: string; name?: string }): LineProfile {
  let pattern: RegExp;
  try {
    pattern = new RegExp(settings.pattern);
  } catch (err) {
    throw new ConfigError(`line pattern is not a valid regular expression: ${(err as Error).message}`, "pattern");
  }
  if (!settings.pattern.includes("(?<device>") || !settings.pattern.includes("(?<state>")) {
    throw new ConfigError("line pattern must capture (?<device>…) and (?<state>…)", "pattern");
  }
  if (typeof settings.states !== "object" || settings.states === null || Array.isArray(settings.states)) {
    throw new ConfigError('line states must be an object such as {"PRESS": {"kind": "panic", "severity": "critical"}}', "states");
  }
  const states: Record<string, LineState> = {};
  for (const [state, value] of Object.entries(settings.states as Record<string, Record<string, unknown>>)) {
    if (typeof value?.kind !== "string" || !KIND.test(value.kind)) throw new ConfigError(`line state ${state}: kind must be kebab-case, e.g. "panic"`, "states");
    if (!(SEVERITIES as readonly string[]).includes(String(value.severity))) {
      throw new ConfigError(`line state ${state}: severity must be one of ${SEVERITIES.join(", ")}`, "states");
    }
    states[state] = { kind: value.kind, severity: value.severity as Severity, restore: value.restore === true, silent: value.silent === true };
  }
  return { name: settings.name ?? "custom", pattern, states, ack: settings.ack ?? "" };
}

export function parseLine(profile: LineProfile, line: string): LineFrame {
  const match = profile.pattern.exec(line);
  if (!match?.groups) throw new DeviceProtocolError(`line does not match the ${profile.name} profile: "${line.slice(0, 80)}"`);
  const state = match.groups.state;
  const meaning = profile.states[state];
  if (!meaning) throw new DeviceProtocolError(`unknown button state "${state}" in "${line.slice(0, 80)}"; known: ${Object.keys(profile.states).join(", ")}`);
  return { device: match.groups.device, state, seq: match.groups.seq ?? null, zone: match.groups.zone ?? null, meaning, raw: line };
}

export function lineAck(profile: LineProfile, frame: LineFrame): string {
  if (!profile.ack) return "";
  return profile.ack.replace(/\$\{seq\}/g, frame.seq ?? "").replace(/\$\{device\}/g, frame.device).replace(/,\r\n$/, "\r\n");
}
