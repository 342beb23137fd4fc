import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useCreateTemplate, useUpdateTemplate } from "../../api/queries";
import type { Template, TemplateKind } from "../../api/types";
import { ErrorState } from "../../components/StateViews";
import { Field } from "../Crawls/StartCrawlForm";
import {
  derivedFields,
  emptyTemplateForm,
  errorsFromProblem,
  formFromTemplate,
  KIND_LABELS,
  parseTemplateForm,
  placeholderNames,
  type FieldSettings,
  type TemplateFormErrors,
  type TemplateFormValues,
} from "./templateForm";

/** Creates a template, or edits `template` (its creator or an admin; the list offers it only then). */
export function TemplateEditor({
  template,
  copied = false,
  onDone,
}: {
  template?: Template;
  copied?: boolean;
  onDone: () => void;
}) {
  const [values, setValues] = useState<TemplateFormValues>(() =>
    template ? formFromTemplate(template) : emptyTemplateForm,
  );
  const [errors, setErrors] = useState<TemplateFormErrors>({});
  const create = useCreateTemplate();
  const update = useUpdateTemplate();
  const mutation = template ? update : create;
  const [unplaced, setUnplaced] = useState<unknown>(null);
  const ids = {
    heading: useId(),
    name: useId(),
    kind: useId(),
    description: useId(),
    instructions: useId(),
    length: useId(),
    tone: useId(),
    fields: useId(),
  };
  const nameRef = useRef<HTMLInputElement>(null);
  useEffect(() => nameRef.current?.focus(), []);

  const set = <K extends keyof TemplateFormValues>(key: K, value: TemplateFormValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));
  const setField = (name: string, patch: Partial<FieldSettings>) =>
    setValues((v) => ({
      ...v,
      settings: { ...v.settings, [name]: { label: "", required: false, maxLength: "", ...v.settings[name], ...patch } },
    }));

  const fields = derivedFields(values);
  const placeholderError = placeholderNames(values.instructions).error;

  const controlIds: Record<string, string> = {
    name: ids.name,
    kind: ids.kind,
    description: ids.description,
    instructions: ids.instructions,
    targetLength: ids.length,
    tone: ids.tone,
    fields: ids.fields,
  };
  const focusFirst = (found: TemplateFormErrors) => {
    const first = Object.keys(found)[0];
    if (!first) return;
    const target = first.startsWith("field.") ? `${ids.fields}-${first.slice(6).replace(".", "-")}` : controlIds[first];
    if (target) document.getElementById(target)?.focus();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseTemplateForm(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      focusFirst(parsed.errors);
      return;
    }
    setErrors({});
    setUnplaced(null);
    const sent = parsed.body.fields?.map((f) => f.name) ?? [];
    const onError = (error: unknown) => {
      const placed = errorsFromProblem(error, sent);
      if (placed) {
        setErrors(placed);
        focusFirst(placed);
      } else {
        setUnplaced(error);
      }
    };
    if (template) {
      update.mutate({ id: template.id, patch: parsed.body }, { onSuccess: onDone, onError });
    } else {
      create.mutate(parsed.body, { onSuccess: onDone, onError });
    }
  };

  const describedBy = (id: string, error?: string, hint = false) =>
    [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;

  return (
    <form className="card form template-editor" aria-labelledby={ids.heading} onSubmit={submit} noValidate>
      <h2 id={ids.heading}>{template ? `Edit “${template.name}”` : "New template"}</h2>
      {copied ? (
        <p className="notice" role="status">
          Copied. This copy is yours: adjust it below, or close to keep it as it is.
        </p>
      ) : null}
      <div className="template-editor-grid">
        <Field id={ids.name} label="Name" error={errors.name}>
          <input
            ref={nameRef}
            id={ids.name}
            type="text"
            maxLength={100}
            value={values.name}
            onChange={(e) => set("name", e.target.value)}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={describedBy(ids.name, errors.name)}
          />
        </Field>
        <Field id={ids.kind} label="Kind" error={errors.kind}>
          <select
            id={ids.kind}
            value={values.kind}
            onChange={(e) => set("kind", e.target.value as TemplateKind)}
            aria-describedby={describedBy(ids.kind, errors.kind)}
          >
            {Object.entries(KIND_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field id={ids.description} label="Description (optional)" error={errors.description}>
        <input
          id={ids.description}
          type="text"
          value={values.description}
          onChange={(e) => set("description", e.target.value)}
          aria-invalid={errors.description ? true : undefined}
          aria-describedby={describedBy(ids.description, errors.description)}
        />
      </Field>
      <Field
        id={ids.instructions}
        label="Instructions"
        error={errors.instructions ?? placeholderError}
        hint="What the writer should produce. Put {{field_name}} where an input goes; each placeholder becomes a field of the generate form."
      >
        <textarea
          id={ids.instructions}
          rows={6}
          value={values.instructions}
          placeholder="Write a marketing email about {{topic}} for {{audience}}."
          onChange={(e) => set("instructions", e.target.value)}
          aria-invalid={errors.instructions || placeholderError ? true : undefined}
          aria-describedby={describedBy(ids.instructions, errors.instructions ?? placeholderError, true)}
        />
      </Field>

      <fieldset className="field template-field-list" id={ids.fields} tabIndex={-1} aria-describedby={`${ids.fields}-hint`}>
        <legend>Fields</legend>
        <p id={`${ids.fields}-hint`} className="field-hint">
          Derived from the placeholders in the instructions.
        </p>
        {errors.fields ? <p className="field-error">{errors.fields}</p> : null}
        {fields.length === 0 ? (
          <p className="muted">No placeholders yet.</p>
        ) : (
          <table className="table template-field-table">
            <thead>
              <tr>
                <th scope="col">Placeholder</th>
                <th scope="col">Label</th>
                <th scope="col">Required</th>
                <th scope="col">Max characters</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {fields.map((f) => {
                const labelId = `${ids.fields}-${f.name}-label`;
                const maxId = `${ids.fields}-${f.name}-maxLength`;
                const labelError = errors[`field.${f.name}.label`];
                const maxError = errors[`field.${f.name}.maxLength`];
                return (
                  <tr key={f.name}>
                    <th scope="row">
                      <code>{`{{${f.name}}}`}</code>
                      {!f.used ? <span className="field-hint"> not used in the instructions</span> : null}
                    </th>
                    <td>
                      <input
                        id={labelId}
                        type="text"
                        aria-label={`Label of ${f.name}`}
                        placeholder={f.name.replace(/_/g, " ")}
                        value={f.label}
                        onChange={(e) => setField(f.name, { label: e.target.value })}
                        aria-invalid={labelError ? true : undefined}
                        aria-describedby={labelError ? `${labelId}-error` : undefined}
                      />
                      {labelError ? (
                        <p id={`${labelId}-error`} className="field-error">
                          {labelError}
                        </p>
                      ) : null}
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        className="template-required"
                        aria-label={`${f.name} is required`}
                        checked={f.required}
                        onChange={(e) => setField(f.name, { required: e.target.checked })}
                      />
                    </td>
                    <td>
                      <input
                        id={maxId}
                        type="number"
                        min={1}
                        max={10000}
                        placeholder="2000"
                        aria-label={`Maximum characters of ${f.name}`}
                        value={f.maxLength}
                        onChange={(e) => setField(f.name, { maxLength: e.target.value })}
                        aria-invalid={maxError ? true : undefined}
                        aria-describedby={maxError ? `${maxId}-error` : undefined}
                      />
                      {maxError ? (
                        <p id={`${maxId}-error`} className="field-error">
                          {maxError}
                        </p>
                      ) : null}
                    </td>
                    <td>
                      {!f.used ? (
                        <button
                          type="button"
                          className="button button-ghost"
                          onClick={() => set("extraFields", values.extraFields.filter((n) => n !== f.name))}
                        >
                          Remove<span className="sr-only"> {f.name}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </fieldset>

      <details className="template-more" open={errors.targetLength || errors.tone ? true : undefined}>
        <summary>Length and tone</summary>
        <div className="template-editor-grid">
          <Field id={ids.length} label="Target length in words" error={errors.targetLength} hint="10–5,000; blank for the kind's default">
            <input
              id={ids.length}
              type="number"
              min={10}
              max={5000}
              value={values.targetLength}
              onChange={(e) => set("targetLength", e.target.value)}
              aria-invalid={errors.targetLength ? true : undefined}
              aria-describedby={describedBy(ids.length, errors.targetLength, true)}
            />
          </Field>
          <Field id={ids.tone} label="Tone" error={errors.tone} hint="Overrides the style guide's tone for this template">
            <input
              id={ids.tone}
              type="text"
              value={values.tone}
              onChange={(e) => set("tone", e.target.value)}
              aria-invalid={errors.tone ? true : undefined}
              aria-describedby={describedBy(ids.tone, errors.tone, true)}
            />
          </Field>
        </div>
      </details>

      {unplaced ? <ErrorState error={unplaced} title={template ? "Could not save the template" : "Could not create the template"} /> : null}
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : template ? "Save changes" : "Create template"}
        </button>
        <button type="button" className="button button-secondary" onClick={onDone}>
          {copied ? "Close" : "Cancel"}
        </button>
      </div>
    </form>
  );
}
