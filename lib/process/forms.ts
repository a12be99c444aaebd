// Camunda 8 forms (`*.form`, as Camunda Modeler saves them): read a form, show it with a task's values, and check the
// data a user submits before the task is completed.
import fs from "node:fs";
import path from "node:path";
import { SafetyFlowsError } from "../errors";
import { filesUnder } from "./resources";

/** A .form file that cannot be used; names the file and, where one is to blame, the component. */
export class FormDefinitionError extends SafetyFlowsError {
  readonly i18nKey = "errors.formDefinition";
  /** The problem without the file name. */
  readonly reason: string;
  constructor(
    message: string,
    readonly file: string,
    readonly component: string | null = null,
  ) {
    super(`${file}${component ? ` (component ${component})` : ""}: ${message}`);
    this.reason = `${component ? `component ${component}: ` : ""}${message}`;
  }
}

export type InputType = "textfield" | "textarea" | "number" | "checkbox" | "checklist" | "radio" | "select" | "taglist" | "datetime";
const INPUT_TYPES = new Set<string>(["textfield", "textarea", "number", "checkbox", "checklist", "radio", "select", "taglist", "datetime"]);
const DISPLAY_TYPES = new Set<string>(["text", "html", "spacer", "separator", "image", "button", "iframe", "table", "documentPreview", "expression", "filepicker"]);
const CONTAINER_TYPES = new Set<string>(["group"]);

export interface FormOption {
  label: string;
  value: string | number | boolean;
}

export interface FormValidation {
  required?: boolean;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  validationType?: "email" | "phone";
}

export interface FormField {
  key: string;
  type: InputType;
  label: string | null;
  description: string | null;
  defaultValue?: unknown;
  /** Static options of select, radio, checklist and taglist. */
  values: FormOption[] | null;
  /** Options from a process variable instead. */
  valuesKey: string | null;
  validate: FormValidation;
  readonly: boolean;
  /** datetime: date, time or datetime. */
  subtype: string | null;
  /** FEEL condition that hides the field (a hidden field is not submitted). */
  hide: string | null;
}

export interface FormSchema {
  id: string;
  file: string;
  /** Every component as written, for clients that render the form themselves. */
  components: unknown[];
  /** The input fields, groups flattened. */
  fields: FormField[];
}

export interface FieldError {
  key: string;
  code: string;
  message: { "en-US": string; "zh-CN": string };
}

type Raw = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value : null);
const num = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : undefined);

function readOptions(raw: Raw, file: string, name: string): FormOption[] | null {
  if (raw.values === undefined) return null;
  if (!Array.isArray(raw.values)) throw new FormDefinitionError("values must be a list of {label, value}", file, name);
  return raw.values.map((option: unknown) => {
    const o = option as Raw;
    if (!o || typeof o !== "object" || !["string", "number", "boolean"].includes(typeof o.value)) throw new FormDefinitionError("every option needs a value", file, name);
    return { label: text(o.label) ?? String(o.value), value: o.value as FormOption["value"] };
  });
}

function readField(raw: Raw, file: string): FormField {
  const name = text(raw.key) ?? text(raw.id) ?? String(raw.type);
  const key = text(raw.key);
  if (!key) throw new FormDefinitionError(`a ${String(raw.type)} field needs a key (the variable it sets)`, file, text(raw.id) ?? String(raw.type));
  const validate = (raw.validate ?? {}) as Raw;
  const valuesKey = text(raw.valuesKey);
  const values = readOptions(raw, file, name);
  const type = raw.type as InputType;
  if (["select", "radio", "checklist", "taglist"].includes(type) && !values && !valuesKey) throw new FormDefinitionError(`a ${type} needs values or a valuesKey`, file, name);
  const pattern = text(validate.pattern);
  if (pattern) {
    try {
      new RegExp(pattern);
    } catch (err) {
      throw new FormDefinitionError(`pattern is not a regular expression: ${(err as Error).message}`, file, name);
    }
  }
  const conditional = (raw.conditional ?? {}) as Raw;
  return {
    key,
    type,
    label: text(raw.label) ?? text(raw.dateLabel),
    description: text(raw.description),
    defaultValue: raw.defaultValue,
    values,
    valuesKey,
    validate: {
      required: validate.required === true,
      min: num(validate.min),
      max: num(validate.max),
      minLength: num(validate.minLength),
      maxLength: num(validate.maxLength),
      pattern: pattern ?? undefined,
      validationType: validate.validationType === "email" || validate.validationType === "phone" ? validate.validationType : undefined,
    },
    readonly: raw.readonly === true || raw.disabled === true,
    subtype: text(raw.subtype),
    hide: text(conditional.hide),
  };
}

