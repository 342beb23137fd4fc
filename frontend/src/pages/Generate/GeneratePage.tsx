import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { isApiError } from "../../api/client";
import { fieldProblem } from "../../api/problemField";
import { useGenerations, useTemplates } from "../../api/queries";
import type { GenerateRequest, Template } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { RetryCountdown, useRetryCountdown } from "../../components/RetryCountdown";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime } from "../../format";
import { Field } from "../Crawls/StartCrawlForm";
import { kindLabel } from "../Templates/templateForm";
import { DraftMarkdown } from "./DraftMarkdown";
import { citationHref } from "./draftMarkdown";
import { DraftView, scoreLevel } from "./DraftView";
import { useGenerationRun, type GenerationRunControls } from "./useGenerationRun";
import "./generate.css";

export function GeneratePage() {
  const [params, setParams] = useSearchParams();
  const templates = useTemplates();
  const run = useGenerationRun();
  const draft = run.generation;
  const draftRef = useRef<HTMLElement>(null);

  useEffect(() => {
    if (draft) draftRef.current?.focus();
  }, [draft]);
  const showRun = run.state !== "idle" && (run.state !== "failed" || run.sources.length > 0 || run.text !== "");

  // Every template belongs in the choice, however many pages the list takes.
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = templates;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isFetchNextPageError) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage]);

  let form;
  if (templates.isPending) {
    form = <LoadingState label="Loading templates…" />;
  } else if (!templates.data) {
    form = <ErrorState error={templates.error} title="Could not load the templates" onRetry={() => void templates.refetch()} />;
  } else {
    const list = templates.data.pages.flatMap((p) => p.items);
    if (list.length === 0) {
      form = (
        <EmptyState title="No templates yet.">
          <Link to="/templates">Create a template</Link> to generate from.
        </EmptyState>
      );
    } else {
      const wanted = params.get("template");
      const found = list.find((t) => t.id === wanted);
      const chosen = found ?? list[0]!;
      form = (
        <>
          {wanted && !found && !hasNextPage ? (
            <p className="notice notice-warning" role="status">
              The template in the address no longer exists (or belongs to another organization); choose one below.
            </p>
          ) : null}
          <GenerateForm
          key={chosen.id}
          templates={list}
          template={chosen}
          onTemplate={(id) => setParams({ template: id }, { replace: true })}
          run={run}
          />
        </>
      );
    }
  }

  return (
    <div className="page">
      <PageHeader
        title="Generate"
        subtitle="Draft from a template, grounded in your library and written in your voice, with citations."
      />
      {form}
      {showRun ? (
        <section ref={draftRef} tabIndex={-1} className="section generate-result" aria-label="New draft">
          {draft && run.state === "done" ? (
            <>
              <DraftView
                key={draft.id}
                generation={draft}
                regenerate={{ onClick: () => void run.start(run.request!), pending: false }}
              />
              <p>
                <Link to={`/generations/${draft.id}`}>Permanent link to this draft</Link>
              </p>
            </>
          ) : (
            <StreamingDraft run={run} />
          )}
        </section>
      ) : null}
      <GenerationHistory />
    </div>
  );
}

/** What to do when generation is refused for a reason the user can act on. */
export function generateAdvice(error: unknown) {
  if (!isApiError(error)) return null;
  if (error.code === "library_empty") {
    return (
      <>
        Drafts are grounded in your own content. <Link to="/library">Add content to the library</Link> or{" "}
        <Link to="/crawls">crawl your site</Link>, then generate.
      </>
    );
  }
  if (error.code === "rate_limited") {
    return "This organization has used its generations for the minute (rate limit).";
  }
  if (error.code === "provider_unavailable") return "The writing model is busy or unreachable. Try again shortly.";
  return null;
}

