import { useId, useState, type FormEvent } from "react";
import { useSaveStyleGuide } from "../../api/queries";
import type { StoredStyleGuide } from "../../api/types";
import { ErrorState } from "../../components/StateViews";
import { formatDateTime } from "../../format";
import { Field } from "../Crawls/StartCrawlForm";
import { formFromGuide, guideErrorsFromProblem, parseGuideForm, type GuideErrors, type GuideFormValues, type GuideSection } from "./guideForm";

/** The admin's editor of the style guide; saving replaces the whole guide. */
export function StyleGuideEditor({ guide }: { guide: StoredStyleGuide }) {
  const [values, setValues] = useState<GuideFormValues>(() => formFromGuide(guide));
  const [errors, setErrors] = useState<GuideErrors>({});
  const [unplaced, setUnplaced] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = useSaveStyleGuide();
  const ids: Record<GuideSection, string> = {
    tone: useId(),
    preferredTerms: useId(),
    bannedWords: useId(),
    doExamples: useId(),
    dontExamples: useId(),
  };
  const set = <K extends keyof GuideFormValues>(key: K, value: GuideFormValues[K]) => {
    setSaved(false);
    setValues((v) => ({ ...v, [key]: value }));
  };
  const setTerm = (i: number, patch: Partial<{ term: string; replacement: string }>) =>
    set(
      "preferredTerms",
      values.preferredTerms.map((p, j) => (j === i ? { ...p, ...patch } : p)),
    );
  const focusFirst = (found: GuideErrors) => {
    const first = Object.keys(found)[0] as GuideSection | undefined;
    if (first) document.getElementById(ids[first])?.focus();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    setUnplaced(null);
    const parsed = parseGuideForm(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      focusFirst(parsed.errors);
      return;
    }
    setErrors({});
    save.mutate(parsed.guide, {
      onSuccess: (stored) => {
        // Show the guide as stored (trimmed, blanks dropped); "Saved." stays until the next edit.
        setValues(formFromGuide(stored));
        setSaved(true);
      },
      onError: (error) => {
        const placed = guideErrorsFromProblem(error);
        if (placed) {
          setErrors(placed);
          focusFirst(placed);
        } else {
          setUnplaced(error);
        }
      },
    });
  };
  const describedBy = (id: string, error?: string) => `${id}-hint${error ? ` ${id}-error` : ""}`;

  return (
    <form className="card form guide-form" aria-label="Style guide" onSubmit={submit} noValidate>
      <Field id={ids.tone} label="Tone" hint="Up to 10 words or short phrases, separated by commas (e.g. warm, plain-spoken)" error={errors.tone}>
        <input
          id={ids.tone}
          type="text"
          value={values.tone}
          onChange={(e) => set("tone", e.target.value)}
          aria-invalid={errors.tone ? true : undefined}
          aria-describedby={describedBy(ids.tone, errors.tone)}
        />
      </Field>

      <fieldset className="field" id={ids.preferredTerms} tabIndex={-1} aria-describedby={describedBy(ids.preferredTerms, errors.preferredTerms)}>
        <legend>Preferred terms</legend>
        <p id={`${ids.preferredTerms}-hint`} className="field-hint">
          Words to avoid and what to write instead (up to 100).
        </p>
        {values.preferredTerms.length > 0 ? (
          <ul className="term-rows">
            {values.preferredTerms.map((p, i) => (
              <li key={i} className="term-row">
                <input
                  type="text"
                  aria-label={`Instead of (term ${i + 1})`}
                  placeholder="Instead of"
                  value={p.term}
                  onChange={(e) => setTerm(i, { term: e.target.value })}
                />
                <span aria-hidden="true">→</span>
                <input
                  type="text"
                  aria-label={`Write (term ${i + 1})`}
                  placeholder="Write"
                  value={p.replacement}
                  onChange={(e) => setTerm(i, { replacement: e.target.value })}
                />
                <button
                  type="button"
                  className="button button-ghost"
                  onClick={() => set("preferredTerms", values.preferredTerms.filter((_, j) => j !== i))}
                >
                  Remove<span className="sr-only"> term {i + 1}</span>
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        <button
          type="button"
          className="button button-secondary"
          onClick={() => set("preferredTerms", [...values.preferredTerms, { term: "", replacement: "" }])}
        >
          Add a preferred term
        </button>
        {errors.preferredTerms ? (
          <p id={`${ids.preferredTerms}-error`} className="field-error">
            {errors.preferredTerms}
          </p>
        ) : null}
      </fieldset>

      <Field id={ids.bannedWords} label="Banned words" hint="One per line (up to 200); drafts leave them out" error={errors.bannedWords}>
        <textarea
          id={ids.bannedWords}
          rows={4}
          value={values.bannedWords}
          onChange={(e) => set("bannedWords", e.target.value)}
          aria-invalid={errors.bannedWords ? true : undefined}
          aria-describedby={describedBy(ids.bannedWords, errors.bannedWords)}
        />
      </Field>
      <div className="guide-examples-grid">
        <Field id={ids.doExamples} label="Write like this" hint="Examples in your voice; separate them with a blank line (up to 20)" error={errors.doExamples}>
          <textarea
            id={ids.doExamples}
            rows={5}
            value={values.doExamples}
            onChange={(e) => set("doExamples", e.target.value)}
            aria-invalid={errors.doExamples ? true : undefined}
            aria-describedby={describedBy(ids.doExamples, errors.doExamples)}
          />
        </Field>
        <Field id={ids.dontExamples} label="Not like this" hint="What your voice is not; separate with a blank line (up to 20)" error={errors.dontExamples}>
          <textarea
            id={ids.dontExamples}
            rows={5}
            value={values.dontExamples}
            onChange={(e) => set("dontExamples", e.target.value)}
            aria-invalid={errors.dontExamples ? true : undefined}
            aria-describedby={describedBy(ids.dontExamples, errors.dontExamples)}
          />
        </Field>
      </div>
      {unplaced ? <ErrorState error={unplaced} title="Could not save the style guide" /> : null}
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save style guide"}
        </button>
        <span role="status" className="muted">
          {saved ? "Saved." : guide.updated_at ? `Last changed ${formatDateTime(guide.updated_at)}${guide.updated_by ? ` by ${guide.updated_by}` : ""}.` : ""}
        </span>
      </div>
    </form>
  );
}