function collect(components: unknown[], file: string, fields: FormField[], keys: Set<string>): void {
  for (const component of components) {
    const raw = component as Raw;
    if (!raw || typeof raw !== "object" || typeof raw.type !== "string") throw new FormDefinitionError("a component without a type", file, text(raw?.id) ?? null);
    if (CONTAINER_TYPES.has(raw.type)) {
      collect(Array.isArray(raw.components) ? raw.components : [], file, fields, keys);
    } else if (INPUT_TYPES.has(raw.type)) {
      const field = readField(raw, file);
      if (keys.has(field.key)) throw new FormDefinitionError(`the key ${field.key} is used twice`, file, field.key);
      keys.add(field.key);
      fields.push(field);
    } else if (raw.type === "dynamiclist") {
      throw new FormDefinitionError("dynamic lists are not supported yet; use a checklist or several fields", file, text(raw.key) ?? text(raw.id));
    } else if (!DISPLAY_TYPES.has(raw.type)) {
      throw new FormDefinitionError(`unknown component type "${raw.type}"`, file, text(raw.key) ?? text(raw.id));
    }
  }
}

/** Reads a .form file's JSON; throws FormDefinitionError naming the file and the component at fault. */
export function parseForm(file: string, json: string): FormSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new FormDefinitionError(`not JSON: ${(err as Error).message}`, file);
  }
  const form = raw as Raw;
  if (!form || typeof form !== "object" || Array.isArray(form)) throw new FormDefinitionError("a form is a JSON object", file);
  const id = text(form.id);
  if (!id) throw new FormDefinitionError("the form has no id (the formId user tasks refer to)", file);
  if (!Array.isArray(form.components)) throw new FormDefinitionError("the form has no components list", file);
  const fields: FormField[] = [];
  collect(form.components, file, fields, new Set());
  return { id, file, components: form.components, fields };
}

// ---- evaluation of simple conditions ----------------------------------------------------------------------------

/**
 * Evaluates the FEEL `hide` conditions forms use most: `=a = "x"`, `=a != 1`, `=not(a)`, `=a`, joined by `and` / `or`.
 * Anything else counts as not hidden (the field is then validated, never silently dropped).
 */
export function isHidden(condition: string | null, data: Record<string, unknown>): boolean {
  if (!condition) return false;
  const expression = condition.replace(/^=/, "").trim();
  try {
    return evaluateCondition(expression, data) === true;
  } catch {
    return false;
  }
}

function literal(token: string, data: Record<string, unknown>): unknown {
  const t = token.trim();
  if (/^".*"$/.test(t)) return t.slice(1, -1);
  if (t === "true") return true;
  if (t === "false") return false;
  if (t === "null") return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^[A-Za-z_][\w.]*$/.test(t)) return t.split(".").reduce<unknown>((value, part) => (value && typeof value === "object" ? (value as Raw)[part] : undefined), data) ?? null;
  throw new Error(`unsupported: ${t}`);
}

function evaluateCondition(expression: string, data: Record<string, unknown>): boolean {
  const ors = expression.split(/\s+or\s+/);
  if (ors.length > 1) return ors.some((part) => evaluateCondition(part, data));
  const ands = expression.split(/\s+and\s+/);
  if (ands.length > 1) return ands.every((part) => evaluateCondition(part, data));
  const not = /^not\((.*)\)$/.exec(expression.trim());
  if (not) return !evaluateCondition(not[1], data);
  const comparison = /^(.+?)\s*(!=|<=|>=|=|<|>)\s*(.+)$/.exec(expression);
  if (!comparison) return Boolean(literal(expression, data));
  const left = literal(comparison[1], data);
  const right = literal(comparison[3], data);
  switch (comparison[2]) {
    case "=":
      return left === right;
    case "!=":
      return left !== right;
    case "<":
      return Number(left) < Number(right);
    case ">":
      return Number(left) > Number(right);
    case "<=":
      return Number(left) <= Number(right);
    default:
      return Number(left) >= Number(right);
  }
}

// ---- validation -------------------------------------------------------------------------------------------------

