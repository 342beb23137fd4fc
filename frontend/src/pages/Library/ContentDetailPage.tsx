import { useEffect, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { isApiError } from "../../api/client";
import { useContent, useDeleteContent } from "../../api/queries";
import type { ContentDetail } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime, formatNumber } from "../../format";
import "./library.css";

export function ContentDetailPage() {
  const { id = "" } = useParams();
  const content = useContent(id);

  let body;
  if (content.isPending) {
    body = <LoadingState label="Loading the item…" />;
  } else if (!content.data && isApiError(content.error) && content.error.status === 404) {
    // Asking again cannot help; another organization's item answers exactly like a missing one.
    body = (
      <EmptyState title="This item is not in your library.">
        It may have been deleted, or the link may be wrong. <Link to="/library">Back to the library</Link>
      </EmptyState>
    );
  } else if (!content.data) {
    body = <ErrorState error={content.error} title="Could not load this item" onRetry={() => void content.refetch()} />;
  } else {
    body = <ContentView item={content.data} />;
  }
  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/library">← Library</Link>
      </p>
      <PageHeader title={content.data?.title || content.data?.url || "Library item"} />
      {body}
    </div>
  );
}

/** The passage a citation points to (`#chunk-<id>`), if any. */
export function citedChunkId(hash: string): string | null {
  const match = /^#chunk-(.+)$/.exec(hash);
  return match ? decodeURIComponent(match[1]!) : null;
}

function ContentView({ item }: { item: ContentDetail }) {
  const cited = citedChunkId(useLocation().hash);
  // The chunks arrive after the page does, so the browser cannot scroll to the fragment itself.
  useEffect(() => {
    if (!cited) return;
    const passage = document.getElementById(`chunk-${cited}`);
    passage?.scrollIntoView?.({ block: "start" });
    passage?.focus({ preventScroll: true });
  }, [cited]);
  return (
    <>
      <section className="card content-meta" aria-label="About this item">
        <dl className="facts">
          <div>
            <dt>Source</dt>
            <dd>
              {item.source}
              {item.crawl_id ? (
                <>
                  {" "}
                  (<Link to={`/crawls/${item.crawl_id}`}>crawl</Link>)
                </>
              ) : null}
            </dd>
          </div>
          {item.url ? (
            <div>
              <dt>Address</dt>
              <dd className="library-url">{item.url}</dd>
            </div>
          ) : null}
          <div>
            <dt>Words</dt>
            <dd>{formatNumber(item.word_count)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{formatDateTime(item.updated_at)}</dd>
          </div>
        </dl>
        <DeleteContent item={item} />
      </section>
      <section className="section" aria-labelledby="chunks-heading">
        <h2 id="chunks-heading">Chunks ({formatNumber(item.chunks.length)})</h2>
        <p className="muted">How the text is split for search and citations.</p>
        {item.chunks.length === 0 ? (
          <EmptyState title="No chunks.">This item has no text to search.</EmptyState>
        ) : (
          <ol className="chunk-list">
            {[...item.chunks]
              .sort((a, b) => a.position - b.position)
              .map((chunk) => (
                <li
                  key={chunk.id}
                  id={`chunk-${chunk.id}`}
                  tabIndex={-1}
                  className={chunk.id === cited ? "card chunk chunk-cited" : "card chunk"}
                  aria-current={chunk.id === cited ? "location" : undefined}
                >
                  <p className="chunk-head">
                    <strong>{chunk.heading || "No heading"}</strong>
                    {chunk.id === cited ? <span className="badge">cited passage</span> : null}
                    <span className="muted">
                      {formatNumber(chunk.token_count)} tokens ·{" "}
                      {chunk.embedding_state === "embedded" ? "searchable by meaning" : "embedding pending"}
                    </span>
                  </p>
                  <p className="chunk-text">{chunk.text}</p>
                </li>
              ))}
          </ol>
        )}
      </section>
    </>
  );
}

/** Delete with an inline confirmation; focus moves to the confirming button and back. */
function DeleteContent({ item }: { item: ContentDetail }) {
  const [confirming, setConfirming] = useState(false);
  const remove = useDeleteContent();
  const navigate = useNavigate();
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  if (!confirming) {
    return (
      <button ref={openRef} type="button" className="button button-danger" onClick={() => setConfirming(true)}>
        Delete…
      </button>
    );
  }
  return (
    <div className="confirm" role="group" aria-label="Confirm deletion">
      <p>
        Delete <strong>{item.title || item.url || "this item"}</strong>? Its chunks leave search and drafts can no
        longer cite it. This cannot be undone.
      </p>
      {remove.isError ? <ErrorState error={remove.error} title="Could not delete the item" /> : null}
      <div className="button-row">
        <button
          ref={confirmRef}
          type="button"
          className="button button-danger"
          disabled={remove.isPending}
          onClick={() => remove.mutate(item.id, { onSuccess: () => void navigate("/library") })}
        >
          {remove.isPending ? "Deleting…" : "Delete permanently"}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => {
            setConfirming(false);
            remove.reset();
          }}
        >
          Keep it
        </button>
      </div>
    </div>
  );
}
