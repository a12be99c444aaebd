// Rule semantics as tables: credential × door × local time × calendar × mode → decision and reason.
import assert from "node:assert/strict";
import { compileIndex, compileIndexAsync, decide, withMode, type PassbackState } from "../../../lib/access/decision";
import type { AccessReason } from "../../../lib/access/messages";
import type { AccessMode } from "../../../lib/access/model";
import { parseAccessRequest } from "../../../lib/access/request";
import { ValidationError } from "../../../lib/errors";
import { beijing, request, snapshot } from "./fixtures";

type Row = [who: string, credential: string, door: string, localTime: string, expected: AccessReason];

function table(mode: AccessMode, rows: Row[]): void {
  const index = withMode(compileIndex(snapshot()), mode);
  for (const [who, credential, door, localTime, expected] of rows) {
    it(`${mode}: ${who} at ${door}, ${localTime} Beijing → ${expected}`, function () {
      const decision = decide(index, request(credential, door), beijing(localTime));
      assert.equal(decision.reason, expected);
      assert.equal(decision.granted, expected === "granted");
    });
  }
}

describe("access decision", function () {
  describe("normal mode: roles, door groups, weekly windows, school calendar", function () {
    table("normal", [
      ["grade-1 student", "1001", "gate-north", "2026-11-24T07:30", "granted"],
      ["grade-1 student", "1001", "gate-south", "2026-11-24T06:30", "granted"],
      ["grade-1 student", "1001", "gate-north", "2026-11-24T06:29", "outside-window"],
      ["grade-1 student", "1001", "gate-north", "2026-11-24T17:59", "granted"],
      ["grade-1 student", "1001", "gate-north", "2026-11-24T18:00", "outside-window"],
      ["grade-1 student", "1001", "gate-north", "2026-11-28T10:00", "outside-window"],
      ["grade-1 student", "1001", "gate-north", "2026-10-01T08:00", "holiday"],
      ["grade-1 student", "1001", "gate-north", "2027-02-10T08:00", "holiday"],
      ["grade-1 student", "1001", "gate-north", "2026-11-25T08:00", "granted"],
      ["grade-1 student", "1001", "lab-science", "2026-11-24T10:00", "no-rule"],
      ["grade-6 student", "1006", "lab-science", "2026-11-24T10:00", "granted"],
      ["grade-6 student", "1006", "lab-science", "2026-11-24T16:00", "outside-window"],
      ["grade-6 student", "1006", "lab-science", "2026-11-25T10:00", "holiday"],
      ["teacher of 6-2", "2001", "lab-science", "2026-11-24T19:00", "granted"],
      ["teacher", "2001", "gate-north", "2026-10-01T10:00", "granted"],
      ["teacher", "2001", "gate-north", "2026-11-28T21:59", "granted"],
      ["teacher", "2001", "gate-north", "2026-11-28T22:00", "outside-window"],
      ["guard", "3001", "gate-north", "2026-10-03T03:00", "granted"],
      ["visitor in validity", "4001", "gate-north", "2026-11-24T10:00", "granted"],
      ["visitor after validity", "4001", "gate-north", "2026-11-24T13:00", "expired"],
      ["visitor before validity", "4001", "gate-north", "2026-11-24T08:30", "expired"],
      ["unknown card", "7777", "gate-north", "2026-11-24T07:30", "unknown-credential"],
      ["disabled person", "9999", "gate-north", "2026-11-24T07:30", "disabled-person"],
      ["disabled card", "5001", "gate-north", "2026-11-24T07:30", "disabled-person"],
      ["grade-1 student", "1001", "boiler-room", "2026-11-24T07:30", "no-rule"],
    ]);
  });

  describe("lockdown overrides every rule but responders'", function () {
    table("lockdown", [
      ["grade-1 student", "1001", "gate-north", "2026-11-24T07:30", "mode"],
      ["teacher", "2001", "gate-north", "2026-11-24T07:30", "mode"],
      ["teacher", "2001", "lab-science", "2026-11-24T10:00", "mode"],
      ["guard", "3001", "gate-north", "2026-11-24T07:30", "granted"],
      ["guard (no rule for labs)", "3001", "lab-science", "2026-11-24T07:30", "granted"],
      ["unknown card", "7777", "gate-north", "2026-11-24T07:30", "unknown-credential"],
      ["disabled person", "9999", "gate-north", "2026-11-24T07:30", "disabled-person"],
    ]);
  });

  describe("secure mode locks the perimeter, inside doors keep their rules", function () {
    table("secure", [
      ["grade-1 student", "1001", "gate-north", "2026-11-24T07:30", "mode"],
      ["grade-6 student", "1006", "lab-science", "2026-11-24T10:00", "granted"],
      ["guard", "3001", "gate-south", "2026-11-24T07:30", "granted"],
    ]);
  });

  describe("evacuate frees the exits", function () {
    table("evacuate", [
      ["grade-1 student", "1001", "exit-east", "2026-11-28T03:00", "granted"],
      ["grade-1 student (gate)", "1001", "gate-north", "2026-10-01T03:00", "granted"],
      ["unknown card", "7777", "exit-east", "2026-11-24T07:30", "unknown-credential"],
      ["grade-1 student (lab)", "1001", "lab-science", "2026-11-24T10:00", "no-rule"],
    ]);
  });

  describe("time zones and calendar edges", function () {
    it("uses the local weekday: Monday 07:00 in Beijing is still Sunday in UTC", function () {
      const index = compileIndex(snapshot());
      assert.equal(new Date(beijing("2026-11-23T07:00")).getUTCDay(), 0);
      assert.equal(decide(index, request("1001", "gate-north"), beijing("2026-11-23T07:00")).reason, "granted");
    });

    it("uses the local date for holidays: 8 October 07:00 Beijing is the day after the holiday", function () {
      const index = compileIndex(snapshot());
      assert.equal(new Date(beijing("2026-10-08T07:00")).toISOString().slice(0, 10), "2026-10-07");
      assert.equal(decide(index, request("1001", "gate-north"), beijing("2026-10-08T07:00")).reason, "granted");
      assert.equal(decide(index, request("1001", "gate-north"), beijing("2026-10-07T23:59")).reason, "holiday");
    });

    it("follows daylight saving time in other zones (New York, 1 November 2026)", function () {
      const index = compileIndex(snapshot({ settings: { ...snapshot().settings, timeZone: "America/New_York" } }));
      // Friday before the change: EDT, UTC-4; Monday after: EST, UTC-5.
      assert.equal(decide(index, request("1001", "gate-north"), Date.parse("2026-10-30T10:30:00Z")).reason, "granted");
      assert.equal(decide(index, request("1001", "gate-north"), Date.parse("2026-10-30T10:29:00Z")).reason, "outside-window");
      assert.equal(decide(index, request("1001", "gate-north"), Date.parse("2026-11-02T11:30:00Z")).reason, "granted");
      assert.equal(decide(index, request("1001", "gate-north"), Date.parse("2026-11-02T11:29:00Z")).reason, "outside-window");
    });

    it("treats every day as a school day when no term is defined", function () {
      const index = compileIndex(snapshot({ calendar: [] }));
      assert.equal(decide(index, request("1001", "gate-north"), beijing("2027-02-10T08:00")).reason, "granted");
    });
  });

  describe("anti-passback", function () {
    it("refuses a second entry without an exit, at gates only", function () {
      const index = compileIndex(snapshot({ settings: { ...snapshot().settings, antiPassback: true } }));
      const state: PassbackState = new Map();
      const at = beijing("2026-11-24T07:30");
      assert.equal(decide(index, request("1001", "gate-north", { direction: "in" }), at, state).reason, "granted");
      assert.equal(decide(index, request("1001", "gate-south", { direction: "in" }), at, state).reason, "anti-passback");
      assert.equal(decide(index, request("1001", "gate-south", { direction: "out" }), at, state).reason, "granted");
      assert.equal(decide(index, request("1001", "gate-north", { direction: "in" }), at, state).reason, "granted");
    });
  });

  it("compiles the same index asynchronously, and shares rule lists between alike people", async function () {
    const sync = compileIndex(snapshot());
    const lazy = await compileIndexAsync(snapshot(), { yieldEvery: 2 });
    assert.deepEqual([...lazy.rulesByPerson.keys()], [...sync.rulesByPerson.keys()]);
    assert.equal(lazy.rulesByPerson.get("s1"), lazy.rulesByPerson.get("gone"), "students alike share one list");
    for (const [value, door] of [["1001", "gate-north"], ["1006", "lab-science"], ["4001", "gate-north"]]) {
      const at = beijing("2026-11-24T10:00");
      assert.deepEqual(decide(lazy, request(value, door), at), decide(sync, request(value, door), at));
    }
  });

  it("validates AccessRequests, naming the bad field", function () {
    const good = request("1001", "gate-north");
    assert.deepEqual(parseAccessRequest(good), { ...good, credential: { kind: "card", value: "1001", format: undefined, facilityCode: undefined }, direction: undefined });
    for (const [bad, field] of [
      [{ ...good, doorId: "" }, "doorId"],
      [{ ...good, credential: undefined }, "credential"],
      [{ ...good, credential: { kind: "iris", value: "x" } }, "credential.kind"],
      [{ ...good, direction: "up" }, "direction"],
      [{ ...good, occurredAt: "soon" }, "occurredAt"],
      ["card 1001", "payload"],
    ] as const) {
      assert.throws(() => parseAccessRequest(bad), (err: unknown) => err instanceof ValidationError && err.field === field);
    }
  });
});