const MESSAGES: Record<string, (field: FormField, detail?: string | number) => FieldError["message"]> = {
  required: () => ({ "en-US": "This field is required", "zh-CN": "请填写此项" }),
  "not-a-number": () => ({ "en-US": "Enter a number", "zh-CN": "请输入数字" }),
  min: (_f, d) => ({ "en-US": `Must be at least ${d}`, "zh-CN": `不能小于 ${d}` }),
  max: (_f, d) => ({ "en-US": `Must be at most ${d}`, "zh-CN": `不能大于 ${d}` }),
  "min-length": (_f, d) => ({ "en-US": `Must be at least ${d} characters`, "zh-CN": `至少 ${d} 个字符` }),
  "max-length": (_f, d) => ({ "en-US": `Must be at most ${d} characters`, "zh-CN": `最多 ${d} 个字符` }),
  pattern: () => ({ "en-US": "The value does not have the expected format", "zh-CN": "格式不正确" }),
  email: () => ({ "en-US": "Enter an email address", "zh-CN": "请输入有效的电子邮箱" }),
  phone: () => ({ "en-US": "Enter a phone number", "zh-CN": "请输入有效的电话号码" }),
  "not-a-boolean": () => ({ "en-US": "Must be checked or unchecked", "zh-CN": "只能选中或不选中" }),
  "not-an-option": () => ({ "en-US": "Choose one of the options", "zh-CN": "请从选项中选择" }),
  "not-a-list": () => ({ "en-US": "Choose from the options (a list)", "zh-CN": "请从选项中选择（列表）" }),
  "not-text": () => ({ "en-US": "Enter text", "zh-CN": "请输入文字" }),
  "not-a-date": (f) => ({ "en-US": `Enter a ${f.subtype === "time" ? "time (hh:mm)" : f.subtype === "datetime" ? "date and time" : "date (yyyy-mm-dd)"}`, "zh-CN": f.subtype === "time" ? "请输入时间（时:分）" : f.subtype === "datetime" ? "请输入日期和时间" : "请输入日期（年-月-日）" }),
  readonly: () => ({ "en-US": "This field cannot be changed", "zh-CN": "此项不可修改" }),
  "unknown-field": () => ({ "en-US": "This field is not on the form", "zh-CN": "表单中没有此项" }),
};

function fieldError(field: FormField, code: string, detail?: string | number): FieldError {
  return { key: field.key, code, message: MESSAGES[code](field, detail) };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s\-()]{6,20}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)?$/;

function optionsOf(field: FormField, variables: Record<string, unknown>): FormOption[] {
  if (field.values) return field.values;
  const fromVariable = field.valuesKey ? variables[field.valuesKey] : undefined;
  if (!Array.isArray(fromVariable)) return [];
  return fromVariable.map((option: unknown) =>
    option && typeof option === "object" ? { label: String((option as Raw).label ?? (option as Raw).value), value: (option as Raw).value as FormOption["value"] } : { label: String(option), value: option as FormOption["value"] },
  );
}

const isEmpty = (value: unknown) => value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);

/** Checks one value; returns the normalized value or an error. */
function checkValue(field: FormField, value: unknown, variables: Record<string, unknown>): { value: unknown } | { error: FieldError } {
  const v = field.validate;
  switch (field.type) {
    case "number": {
      const n = num(value);
      if (n === undefined) return { error: fieldError(field, "not-a-number") };
      if (v.min !== undefined && n < v.min) return { error: fieldError(field, "min", v.min) };
      if (v.max !== undefined && n > v.max) return { error: fieldError(field, "max", v.max) };
      return { value: n };
    }
    case "checkbox": {
      if (typeof value === "boolean") return { value };
      if (value === "true" || value === "on") return { value: true };
      if (value === "false") return { value: false };
      return { error: fieldError(field, "not-a-boolean") };
    }
    case "radio":
    case "select": {
      const option = optionsOf(field, variables).find((o) => o.value === value || String(o.value) === String(value));
      return option ? { value: option.value } : { error: fieldError(field, "not-an-option") };
    }
    case "checklist":
    case "taglist": {
      const list = typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : value;
      if (!Array.isArray(list)) return { error: fieldError(field, "not-a-list") };
      const options = optionsOf(field, variables);
      const chosen: unknown[] = [];
      for (const item of list) {
        const option = options.find((o) => o.value === item || String(o.value) === String(item));
        if (!option) return { error: fieldError(field, "not-an-option") };
        chosen.push(option.value);
      }
      return { value: chosen };
    }
    case "datetime": {
      if (typeof value !== "string") return { error: fieldError(field, "not-a-date") };
      const ok =
        field.subtype === "time" ? TIME.test(value) : field.subtype === "datetime" ? !DATE.test(value) && Number.isFinite(Date.parse(value)) : DATE.test(value) && Number.isFinite(Date.parse(value));
      return ok ? { value } : { error: fieldError(field, "not-a-date") };
    }
    default: {
      if (typeof value !== "string") return { error: fieldError(field, "not-text") };
      if (v.minLength !== undefined && value.length < v.minLength) return { error: fieldError(field, "min-length", v.minLength) };
      if (v.maxLength !== undefined && value.length > v.maxLength) return { error: fieldError(field, "max-length", v.maxLength) };
      if (v.pattern && !new RegExp(`^(?:${v.pattern})$`).test(value)) return { error: fieldError(field, "pattern") };
      if (v.validationType === "email" && !EMAIL.test(value)) return { error: fieldError(field, "email") };
      if (v.validationType === "phone" && !PHONE.test(value)) return { error: fieldError(field, "phone") };
      return { value };
    }
  }
}

