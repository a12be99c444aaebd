// Camunda 8 forms: reading .form files, the view a task list renders, and checking submitted data field by field.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FormDefinitionError, FormRegistry, formView, isHidden, parseForm, validateSubmission, type FormSchema } from "../../../lib/process/forms";
import { REPO_ROOT } from "./support";

const FORMS = path.join(REPO_ROOT, "test", "lib", "process", "forms");
const read = (name: string) => parseForm(name, fs.readFileSync(path.join(FORMS, name), "utf8"));
const codes = (result: ReturnType<typeof validateSubmission>) => (result.ok ? [] : result.errors.map((e) => [e.key, e.code]));

describe("forms (Camunda 8 .form files)", function () {
  let form: FormSchema;
  const variables = { zones: [{ label: "北门", value: "gate-north" }, { label: "操场", value: "playground" }], deviceId: "cam-7" };
  const valid = { verdict: "real", injured: "2", ambulanceCalled: true, notes: "two hurt", zoneId: "playground", agencies: ["110", "120"], callbackPhone: "+86 138 0013 8000", policeRef: "GZ1234", seenAt: "2026-11-25T08:00:00+08:00" };

  before(function () {
    form = read("verify-alarm.form");
  });

  it("reads the input fields with groups flattened, and keeps the display components for clients", function () {
    assert.equal(form.id, "verify-alarm");
    assert.deepEqual(form.fields.map((f) => [f.key, f.type]), [
      ["verdict", "radio"],
      ["injured", "number"],
      ["ambulanceCalled", "checkbox"],
      ["notes", "textarea"],
      ["zoneId", "select"],
      ["agencies", "checklist"],
      ["callbackPhone", "textfield"],
      ["policeRef", "textfield"],
      ["seenAt", "datetime"],
      ["deviceId", "textfield"],
    ]);
    assert.equal(form.components.length, 10);
  });

  it("accepts valid data and returns only the form's keys, numbers as numbers", function () {
    const result = validateSubmission(form, valid, { variables });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.values, { ...valid, injured: 2 });
  });

  it("refuses a missing required field, in English and Chinese", function () {
    const result = validateSubmission(form, { notes: "x" }, { variables });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(result.errors, [{ key: "verdict", code: "required", message: { "en-US": "This field is required", "zh-CN": "请填写此项" } }]);
  });

  it("checks numbers, lengths, options, lists, phone numbers, patterns and dates", function () {
    const bad = { verdict: "maybe", injured: "lots", notes: "x".repeat(21), zoneId: "roof", agencies: ["999"], callbackPhone: "call me", policeRef: "12", seenAt: "yesterday" };
    assert.deepEqual(codes(validateSubmission(form, bad, { variables })), [
      ["verdict", "not-an-option"],
      ["injured", "not-a-number"],
      ["notes", "max-length"],
      ["zoneId", "not-an-option"],
      ["agencies", "not-an-option"],
      ["callbackPhone", "phone"],
      ["policeRef", "pattern"],
      ["seenAt", "not-a-date"],
    ]);
    assert.deepEqual(codes(validateSubmission(form, { verdict: "real", injured: 501 }, { variables })), [["injured", "max"]]);
    assert.deepEqual(codes(validateSubmission(form, { verdict: "real", injured: -1 }, { variables })), [["injured", "min"]]);
    assert.deepEqual(codes(validateSubmission(form, { verdict: "real", ambulanceCalled: "perhaps" }, { variables })), [["ambulanceCalled", "not-a-boolean"]]);
  });

  it("refuses keys that are not on the form, and changes to read-only fields (an unchanged echo is fine)", function () {
    assert.deepEqual(codes(validateSubmission(form, { verdict: "real", colour: "red" }, { variables })), [["colour", "unknown-field"]]);
    assert.deepEqual(codes(validateSubmission(form, { verdict: "real", deviceId: "cam-9" }, { variables })), [["deviceId", "readonly"]]);
    const echoed = validateSubmission(form, { verdict: "real", deviceId: "cam-7" }, { variables });
    assert.ok(echoed.ok);
    assert.equal("deviceId" in (echoed.ok ? echoed.values : {}), false);
  });

  it("ignores a field its condition hides", function () {
    assert.equal(isHidden('=verdict = "false"', { verdict: "false" }), true);
    assert.equal(isHidden('=verdict = "false"', { verdict: "real" }), false);
    assert.equal(isHidden("=not(verified) and injured > 0", { verified: false, injured: 3 }), true);
    // A bad policeRef does not matter on a false alarm: the field is hidden.
    const result = validateSubmission(form, { verdict: "false", policeRef: "12" }, { variables });
    assert.ok(result.ok);
    assert.deepEqual(result.ok && result.values, { verdict: "false" });
  });

  it("shows the form with the task's values and the options of valuesKey", function () {
    const view = formView(form, variables);
    const field = (key: string) => view.fields.find((f) => f.key === key)!;
    assert.equal(field("deviceId").value, "cam-7");
    assert.equal(field("deviceId").readonly, true);
    assert.equal(field("verdict").required, true);
    assert.deepEqual(field("zoneId").options, variables.zones);
    assert.equal(field("notes").value, null);
  });

  it("names the file and the component for a broken form", function () {
    assert.throws(() => parseForm("broken/no-key.form", fs.readFileSync(path.join(FORMS, "broken", "no-key.form"), "utf8")), (err: unknown) => {
      assert.ok(err instanceof FormDefinitionError);
      assert.match(err.message, /^broken\/no-key\.form \(component number\): a number field needs a key/);
      return true;
    });
    assert.throws(() => parseForm("x.form", "{"), /x\.form: not JSON/);
    assert.throws(() => parseForm("x.form", '{"components": []}'), /x\.form: the form has no id/);
    assert.throws(() => parseForm("x.form", '{"id": "x", "components": [{"type": "slider", "key": "a"}]}'), /unknown component type "slider"/);
    assert.throws(() => parseForm("x.form", '{"id": "x", "components": [{"type": "number", "key": "a"}, {"type": "textfield", "key": "a"}]}'), /the key a is used twice/);
    assert.throws(() => parseForm("x.form", '{"id": "x", "components": [{"type": "select", "key": "a"}]}'), /needs values or a valuesKey/);
  });

  it("loads a folder of forms; a broken file is a problem naming it and the others load", function () {
    const registry = new FormRegistry();
    const result = registry.loadDirectory(FORMS);
    assert.deepEqual(result.loaded.map((f) => f.id), ["verify-alarm"]);
    assert.deepEqual(result.problems.map((p) => p.file).sort(), ["forms/broken/no-key.form", "forms/broken/not-json.form"]);
    assert.ok(registry.get("verify-alarm"));
  });

  it("the forms shipped in bpmn/forms all read", function () {
    const registry = new FormRegistry();
    const result = registry.loadDirectory(path.join(REPO_ROOT, "bpmn"));
    assert.deepEqual(result.problems, []);
    assert.ok(result.loaded.some((f) => f.id === "device-fault-check"));
  });
});
