import { Fragment, useState, type ReactNode } from "react";
import { Link } from "react-router";
import type { Generation, GenerationSource, VoiceCheck } from "../../api/types";
import { formatDateTime, formatNumber } from "../../format";
import { kindLabel } from "../Templates/templateForm";

/** A stored draft: its text with clickable citations, the sources, the voice check and how it was made. */
export function DraftView({ generation, headingLevel = 2 }: { generation: Generation; headingLevel?: 2 | 3 }) {
  const H = `h${headingLevel}` as const;
  const Sub = `h${headingLevel + 1}` as "h3" | "h4";
  const cited = new Set(generation.citations.map((c) => c.n));
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
        <CopyButton text={generation.output} />
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
      <div className="card draft-output">
        <DraftText text={generation.output} sources={generation.sources} />
      </div>
      <div className="draft-columns">
        <section aria-labelledby={`voice-${generation.id}`} className="card">
          <Sub id={`voice-${generation.id}`} className="card-title">
            Voice check
          </Sub>
          <VoiceCheckView check={generation.voice} />
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

const MARKER = /\[(\d{1,3})\]/g;

/** The draft's paragraphs, each `[n]` marker a link to the library item it cites. */
export function DraftText({ text, sources }: { text: string; sources: GenerationSource[] }) {
  const byN = new Map(sources.map((s) => [s.n, s]));
  const paragraphs = text.split(/\n{2,}/).filter((p) => p.trim() !== "");
  return (
    <>
      {paragraphs.map((paragraph, i) => (
        <p key={i} className="draft-paragraph">
          {paragraph.split("\n").map((line, j) => (
            <Fragment key={j}>
              {j > 0 ? <br /> : null}
              {withCitations(line, byN)}
            </Fragment>
          ))}
        </p>
      ))}
    </>
  );
}

function withCitations(line: string, byN: Map<number, GenerationSource>): ReactNode[] {
  const out: ReactNode[] = [];
  let at = 0;
  for (const match of line.matchAll(MARKER)) {
    const n = Number(match[1]);
    const source = byN.get(n);
    if (!source) continue;
    out.push(line.slice(at, match.index));
    out.push(
      <Link
        key={match.index}
        className="citation"
        to={`/library/${encodeURIComponent(source.content_id)}`}
        aria-label={`Source ${n}: ${source.title || "untitled"}`}
        title={source.title}
      >
        [{n}]
      </Link>,
    );
    at = match.index + match[0].length;
  }
  out.push(line.slice(at));
  return out;
}

function SourceItem({ source, cited, generationId }: { source: GenerationSource; cited: boolean; generationId: string }) {
  return (
    <li id={`source-${generationId}-${source.n}`} value={source.n} className="source-item">
      <p className="source-title">
        <Link to={`/library/${encodeURIComponent(source.content_id)}`}>{source.title || "Untitled"}</Link>
        {cited ? <span className="badge">cited</span> : <span className="muted"> · not cited</span>}
      </p>
      {source.url ? (
        <a className="source-url" href={source.url} target="_blank" rel="noopener noreferrer">
          {source.url}
          <span className="sr-only"> (opens in a new tab)</span>
        </a>
      ) : null}
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

/** Copies the draft; says whether that worked, politely, to screen readers too. */
function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  };
  return (
    <div className="copy-draft">
      <button type="button" className="button button-secondary" onClick={() => void copy()}>
        Copy to clipboard
      </button>
      <span role="status" aria-live="polite" className="field-hint">
        {state === "copied" ? "Copied." : state === "failed" ? "Could not copy: select the text and copy it yourself." : ""}
      </span>
    </div>
  );
}
