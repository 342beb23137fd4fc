import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useSearch } from "../../api/queries";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";

/** Finds passages by meaning and words (POST /api/search), as drafts will find their sources. */
export function PassageSearch() {
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [error, setError] = useState<string | undefined>();
  const search = useSearch(query);
  const inputId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = text.trim();
    if (!q) {
      setError("Type what you are looking for.");
      return;
    }
    if (q.length > 1000) {
      setError("At most 1,000 characters.");
      return;
    }
    setError(undefined);
    setQuery(q);
  };

  let results = null;
  if (query) {
    if (search.isPending) {
      results = <LoadingState label="Searching…" />;
    } else if (!search.data) {
      results = <ErrorState error={search.error} title="Search failed" onRetry={() => void search.refetch()} />;
    } else if (search.data.results.length === 0) {
      results = <EmptyState title="No passages match.">Try other words, or add content that covers this.</EmptyState>;
    } else {
      results = (
        <>
          {search.data.mode === "full_text" ? (
            <p className="field-hint">Matched by words only: search by meaning is unavailable right now.</p>
          ) : null}
          <ol className="search-results" aria-label="Matching passages">
            {search.data.results.map((r) => (
              <li key={r.chunk_id} className="card chunk">
                <p className="chunk-head">
                  <Link to={`/library/${r.content_id}`}>{r.title || r.url || "Untitled"}</Link>
                  {r.heading ? <span className="muted">{r.heading}</span> : null}
                </p>
                <p className="chunk-text">{r.snippet}</p>
              </li>
            ))}
          </ol>
        </>
      );
    }
  }

  return (
    <section className="section" aria-labelledby={`${inputId}-heading`}>
      <h2 id={`${inputId}-heading`}>Search passages</h2>
      <form className="passage-search" role="search" aria-label="Search passages" onSubmit={submit} noValidate>
        <label htmlFor={inputId} className="sr-only">
          Find passages about
        </label>
        <input
          id={inputId}
          type="search"
          placeholder="e.g. how long do customers have to return items?"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${inputId}-error` : undefined}
        />
        <button type="submit" className="button button-secondary">
          Find passages
        </button>
      </form>
      {error ? (
        <p id={`${inputId}-error`} className="field-error">
          {error}
        </p>
      ) : null}
      {results}
    </section>
  );
}
