import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useNavigate } from "react-router";
import { useStartCrawl } from "../../api/queries";
import { RetryCountdown, useRetryCountdown } from "../../components/RetryCountdown";
import { ErrorState } from "../../components/StateViews";
import { useLimit } from "../../usage/useLimit";
import { defaultCrawlForm, parseCrawlForm, type CrawlFormErrors, type CrawlFormValues } from "./crawlForm";

/** Why an action is unavailable, shown beside its button (which names it in aria-describedby). */
export function LimitNotice({ id, advice }: { id: string; advice: string | null }) {
  if (!advice) return null;
  return (
    <p id={id} className="notice notice-warning limit-notice">
      {advice}
    </p>
  );
}

export function StartCrawlForm() {
  const [values, setValues] = useState<CrawlFormValues>(defaultCrawlForm);
  const [errors, setErrors] = useState<CrawlFormErrors>({});
  const start = useStartCrawl();
  const limit = useLimit("crawls", start.error);
  const wait = useRetryCountdown(start.error);
  const navigate = useNavigate();
  const ids = { url: useId(), pages: useId(), depth: useId(), include: useId(), exclude: useId() };

  const fieldIds: Partial<Record<keyof CrawlFormValues, string>> = {
    url: ids.url,
    maxPages: ids.pages,
    maxDepth: ids.depth,
    includePaths: ids.include,
    excludePaths: ids.exclude,
  };
  const set = <K extends keyof CrawlFormValues>(key: K, value: CrawlFormValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseCrawlForm(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      // Move focus to the first wrong field so keyboard and screen-reader users land on it.
      const first = Object.keys(parsed.errors)[0] as keyof CrawlFormValues | undefined;
      const target = first ? fieldIds[first] : undefined;
      if (target) document.getElementById(target)?.focus();
      return;
    }
    setErrors({});
    start.mutate(parsed.request, { onSuccess: (crawl) => void navigate(`/crawls/${crawl.id}`) });
  };

  return (
    <form className="card form crawl-form" aria-labelledby="start-crawl-heading" onSubmit={submit} noValidate>
      <h2 id="start-crawl-heading">Start a crawl</h2>
      <Field id={ids.url} label="Site address" error={errors.url} hint="The crawl stays on this site and honours robots.txt.">
        <input
          id={ids.url}
          type="url"
          inputMode="url"
          placeholder="https://example.com/"
          value={values.url}
          onChange={(e) => set("url", e.target.value)}
          aria-invalid={errors.url ? true : undefined}
          aria-describedby={`${ids.url}-hint${errors.url ? ` ${ids.url}-error` : ""}`}
        />
      </Field>
      <details
        className="crawl-options"
        open={errors.maxPages || errors.maxDepth || errors.includePaths || errors.excludePaths ? true : undefined}
      >
        <summary>Options</summary>
        <div className="crawl-options-grid">
          <Field id={ids.pages} label="Maximum pages" error={errors.maxPages} hint="1–10,000">
            <input
              id={ids.pages}
              type="number"
              min={1}
              max={10000}
              value={values.maxPages}
              onChange={(e) => set("maxPages", e.target.value)}
              aria-invalid={errors.maxPages ? true : undefined}
              aria-describedby={`${ids.pages}-hint${errors.maxPages ? ` ${ids.pages}-error` : ""}`}
            />
          </Field>
          <Field id={ids.depth} label="Maximum link depth" error={errors.maxDepth} hint="0–50; 0 is the start page only">
            <input
              id={ids.depth}
              type="number"
              min={0}
              max={50}
              value={values.maxDepth}
              onChange={(e) => set("maxDepth", e.target.value)}
              aria-invalid={errors.maxDepth ? true : undefined}
              aria-describedby={`${ids.depth}-hint${errors.maxDepth ? ` ${ids.depth}-error` : ""}`}
            />
          </Field>
          <Field id={ids.include} label="Only paths" error={errors.includePaths} hint="One per line: a prefix (/blog/) or a pattern with * (up to 50)">
            <textarea
              id={ids.include}
              rows={3}
              value={values.includePaths}
              onChange={(e) => set("includePaths", e.target.value)}
              aria-invalid={errors.includePaths ? true : undefined}
              aria-describedby={`${ids.include}-hint${errors.includePaths ? ` ${ids.include}-error` : ""}`}
            />
          </Field>
          <Field id={ids.exclude} label="Skip paths" error={errors.excludePaths} hint="One per line, e.g. *.pdf; exclusions win">
            <textarea
              id={ids.exclude}
              rows={3}
              value={values.excludePaths}
              onChange={(e) => set("excludePaths", e.target.value)}
              aria-invalid={errors.excludePaths ? true : undefined}
              aria-describedby={`${ids.exclude}-hint${errors.excludePaths ? ` ${ids.exclude}-error` : ""}`}
            />
          </Field>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={values.includeSubdomains}
              onChange={(e) => set("includeSubdomains", e.target.checked)}
            />
            Include subdomains
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={values.useSitemap} onChange={(e) => set("useSitemap", e.target.checked)} />
            Use the sitemap
          </label>
        </div>
      </details>
      {start.isError ? (
        <div>
          <ErrorState error={start.error} title="Could not start the crawl" />
          <RetryCountdown seconds={wait} />
        </div>
      ) : null}
      <LimitNotice id="start-crawl-limit" advice={limit.advice} />
      <div className="button-row">
        <button
          type="submit"
          className="button button-primary"
          disabled={start.isPending || limit.reached || wait > 0}
          aria-describedby={limit.advice ? "start-crawl-limit" : undefined}
        >
          {start.isPending ? "Starting…" : "Start crawl"}
        </button>
      </div>
    </form>
  );
}

export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
