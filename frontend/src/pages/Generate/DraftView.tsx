import { useState } from "react";
import { Link } from "react-router";
import { useVoiceCheck } from "../../api/queries";
import type { Generation, GenerationSource, VoiceCheck } from "../../api/types";
import { ErrorState } from "../../components/StateViews";
import { formatDateTime, formatNumber } from "../../format";
import { kindLabel } from "../Templates/templateForm";
import { DraftExport } from "./DraftExport";
import { DraftMarkdown } from "./DraftMarkdown";
import { citationHref } from "./draftMarkdown";

/** How a draft can be made again with the same inputs (absent where that is not offered). */
export interface Regenerate {
  onClick: () => void;
  pending: boolean;
}

/**
 * A stored draft: its Markdown rendered with citations linking to the cited passages, copy and
 * download, editing in place with a voice check of the edited text, the sources, the voice
 * check and how it was made.
 */
export function DraftView({
  generation,
  headingLevel = 2,
  regenerate,
}: {
  generation: Generation;
  headingLevel?: 2 | 3;
  regenerate?: Regenerate;
}) {
  const H = `h${headingLevel}` as const;
  const Sub = `h${headingLevel + 1}` as "h3" | "h4";
  const [text, setText] = useState(generation.output);
  const [editing, setEditing] = useState(false);
  const check = useVoiceCheck();
  const cited = new Set(generation.citations.map((c) => c.n));
  const edited = text !== generation.output;
  // A check of the edited text, while the text is still what was checked.
  const editedCheck = check.data && check.variables === text && edited ? check.data : null;

  return (
    <article className="draft" aria-labelledby={`draft-${generation.id}`}>
      <div className="draft-head">
        <div>
          <H id={`draft-${generation.id}`} className="draft-title">
            {generation.template.name} <span className="badge">{kindLabel(generation.template.kind)}</span>
          </H>
          <p className="muted draft-meta">
            <time dateTime={generation.created_at}>{formatDateTime(generation.created_at)}</time>
            {generation.created_by ? <> · by <code>{generation.created_by}</code></> : null} · {generation.provider}
            {" "}({generation.model}) · {formatNumber(generation.usage.total_tokens)} tokens
          </p>
        </div>
        {regenerate ? <RegenerateButton generation={generation} regenerate={regenerate} /> : null}
      </div>
      {Object.keys(generation.inputs).length > 0 ? (
        <dl className="facts draft-inputs">
          {Object.entries(generation.inputs).map(([name, value]) => (
            <div key={name}>
              <dt>{name.replace(/_/g, " ")}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      <DraftExport text={text} sources={generation.sources} title={generation.template.name} createdAt={generation.created_at} />
      <div className="card draft-output">
        {editing ? (
          <textarea
            className="draft-editor"
            aria-label="Draft (Markdown)"
            rows={Math.min(30, Math.max(8, text.split("\n").length + 2))}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        ) : (
          <DraftMarkdown text={text} sources={generation.sources} />
        )}
      </div>
      <div className="button-row">
        <button type="button" className="button button-secondary" aria-pressed={editing} onClick={() => setEditing(!editing)}>
          {editing ? "Done editing" : "Edit"}
        </button>
        {edited ? (
          <>
            <button
              type="button"
              className="button button-secondary"
              disabled={check.isPending || editedCheck !== null}
              onClick={() => check.mutate(text)}
            >
              {check.isPending ? "Checking…" : "Check voice of the edited text"}
            </button>
            <button type="button" className="button button-secondary" onClick={() => setText(generation.output)}>
              Undo edits
            </button>
          </>
        ) : null}
      </div>
      {check.isError && check.variables === text ? <ErrorState error={check.error} title="Could not check the voice" /> : null}
      <div className="draft-columns">
        <section aria-labelledby={`voice-${generation.id}`} className="card">
          <Sub id={`voice-${generation.id}`} className="card-title">
            Voice check
          </Sub>
          <p className="field-hint">
            {editedCheck
              ? "Of your edited text."
              : edited
                ? "Of the draft as generated; check again for your edits."
                : "Of the draft as generated."}
          </p>
          <VoiceCheckView check={editedCheck ?? generation.voice} />
        </section>
        <section aria-labelledby={`sources-${generation.id}`} className="card">
          <Sub id={`sources-${generation.id}`} className="card-title">
            Sources ({generation.sources.length})
          </Sub>
          {generation.sources.length === 0 ? (
            <p className="muted">No sources.</p>
          ) : (
            <ol className="source-list">
              {generation.sources.map((s) => (
                <SourceItem key={s.n} generationId={generation.id} source={s} cited={cited.has(s.n)} />
              ))}
            </ol>
          )}
        </section>
      </div>
    </article>
  );
}

/** Makes the draft again from the same template and inputs (not once the template is deleted). */
function RegenerateButton({ generation, regenerate }: { generation: Generation; regenerate: Regenerate }) {
  const gone = generation.template.id === null;
  return (
    <div className="regenerate">
      <button
        type="button"
        className="button button-secondary"
        disabled={gone || regenerate.pending}
        aria-describedby={gone ? `regenerate-${generation.id}` : undefined}
        onClick={regenerate.onClick}
      >
        {regenerate.pending ? "Regenerating…" : "Regenerate"}
      </button>
      {gone ? (
        <p id={`regenerate-${generation.id}`} className="field-hint">
          Its template was deleted.
        </p>
      ) : null}
    </div>
  );
}

function SourceItem({ source, cited, generationId }: { source: GenerationSource; cited: boolean; generationId: string }) {
  return (
    <li id={`source-${generationId}-${source.n}`} value={source.n} className="source-item">
      <p className="source-title">
        <Link to={citationHref(source)}>{source.title || "Untitled"}</Link>
        {cited ? <span className="badge">cited</span> : <span className="muted"> · not cited</span>}
      </p>
      {source.url ? (
        <a className="source-url" href={source.url} target="_blank" rel="noopener noreferrer">
          {source.url}
          <span className="sr-only"> (opens in a new tab)</span>
        </a>
      ) : null}
      {source.heading ? <p className="source-heading muted">{source.heading}</p> : null}
      {source.excerpt ? <p className="source-excerpt">{source.excerpt}</p> : null}
    </li>
  );
}

const FINDING_LABELS: Record<string, string> = {
  banned_word: "Banned word",
  preferred_term: "Preferred term",
  sentence_too_long: "Long sentence",
  sentence_too_short: "Short sentence",
  exclamations: "Exclamations",
};

export function scoreLevel(score: number): "good" | "fair" | "poor" {
  return score >= 85 ? "good" : score >= 60 ? "fair" : "poor";
}

/** A voice score out of 100 and the findings that lowered it. */
export function VoiceCheckView({ check }: { check: VoiceCheck }) {
  return (
    <>
      <p className={`voice-score voice-score-${scoreLevel(check.score)}`}>
        <strong>{check.score}</strong>
        <span className="muted"> / 100 voice score</span>
      </p>
      {check.findings.length === 0 ? (
        <p className="muted">No findings: the text follows the style guide and the measured voice.</p>
      ) : (
        <ul className="finding-list" aria-label="Voice findings">
          {check.findings.map((f, i) => (
            <li key={i}>
              <span className="badge badge-warning">{FINDING_LABELS[f.kind] ?? f.kind.replace(/_/g, " ")}</span>{" "}
              {f.message} <span className="muted">(−{f.penalty})</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
