import { useId, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useCreateContent } from "../../api/queries";
import type { NewContent } from "../../api/types";
import { RetryCountdown, useRetryCountdown } from "../../components/RetryCountdown";
import { ErrorState } from "../../components/StateViews";
import { useLimit } from "../../usage/useLimit";
import { parseCrawlForm, defaultCrawlForm } from "../Crawls/crawlForm";
import { Field, LimitNotice } from "../Crawls/StartCrawlForm";

type Kind = "text" | "url";
type Errors = Partial<Record<"title" | "text" | "url", string>>;

/** Parses the add form into the API body, or says what each field lacks. */
export function parseNewContent(kind: Kind, values: { title: string; text: string; url: string }):
  | { ok: true; content: NewContent }
  | { ok: false; errors: Errors } {
  if (kind === "url") {
    const parsed = parseCrawlForm({ ...defaultCrawlForm, url: values.url });
    return parsed.ok ? { ok: true, content: { url: parsed.request.url } } : { ok: false, errors: { url: parsed.errors.url } };
  }
  const errors: Errors = {};
  if (!values.title.trim()) errors.title = "Give the item a title.";
  if (!values.text.trim()) errors.text = "Paste or write the text (Markdown is fine).";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, content: { title: values.title.trim(), text: values.text } };
}

export function AddContentForm({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState<Kind>("text");
  const [values, setValues] = useState({ title: "", text: "", url: "" });
  const [errors, setErrors] = useState<Errors>({});
  const create = useCreateContent();
  const limit = useLimit("content_items", create.error);
  const wait = useRetryCountdown(create.error);
  const navigate = useNavigate();
  const ids = { title: useId(), text: useId(), url: useId(), kind: useId() };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseNewContent(kind, values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    create.mutate(parsed.content, {
      onSuccess: (item) => {
        onDone();
        void navigate(`/library/${item.id}`);
      },
    });
  };
  const describedBy = (id: string, error?: string) => (error ? `${id}-error` : undefined);

  return (
    <form className="card form add-content" aria-labelledby={`${ids.kind}-heading`} onSubmit={submit} noValidate>
      <h2 id={`${ids.kind}-heading`}>Add content</h2>
      <fieldset className="field">
        <legend>What to add</legend>
        <div className="radio-row">
          <label className="radio">
            <input type="radio" name={ids.kind} checked={kind === "text"} onChange={() => setKind("text")} />
            A text
          </label>
          <label className="radio">
            <input type="radio" name={ids.kind} checked={kind === "url"} onChange={() => setKind("url")} />
            A web page
          </label>
        </div>
      </fieldset>
      {kind === "text" ? (
        <>
          <Field id={ids.title} label="Title" error={errors.title}>
            <input
              id={ids.title}
              type="text"
              value={values.title}
              onChange={(e) => setValues((v) => ({ ...v, title: e.target.value }))}
              aria-invalid={errors.title ? true : undefined}
              aria-describedby={describedBy(ids.title, errors.title)}
            />
          </Field>
          <Field id={ids.text} label="Text" error={errors.text}>
            <textarea
              id={ids.text}
              rows={8}
              value={values.text}
              onChange={(e) => setValues((v) => ({ ...v, text: e.target.value }))}
              aria-invalid={errors.text ? true : undefined}
              aria-describedby={describedBy(ids.text, errors.text)}
            />
          </Field>
        </>
      ) : (
        <Field id={ids.url} label="Page address" error={errors.url}>
          <input
            id={ids.url}
            type="url"
            placeholder="https://example.com/page"
            value={values.url}
            onChange={(e) => setValues((v) => ({ ...v, url: e.target.value }))}
            aria-invalid={errors.url ? true : undefined}
            aria-describedby={describedBy(ids.url, errors.url)}
          />
        </Field>
      )}
      {create.isError ? (
        <div>
          <ErrorState error={create.error} title="Could not add the content" />
          <RetryCountdown seconds={wait} />
        </div>
      ) : null}
      <LimitNotice id={`${ids.kind}-limit`} advice={limit.advice} />
      <div className="button-row">
        <button
          type="submit"
          className="button button-primary"
          disabled={create.isPending || limit.reached || wait > 0}
          aria-describedby={limit.advice ? `${ids.kind}-limit` : undefined}
        >
          {create.isPending ? "Adding…" : "Add to library"}
        </button>
        <button type="button" className="button button-secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
