import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { queryKeys, useContents, useSearchStatus } from "../../api/queries";
import type { ContentFilter, ContentItem, ContentSource } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDate, formatNumber } from "../../format";
import { useLimit } from "../../usage/useLimit";
import { LimitNotice } from "../Crawls/StartCrawlForm";
import { AddContentForm } from "./AddContentForm";
import { PassageSearch } from "./PassageSearch";
import { SearchIndexProgress } from "./SearchIndexProgress";
import "./library.css";

const SOURCES: Record<ContentSource, string> = { crawl: "Crawl", manual: "Added by hand", import: "Import" };

/** The address holds the filters, so a search can be shared and survives reloads. */
function filterFrom(params: URLSearchParams): ContentFilter {
  const source = params.get("source");
  const sort = params.get("sort");
  return {
    q: params.get("q") || undefined,
    source: source === "crawl" || source === "manual" || source === "import" ? source : undefined,
    crawl_id: params.get("crawl_id") || undefined,
    sort: sort === "oldest" ? "oldest" : undefined,
  };
}

export function LibraryPage() {
  const [params, setParams] = useSearchParams();
  const filter = filterFrom(params);
  const [adding, setAdding] = useState(false);
  const limit = useLimit("content_items", null);
  const full = !adding && limit.atLimit;
  useListFollowsIndex();

  const apply = (next: ContentFilter) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) if (value) search.set(key, value);
    setParams(search);
  };

  return (
    <div className="page">
      <PageHeader
        title="Library"
        subtitle="The content your drafts draw on: crawled pages and texts added by hand."
        actions={
          <button
            type="button"
            className="button button-primary"
            aria-expanded={adding}
            disabled={full}
            aria-describedby={full ? "library-limit" : undefined}
            onClick={() => setAdding((a) => !a)}
          >
            {adding ? "Close" : "Add content"}
          </button>
        }
      />
      {full ? <LimitNotice id="library-limit" advice={limit.advice} /> : null}
      {adding ? <AddContentForm onDone={() => setAdding(false)} /> : null}
      <SearchIndexProgress />
      <LibraryFilters key={JSON.stringify(filter)} filter={filter} onApply={apply} />
      <LibraryResults filter={filter} onClear={() => apply({})} />
      <PassageSearch />
    </div>
  );
}

/**
 * Items added elsewhere (a crawl, another member, the API) reach the polled index status
 * first: when its passage count moves, list the library again too.
 */
function useListFollowsIndex() {
  const client = useQueryClient();
  const passages = useSearchStatus().data?.passages;
  const seen = useRef(passages);
  useEffect(() => {
    if (passages !== undefined && seen.current !== undefined && passages !== seen.current) {
      void client.invalidateQueries({ queryKey: queryKeys.contentLists });
    }
    seen.current = passages;
  }, [passages, client]);
}

function LibraryFilters({ filter, onApply }: { filter: ContentFilter; onApply: (f: ContentFilter) => void }) {
  const [q, setQ] = useState(filter.q ?? "");
  const qId = useId();
  const sourceId = useId();
  const sortId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...filter, q: q.trim() || undefined });
  };
  return (
    <form className="card library-filters" role="search" aria-label="Search the library" onSubmit={submit}>
      <div className="field library-q">
        <label htmlFor={qId}>Search titles and addresses</label>
        <input id={qId} type="search" value={q} maxLength={200} onChange={(e) => setQ(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={sourceId}>Source</label>
        <select
          id={sourceId}
          value={filter.source ?? ""}
          onChange={(e) => onApply({ ...filter, q: q.trim() || undefined, source: (e.target.value || undefined) as ContentSource | undefined })}
        >
          <option value="">All sources</option>
          {Object.entries(SOURCES).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={sortId}>Order</label>
        <select
          id={sortId}
          value={filter.sort ?? "newest"}
          onChange={(e) => onApply({ ...filter, q: q.trim() || undefined, sort: e.target.value === "oldest" ? "oldest" : undefined })}
        >
          <option value="newest">Newest first</option>
          <option value="oldest">Oldest first</option>
        </select>
      </div>
      <div className="button-row library-filter-buttons">
        <button type="submit" className="button button-primary">
          Search
        </button>
      </div>
      {filter.crawl_id ? (
        <p className="field-hint library-crawl-filter">
          Only items from crawl <Link to={`/crawls/${filter.crawl_id}`}>{filter.crawl_id}</Link>.{" "}
          <button type="button" className="button button-ghost" onClick={() => onApply({ ...filter, crawl_id: undefined })}>
            Show all
          </button>
        </p>
      ) : null}
    </form>
  );
}

function LibraryResults({ filter, onClear }: { filter: ContentFilter; onClear: () => void }) {
  const contents = useContents(filter);
  if (contents.isPending) return <LoadingState label="Loading the library…" />;
  if (!contents.data) {
    return <ErrorState error={contents.error} title="Could not load the library" onRetry={() => void contents.refetch()} />;
  }
  const rows = contents.data.pages.flatMap((p) => p.items);
  const filtered = Boolean(filter.q || filter.source || filter.crawl_id);
  return (
    <div aria-busy={contents.isPlaceholderData} className={contents.isPlaceholderData ? "refreshing" : undefined}>
      {contents.isError ? (
        <ErrorState error={contents.error} title="Could not refresh the library" onRetry={() => void contents.refetch()} />
      ) : null}
      {rows.length === 0 ? (
        filtered ? (
          <EmptyState title="Nothing in the library matches.">
            <button type="button" className="button button-secondary" onClick={onClear}>
              Clear search and filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="The library is empty.">
            Crawl a site or add a text by hand; drafts cite what is here.
          </EmptyState>
        )
      ) : (
        <ContentTable items={rows} />
      )}
      {contents.hasNextPage ? (
        <button
          type="button"
          className="button button-secondary"
          disabled={contents.isFetchingNextPage}
          onClick={() => void contents.fetchNextPage()}
        >
          {contents.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </div>
  );
}

function ContentTable({ items }: { items: ContentItem[] }) {
  return (
    <div className="table-wrap">
      <table className="table library-table">
        <caption className="sr-only">Library items</caption>
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">Source</th>
            <th scope="col" className="num">Words</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <th scope="row">
                <Link to={`/library/${item.id}`}>{item.title || item.url || "Untitled"}</Link>
                {item.url && item.title ? <span className="library-url">{item.url}</span> : null}
              </th>
              <td>{SOURCES[item.source] ?? item.source}</td>
              <td className="num">{formatNumber(item.word_count)}</td>
              <td>
                <time dateTime={item.updated_at}>{formatDate(item.updated_at)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
