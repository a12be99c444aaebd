// FEEL in the embedded engine: simple references are read directly and must give exactly what feelin gives.
import assert from "node:assert/strict";
import { evaluateFeel, toPlain } from "../../../lib/process/embedded/feel";
import { feelin } from "../../../lib/process/embedded/modules";

const VARIABLES = {
  incidentId: "INC-1",
  classes: ["a", "b"],
  count: 3,
  flag: false,
  nested: { a: { b: "deep" }, x: null },
  reports: [{ classId: "a" }, { classId: "b" }],
  nothing: null,
};

const EXPRESSIONS = [
  "=incidentId",
  "=  classes ",
  "=count",
  "=flag",
  "=nested.a.b",
  "=nested.a",
  "=nested.x",
  "=nested.x.y",
  "=missing",
  "=missing.deeper",
  "=reports.classId",
  "=nothing",
  "=nothing.x",
  "=true",
  "=null",
  '="PT60S"',
  '="two words"',
  "=count + 1",
  '=if flag then "PT1S" else "PT2S"',
];

describe("FEEL evaluation", function () {
  for (const expression of EXPRESSIONS) {
    it(`evaluates ${expression} as feelin does`, function () {
      const expected = toPlain(feelin.evaluate(expression.slice(1), VARIABLES).value);
      assert.deepEqual(evaluateFeel(expression, VARIABLES), expected);
    });
  }

  it("returns text without a leading = as it is", function () {
    assert.equal(evaluateFeel("PT5M", VARIABLES), "PT5M");
  });
});
