// One door behind a reader: contact and request-to-exit inputs, the lock relay, and the forced / held-open rules.
import type { DoorCommand } from "../../access/messages";
import { buzzerRecord, CMD, ledRecord, outputRecord } from "./messages";

export interface DoorOptions {
  /** Input wired to the door contact (active = open). */
  contactInput: number;
  /** Input wired to the request-to-exit button (active = pressed). */
  rexInput: number;
  lockOutput: number;
  heldOpenMs: number;
  defaultPulseMs: number;
  /** After an unlock or an exit request, how long an opening still counts as authorised. */
  graceMs: number;
}

export type DoorMode = "normal" | "lockdown" | "held-open";
export type DoorAlarm = { kind: "door-forced" | "door-held"; openSinceMs: number };

export interface ReaderCommand {
  code: number;
  data: Buffer;
}

export class DoorState {
  mode: DoorMode = "normal";
  private authorisedUntilMs = 0;
  private openSinceMs: number | null = null;
  private heldReported = false;
  private rexActive = false;

  constructor(private readonly options: DoorOptions) {}

  get isOpen(): boolean {
    return this.openSinceMs !== null;
  }

  /** Input states from the reader; returns the alarms they raise. */
  inputs(states: boolean[], nowMs: number): DoorAlarm[] {
    const alarms: DoorAlarm[] = [];
    const rex = states[this.options.rexInput] === true;
    if (rex && !this.rexActive && this.mode !== "lockdown") this.authorisedUntilMs = Math.max(this.authorisedUntilMs, nowMs + this.options.graceMs);
    this.rexActive = rex;
    const open = states[this.options.contactInput] === true;
    if (open && this.openSinceMs === null) {
      this.openSinceMs = nowMs;
      this.heldReported = false;
      if (this.mode !== "held-open" && nowMs > this.authorisedUntilMs) alarms.push({ kind: "door-forced", openSinceMs: nowMs });
    } else if (!open) {
      this.openSinceMs = null;
    }
    return alarms;
  }

  /** Periodic check: a door open longer than allowed is reported once per opening. */
  check(nowMs: number): DoorAlarm[] {
    if (this.openSinceMs === null || this.heldReported || this.mode === "held-open") return [];
    if (nowMs - this.openSinceMs <= this.options.heldOpenMs) return [];
    this.heldReported = true;
    return [{ kind: "door-held", openSinceMs: this.openSinceMs }];
  }

  /**
   * What to send the reader for a command. In lockdown an unlock is refused (the door stays locked and shows red)
   * unless it is a deliberate `normal` first.
   */
  commandsFor(command: DoorCommand, nowMs: number): { frames: ReaderCommand[]; refused: boolean } {
    const out = (control: "off" | "on" | "pulse", timerTenths?: number) => ({ code: CMD.OUT, data: outputRecord({ output: this.options.lockOutput, control, timerTenths }) });
    const led = (color: "red" | "green" | "amber" | "off", permanent: boolean, tenths = 30) => ({
      code: CMD.LED,
      data: permanent ? ledRecord({ permanent: { onColor: color } }) : ledRecord({ temporary: { onColor: color, onTenths: tenths, offTenths: 0, timerTenths: tenths } }),
    });
    switch (command.command) {
      case "unlock": {
        if (this.mode === "lockdown") return { frames: [led("red", false, 10), { code: CMD.BUZ, data: buzzerRecord({ onTenths: 2, offTenths: 1, count: 2 }) }], refused: true };
        const pulseMs = command.pulseMs ?? this.options.defaultPulseMs;
        this.authorisedUntilMs = nowMs + pulseMs + this.options.graceMs;
        return { frames: [out("pulse", Math.max(1, Math.round(pulseMs / 100))), led("green", false, Math.max(1, Math.round(pulseMs / 100)))], refused: false };
      }
      case "lock":
        this.mode = this.mode === "held-open" ? "normal" : this.mode;
        return { frames: [out("off")], refused: false };
      case "hold-open":
        if (this.mode === "lockdown") return { frames: [led("red", false, 10)], refused: true };
        this.mode = "held-open";
        return { frames: [out("on"), led("green", true)], refused: false };
      case "lockdown":
        this.mode = "lockdown";
        this.authorisedUntilMs = 0;
        return { frames: [out("off"), led("red", true)], refused: false };
      case "normal":
        this.mode = "normal";
        return { frames: [out("off"), led("off", true)], refused: false };
      case "led":
        return {
          frames: [{ code: CMD.LED, data: ledRecord({ temporary: { onColor: command.color === "blue" ? "amber" : command.color, onTenths: Math.round((command.onMs ?? 1000) / 100), offTenths: Math.round((command.offMs ?? 0) / 100), timerTenths: Math.round(((command.onMs ?? 1000) + (command.offMs ?? 0)) * (command.repeat ?? 1) / 100) } }) }],
          refused: false,
        };
      case "buzzer":
        return { frames: [{ code: CMD.BUZ, data: buzzerRecord({ onTenths: Math.round((command.onMs ?? 200) / 100), offTenths: Math.round((command.offMs ?? 100) / 100), count: command.repeat ?? 1 }) }], refused: false };
    }
  }
}