/**
 * Checks submitted data against the form. Keys not on the form are refused (`unknown-field`); a read-only field may be
 * sent back unchanged (clients echo the whole form) but not changed; hidden fields are ignored. On success `values`
 * holds only the form's keys, numbers as numbers.
 */
export function validateSubmission(
  form: FormSchema,
  data: Record<string, unknown>,
  context: { variables?: Record<string, unknown> } = {},
): { ok: true; values: Record<string, unknown> } | { ok: false; errors: FieldError[] } {
  const variables = context.variables ?? {};
  const errors: FieldError[] = [];
  const values: Record<string, unknown> = {};
  const known = new Set(form.fields.map((field) => field.key));
  for (const key of Object.keys(data)) {
    if (!known.has(key)) errors.push({ key, code: "unknown-field", message: MESSAGES["unknown-field"]({} as FormField) });
  }
  const seen = { ...variables, ...data };
  for (const field of form.fields) {
    if (isHidden(field.hide, seen)) continue;
    const value = data[field.key];
    if (field.readonly) {
      if (!isEmpty(value) && JSON.stringify(value) !== JSON.stringify(variables[field.key] ?? field.defaultValue)) errors.push(fieldError(field, "readonly"));
      continue;
    }
    if (isEmpty(value) && !(field.type === "checkbox" && value === false)) {
      if (field.validate.required) errors.push(fieldError(field, "required"));
      continue;
    }
    const checked = checkValue(field, value, variables);
    if ("error" in checked) errors.push(checked.error);
    else if (field.validate.required && field.type === "checkbox" && checked.value !== true) errors.push(fieldError(field, "required"));
    else values[field.key] = checked.value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

/** What a task-list client renders: the form's fields with the task's current values and resolved options. */
export function formView(form: FormSchema, variables: Record<string, unknown>) {
  return {
    id: form.id,
    components: form.components,
    fields: form.fields.map((field) => ({
      key: field.key,
      type: field.type,
      subtype: field.subtype,
      label: field.label,
      description: field.description,
      required: field.validate.required === true,
      readonly: field.readonly,
      validate: field.validate,
      options: field.values || field.valuesKey ? optionsOf(field, variables) : null,
      value: variables[field.key] ?? field.defaultValue ?? null,
      hidden: isHidden(field.hide, variables),
    })),
  };
}

export class FormRegistry {
  private readonly forms = new Map<string, FormSchema>();

  add(form: FormSchema): void {
    this.forms.set(form.id, form);
  }

  get(formId: string): FormSchema | undefined {
    return this.forms.get(formId);
  }

  ids(): string[] {
    return [...this.forms.keys()];
  }

  /** Loads every `*.form` under a folder; a broken file is a problem naming it, the others still load. */
  loadDirectory(dir: string): { loaded: FormSchema[]; problems: Array<{ file: string; message: string }> } {
    const loaded: FormSchema[] = [];
    const problems: Array<{ file: string; message: string }> = [];
    for (const file of filesUnder(dir, ".form")) {
      try {
        const form = parseForm(path.relative(path.dirname(dir), file), fs.readFileSync(file, "utf8"));
        this.add(form);
        loaded.push(form);
      } catch (err) {
        problems.push({ file: path.relative(path.dirname(dir), file), message: err instanceof FormDefinitionError ? err.reason : (err as Error).message });
      }
    }
    return { loaded, problems };
  }
}