/** A draft while it streams in: its sources first, then its text as it is written. */
function StreamingDraft({ run }: { run: GenerationRunControls }) {
  const status =
    run.state === "streaming"
      ? run.sources.length === 0
        ? "Retrieving sources…"
        : "Writing the draft…"
      : run.state === "cancelled"
        ? "Cancelled: the draft was stopped before it was finished."
        : "The draft stopped before it was finished (see above).";
  return (
    <div className="draft">
      <p role="status" className="muted">
        {status}
      </p>
      {run.sources.length > 0 ? (
        <section aria-label="Sources being drawn on" className="card">
          <h2 className="card-title">Sources ({run.sources.length})</h2>
          <ol className="source-list">
            {run.sources.map((s) => (
              <li key={s.n} value={s.n} className="source-item">
                <Link to={citationHref(s)}>{s.title || "Untitled"}</Link>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {run.text ? (
        <div className="card draft-output" aria-busy={run.state === "streaming"} aria-label="Draft so far">
          <DraftMarkdown text={run.text} sources={run.sources} />
        </div>
      ) : null}
    </div>
  );
}

function GenerateForm({
  templates,
  template,
  onTemplate,
  run,
}: {
  templates: Template[];
  template: Template;
  onTemplate: (id: string) => void;
  run: GenerationRunControls;
}) {
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [k, setK] = useState("6");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const running = run.state === "streaming";
  const error = run.state === "failed" ? run.error : null;
  const wait = useRetryCountdown(error);
  const ids = { template: useId(), k: useId(), heading: useId(), field: useId() };
  const fieldId = (name: string) => `${ids.field}-${name}`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    for (const f of template.fields) {
      const value = (inputs[f.name] ?? "").trim();
      if (f.required && !value) found[f.name] = `${f.label || f.name} is required.`;
      else if ([...value].length > f.max_length) found[f.name] = `At most ${f.max_length} characters.`;
    }
    const kNumber = Number(k);
    if (!Number.isInteger(kNumber) || kNumber < 1 || kNumber > 20) found.k = "A whole number from 1 to 20.";
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first) {
      document.getElementById(first === "k" ? ids.k : fieldId(first))?.focus();
      return;
    }
    const sent = Object.fromEntries(
      template.fields.map((f) => [f.name, (inputs[f.name] ?? "").trim()]).filter(([, v]) => v !== ""),
    );
    void start({ template_id: template.id, inputs: sent, k: kNumber });
  };

  /** Runs the generation; an input the API refuses is shown beside that input. */
  const start = async (request: GenerateRequest) => {
    const outcome = await run.start(request);
    if (outcome.ok || !("error" in outcome)) return;
    const problem = fieldProblem(outcome.error);
    const name = problem?.path.startsWith("inputs.") ? problem.path.slice(7) : problem?.path === "k" ? "k" : null;
    if (problem && name && (name === "k" || template.fields.some((f) => f.name === name))) {
      setErrors({ [name]: problem.message });
      document.getElementById(name === "k" ? ids.k : fieldId(name))?.focus();
    }
  };

  const problem = fieldProblem(error);
  const placed = problem && (problem.path === "k" || problem.path.startsWith("inputs.")) && Object.keys(errors).length > 0;
  const advice = generateAdvice(error);

  return (
    <form className="card form generate-form" aria-labelledby={ids.heading} onSubmit={submit} noValidate>
      <h2 id={ids.heading} className="sr-only">
        Draft from a template
      </h2>
      <Field id={ids.template} label="Template" hint={template.description || undefined}>
        <select
          id={ids.template}
          value={template.id}
          onChange={(e) => onTemplate(e.target.value)}
          aria-describedby={template.description ? `${ids.template}-hint` : undefined}
        >
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({kindLabel(t.kind)})
            </option>
          ))}
        </select>
      </Field>
      {template.fields.length === 0 ? (
        <p className="muted">This template asks for nothing: the draft draws on the library alone.</p>
      ) : (
        <fieldset className="field generate-fields">
          <legend>{template.name}: inputs</legend>
          {template.fields.map((f) => {
            const id = fieldId(f.name);
            const label = `${f.label || f.name}${f.required ? "" : " (optional)"}`;
            const hint = `Up to ${f.max_length.toLocaleString()} characters`;
            const common = {
              id,
              value: inputs[f.name] ?? "",
              maxLength: f.max_length,
              required: f.required,
              "aria-invalid": errors[f.name] ? true : undefined,
              "aria-describedby": `${id}-hint${errors[f.name] ? ` ${id}-error` : ""}`,
            } as const;
            const onChange = (value: string) => setInputs((v) => ({ ...v, [f.name]: value }));
            return (
              <Field key={f.name} id={id} label={label} hint={hint} error={errors[f.name]}>
                {f.max_length > 200 ? (
                  <textarea rows={3} {...common} onChange={(e) => onChange(e.target.value)} />
                ) : (
                  <input type="text" {...common} onChange={(e) => onChange(e.target.value)} />
                )}
              </Field>
            );
          })}
        </fieldset>
      )}
      <details className="generate-options" open={errors.k ? true : undefined}>
        <summary>Options</summary>
        <Field id={ids.k} label="Passages to draw on" hint="1–20 of the library's most relevant passages" error={errors.k}>
          <input
            id={ids.k}
            type="number"
            min={1}
            max={20}
            value={k}
            onChange={(e) => setK(e.target.value)}
            aria-invalid={errors.k ? true : undefined}
            aria-describedby={`${ids.k}-hint${errors.k ? ` ${ids.k}-error` : ""}`}
          />
        </Field>
      </details>
      {error && !placed ? (
        <div>
          <ErrorState error={error} title="Could not generate a draft" />
          {advice ? <p className="field-hint">{advice}</p> : null}
          <RetryCountdown seconds={wait} />
        </div>
      ) : null}
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={running || wait > 0}>
          {running ? "Generating…" : "Generate draft"}
        </button>
        {running ? (
          <button type="button" className="button button-secondary" onClick={run.cancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function GenerationHistory() {
  const generations = useGenerations();
  let body;
  if (generations.isPending) {
    body = <LoadingState label="Loading past drafts…" />;
  } else if (!generations.data) {
    body = <ErrorState error={generations.error} title="Could not load past drafts" onRetry={() => void generations.refetch()} />;
  } else {
    const rows = generations.data.pages.flatMap((p) => p.items);
    body = (
      <>
        {rows.length === 0 ? (
          <EmptyState title="No drafts yet.">Drafts you and your team generate are listed here.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table generation-table">
              <caption className="sr-only">Past drafts, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Draft</th>
                  <th scope="col">Template</th>
                  <th scope="col" className="num">
                    Voice
                  </th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((g) => (
                  <tr key={g.id}>
                    <th scope="row">
                      <Link to={`/generations/${g.id}`}>{excerpt(g.output)}</Link>
                    </th>
                    <td>{g.template.name}</td>
                    <td className={`num voice-score-${scoreLevel(g.voice.score)}`}>{g.voice.score}</td>
                    <td>{g.created_by ? <code>{g.created_by}</code> : <span className="muted">—</span>}</td>
                    <td>
                      <time dateTime={g.created_at}>{formatDateTime(g.created_at)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {generations.isFetchNextPageError ? (
          <ErrorState error={generations.error} title="Could not load more drafts" onRetry={() => void generations.fetchNextPage()} />
        ) : null}
        {generations.hasNextPage ? (
          <button
            type="button"
            className="button button-secondary"
            disabled={generations.isFetchingNextPage}
            onClick={() => void generations.fetchNextPage()}
          >
            {generations.isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        ) : null}
      </>
    );
  }
  return (
    <section className="section" aria-labelledby="history-heading">
      <h2 id="history-heading">Past drafts</h2>
      {body}
    </section>
  );
}

/** The draft's first words, without citation markers or Markdown marks. */
export function excerpt(text: string, max = 90): string {
  const plain = text.replace(/\[\d{1,3}\]/g, "").replace(/[#*_>`]/g, "").replace(/\s+/g, " ").trim();
  if (!plain) return "Empty draft";
  return plain.length > max ? `${plain.slice(0, max - 1).trimEnd()}…` : plain;
}
