// The template editor's model: fields derived from the instructions' {{placeholders}},
// client-side checks that mirror the API's, and the API's per-field problems mapped back.

import { isApiError } from "../../api/client";
import { fieldProblem } from "../../api/problemField";
import type { NewTemplate, Template, TemplateKind } from "../../api/types";

export const KIND_LABELS: Record<TemplateKind, string> = {
  blog_post: "Blog post",
  email: "Email",
  social_post: "Social post",
  ad: "Ad",
  landing_page: "Landing page",
  custom: "Custom",
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind as TemplateKind] ?? kind.replace(/_/g, " ");
}

export const FIELD_NAME = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_FIELDS = 20;

/** Placeholder names in order of first use, or what is wrong with them (as the API says it). */
export function placeholderNames(instructions: string): { names: string[]; error?: string } {
  const names: string[] = [];
  let at = 0;
  for (;;) {
    const open = instructions.indexOf("{{", at);
    if (open < 0) break;
    const close = instructions.indexOf("}}", open + 2);
    if (close < 0) return { names, error: "A {{ is never closed with }}." };
    const name = instructions.slice(open + 2, close).trim();
    if (!FIELD_NAME.test(name)) {
      return {
        names,
        error: `{{${name.slice(0, 40)}}} is not a placeholder: names are a lowercase letter, then lowercase letters, digits and _.`,
      };
    }
    if (!names.includes(name)) names.push(name);
    at = close + 2;
  }
  return { names };
}

export interface FieldSettings {
  label: string;
  required: boolean;
  /** Text of the input; 1–10,000, blank for the default 2,000. */
  maxLength: string;
}

export interface TemplateFormValues {
  name: string;
  kind: TemplateKind;
  description: string;
  instructions: string;
  /** Settings per field name; kept when a placeholder is removed, so retyping it restores them. */
  settings: Record<string, FieldSettings>;
  /** Declared fields the instructions do not use (from an existing template), still kept. */
  extraFields: string[];
  targetLength: string;
  tone: string;
}

export type TemplateFormKey = "name" | "kind" | "description" | "instructions" | "targetLength" | "tone" | "fields";
/** Errors per form control; a field's settings are keyed `field.<name>.<label|maxLength>`. */
export type TemplateFormErrors = Partial<Record<TemplateFormKey | `field.${string}`, string>>;

export const emptyTemplateForm: TemplateFormValues = {
  name: "",
  kind: "custom",
  description: "",
  instructions: "",
  settings: {},
  extraFields: [],
  targetLength: "",
  tone: "",
};

export function formFromTemplate(template: Template): TemplateFormValues {
  const used = placeholderNames(template.instructions).names;
  const settings: Record<string, FieldSettings> = {};
  for (const f of template.fields) {
    settings[f.name] = { label: f.label, required: f.required, maxLength: String(f.max_length) };
  }
  return {
    name: template.name,
    kind: template.kind,
    description: template.description,
    instructions: template.instructions,
    settings,
    extraFields: template.fields.map((f) => f.name).filter((n) => !used.includes(n)),
    targetLength: template.target_length === null ? "" : String(template.target_length),
    tone: template.tone ?? "",
  };
}

export interface DerivedField extends FieldSettings {
  name: string;
  /** Whether the instructions use it. */
  used: boolean;
}

/** The fields the template declares: its placeholders in order, then kept extras. */
export function derivedFields(values: TemplateFormValues): DerivedField[] {
  const { names } = placeholderNames(values.instructions);
  const all = [...names, ...values.extraFields.filter((n) => !names.includes(n))];
  return all.map((name) => ({
    name,
    used: names.includes(name),
    ...(values.settings[name] ?? { label: "", required: false, maxLength: "" }),
  }));
}

/** Checks the form as the API would, and builds the body (`null` clears length and tone). */
export function parseTemplateForm(
  values: TemplateFormValues,
): { ok: true; body: NewTemplate & { target_length: number | null; tone: string | null } } | { ok: false; errors: TemplateFormErrors } {
  const errors: TemplateFormErrors = {};
  const name = values.name.trim();
  if (!name) errors.name = "Give the template a name.";
  else if ([...name].length > 100) errors.name = "At most 100 characters.";
  if ([...values.description].length > 1000) errors.description = "At most 1,000 characters.";
  const placeholders = placeholderNames(values.instructions);
  if (!values.instructions.trim()) errors.instructions = "Write the instructions for the writer.";
  else if ([...values.instructions].length > 8000) errors.instructions = "At most 8,000 characters.";
  else if (placeholders.error) errors.instructions = placeholders.error;
  const fields = derivedFields(values);
  if (fields.length > MAX_FIELDS) errors.fields = `At most ${MAX_FIELDS} fields.`;
  for (const f of fields) {
    if ([...f.label.trim()].length > 100) errors[`field.${f.name}.label`] = "At most 100 characters.";
    if (f.maxLength.trim() !== "") {
      const n = Number(f.maxLength);
      if (!Number.isInteger(n) || n < 1 || n > 10000) errors[`field.${f.name}.maxLength`] = "A whole number from 1 to 10,000.";
    }
  }
  let targetLength: number | null = null;
  if (values.targetLength.trim() !== "") {
    const n = Number(values.targetLength);
    if (!Number.isInteger(n) || n < 10 || n > 5000) errors.targetLength = "A whole number of words from 10 to 5,000.";
    else targetLength = n;
  }
  const tone = values.tone.trim();
  if ([...tone].length > 200) errors.tone = "At most 200 characters.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    body: {
      name,
      kind: values.kind,
      description: values.description.trim(),
      instructions: values.instructions,
      fields: fields.map((f) => ({
        name: f.name,
        label: f.label.trim(),
        required: f.required,
        max_length: f.maxLength.trim() === "" ? 2000 : Number(f.maxLength),
      })),
      target_length: targetLength,
      tone: tone || null,
    },
  };
}

const TOP_LEVEL: Record<string, TemplateFormKey> = {
  name: "name",
  kind: "kind",
  description: "description",
  instructions: "instructions",
  target_length: "targetLength",
  tone: "tone",
  fields: "fields",
};

/**
 * Places an API refusal beside the control it concerns: `fields[i].x` maps to the i-th
 * field sent, a taken name to the name. Null when the problem names no control.
 */
export function errorsFromProblem(error: unknown, sentFields: string[]): TemplateFormErrors | null {
  if (isApiError(error) && error.code === "template_name_taken") {
    return { name: `${error.detail}. Choose another name.` };
  }
  const problem = fieldProblem(error);
  if (!problem) return null;
  const indexed = /^fields\[(\d+)\]\.(label|max_length|name)$/.exec(problem.path);
  if (indexed) {
    const name = sentFields[Number(indexed[1])];
    if (!name) return { fields: problem.message };
    if (indexed[2] === "name") return { instructions: `{{${name}}}: ${problem.message}` };
    return { [`field.${name}.${indexed[2] === "label" ? "label" : "maxLength"}`]: problem.message };
  }
  const key = TOP_LEVEL[problem.path];
  return key ? { [key]: problem.message } : null;
}
