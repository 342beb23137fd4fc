import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { isIndexing, queryKeys, useSearch, useSearchStatus } from "../../api/queries";
import type { SearchIndexStatus, SearchResponse, SearchResult } from "../../api/types";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatPercent } from "../../format";
import { HighlightedText } from "./highlight";

/** Finds passages by words and meaning (POST /api/search), as drafts will find their sources. */
export function PassageSearch() {
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [error, setError] = useState<string | undefined>();
  const search = useSearch(query);
  // Shared with the index progress above (one request): it tells whether an embedder exists.
  const status = useSearchStatus();
  const inputId = useId();
  useFreshResultsWhenIndexed(status.data ? isIndexing(status.data) : false);

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
    // Asking the same question again means "search again", not "show the answer you kept".
    if (q === query) void search.refetch();
    else setQuery(q);
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
      const note = modeNote(search.data, status.data);
      results = (
        <>
          {search.isError ? (
            <ErrorState error={search.error} title="Could not search again" onRetry={() => void search.refetch()} />
          ) : null}
          {note ? <p className="field-hint search-mode">{note}</p> : null}
          <SearchResults results={search.data.results} />
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

/**
 * An answer found by words alone while the index filled is out of date once every passage is
 * searchable by meaning: ask the shown search again, once, when the index completes.
 */
function useFreshResultsWhenIndexed(indexing: boolean) {
  const client = useQueryClient();
  const wasIndexing = useRef(indexing);
  useEffect(() => {
    if (wasIndexing.current && !indexing) void client.invalidateQueries({ queryKey: queryKeys.searches });
    wasIndexing.current = indexing;
  }, [indexing, client]);
}

/**
 * What the answer was matched by, in the reader's words. `status` (when known) tells an index
 * still filling from a deployment without an embedder, whose share of 0 is not "so far".
 */
export function modeNote(response: Pick<SearchResponse, "mode" | "searchable_share">, status?: Pick<SearchIndexStatus, "embeddings_enabled">): string | null {
  const share = formatPercent(Math.max(0, Math.min(1, response.searchable_share)) * 100);
  const partial = response.searchable_share < 1;
  switch (response.mode) {
    case "hybrid":
      return partial ? `Searching by words and meaning — ${share} of the library is searchable by meaning so far.` : null;
    case "vector":
      return "Searching by meaning only.";
    case "full_text":
      if (!status) return "Searching by words only.";
      if (!status.embeddings_enabled) return "Searching by words only: search by meaning is not set up here.";
      return partial
        ? `Searching by words only — ${share} of the library is searchable by meaning so far.`
        : "Searching by words only: search by meaning is unavailable right now.";
    default:
      return null;
  }
}

/** Consecutive passages of one page, shown under one title. */
export interface PageHits {
  contentId: string;
  title: string | null;
  url: string | null;
  passages: SearchResult[];
}

/** Groups neighbouring results of the same item, keeping the ranking's order. */
export function groupByPage(results: readonly SearchResult[]): PageHits[] {
  const groups: PageHits[] = [];
  for (const result of results) {
    const last = groups[groups.length - 1];
    if (last && last.contentId === result.content_id) last.passages.push(result);
    else groups.push({ contentId: result.content_id, title: result.title, url: result.url, passages: [result] });
  }
  return groups;
}

function SearchResults({ results }: { results: readonly SearchResult[] }) {
  return (
    <ol className="search-results" aria-label="Matching passages">
      {groupByPage(results).map((group) => (
        <li key={group.passages[0]!.chunk_id} className="card search-hit">
          <p className="search-hit-page">
            <Link to={`/library/${group.contentId}`}>{group.title || group.url || "Untitled"}</Link>
            {group.url && group.title ? <span className="library-url">{group.url}</span> : null}
          </p>
          {group.passages.map((passage) => (
            <div key={passage.chunk_id} className="search-hit-passage">
              <p className="search-hit-meta">
                {passage.heading ? <span className="search-hit-heading">{headingPath(passage.heading)}</span> : null}
                {matchedBy(passage) ? <span className="muted">{matchedBy(passage)}</span> : null}
              </p>
              <p className="chunk-text">
                <HighlightedText text={passage.snippet} highlights={passage.highlights} />
              </p>
            </div>
          ))}
        </li>
      ))}
    </ol>
  );
}

/** "Policies > Returns" as a trail. */
function headingPath(heading: string): string {
  return heading
    .split(" > ")
    .map((part) => part.trim())
    .filter(Boolean)
    .join(" › ");
}

/** Which of the fused rankings found the passage. */
function matchedBy(passage: SearchResult): string | null {
  const words = passage.text_rank != null;
  const meaning = passage.vector_rank != null;
  if (words && meaning) return "found by words and meaning";
  if (meaning) return "found by meaning";
  if (words) return "found by words";
  return null;
}
