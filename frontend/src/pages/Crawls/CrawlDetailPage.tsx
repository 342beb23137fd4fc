import { Link, useParams } from "react-router";
import { isApiError } from "../../api/client";
import { isCrawlActive, useCancelCrawl, useCrawl, useCrawlPages } from "../../api/queries";
import type { Crawl, CrawlPage } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime, formatNumber } from "../../format";
import { CrawlProgress } from "./CrawlProgress";
import { CrawlStatusBadge } from "./CrawlStatusBadge";
import { useLibraryRefresh } from "./useLibraryRefresh";
import "./crawls.css";

export function CrawlDetailPage() {
  const { id = "" } = useParams();
  const crawl = useCrawl(id);
  useLibraryRefresh(crawl.data ? [crawl.data] : undefined);

  let body;
  if (crawl.isPending) {
    body = <LoadingState label="Loading the crawl…" />;
  } else if (!crawl.data && isApiError(crawl.error) && crawl.error.status === 404) {
    // Asking again cannot help; another organization's crawl answers exactly like a missing one.
    body = (
      <EmptyState title="No such crawl.">
        The link may be wrong, or the crawl is not in this organization. <Link to="/crawls">See all crawls</Link>
      </EmptyState>
    );
  } else if (!crawl.data) {
    body = <ErrorState error={crawl.error} title="Could not load this crawl" onRetry={() => void crawl.refetch()} />;
  } else {
    body = (
      <>
        <CrawlSummary crawl={crawl.data} />
        <CrawlPages crawl={crawl.data} />
      </>
    );
  }
  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/crawls">← Crawls</Link>
      </p>
      <PageHeader title="Crawl" subtitle={crawl.data?.url} actions={crawl.data ? <CancelButton crawl={crawl.data} /> : null} />
      {body}
    </div>
  );
}

function CancelButton({ crawl }: { crawl: Crawl }) {
  const cancel = useCancelCrawl();
  if (!isCrawlActive(crawl) && !cancel.isError) return null;
  return (
    <div className="cancel-crawl">
      {isCrawlActive(crawl) ? (
        <button
          type="button"
          className="button button-secondary"
          disabled={cancel.isPending}
          onClick={() => cancel.mutate(crawl.id)}
        >
          {cancel.isPending ? "Cancelling…" : "Cancel crawl"}
        </button>
      ) : null}
      {cancel.isError ? <ErrorState error={cancel.error} title="Could not cancel the crawl" /> : null}
    </div>
  );
}

function CrawlSummary({ crawl }: { crawl: Crawl }) {
  const counts: [string, number][] = [
    ["Discovered", crawl.pages.discovered],
    ["Waiting", crawl.pages.queued],
    ["New", crawl.pages.stored],
    ["Updated", crawl.pages.updated],
    ["Unchanged", crawl.pages.unchanged],
    ["Duplicates", crawl.pages.duplicate],
    ["Skipped", crawl.pages.skipped],
    ["Failed", crawl.pages.failed],
  ];
  const reasons = [
    ...Object.entries(crawl.skipped_by_reason).map(([k, v]) => [`skipped: ${k}`, v] as const),
    ...Object.entries(crawl.errors_by_kind).map(([k, v]) => [`failed: ${k}`, v] as const),
  ];
  return (
    <section className="card crawl-summary" aria-label="Crawl summary">
      <div className="crawl-row-head">
        <CrawlStatusBadge status={crawl.status} />
        {crawl.status_reason ? <span>{crawl.status_reason}</span> : null}
        {isCrawlActive(crawl) && crawl.pages_per_minute ? (
          <span className="muted">{formatNumber(crawl.pages_per_minute)} pages/minute</span>
        ) : null}
      </div>
      {isCrawlActive(crawl) ? <CrawlProgress crawl={crawl} /> : null}
      <dl className="facts crawl-counts">
        {counts.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{formatNumber(value)}</dd>
          </div>
        ))}
      </dl>
      {reasons.length > 0 ? (
        <p className="muted crawl-reasons">
          {reasons.map(([k, v]) => `${k} ${formatNumber(v)}`).join(" · ")}
        </p>
      ) : null}
      <p className="muted crawl-row-meta">
        Up to {formatNumber(crawl.options.max_pages)} pages, depth {crawl.options.max_depth}
        {crawl.options.include_paths.length ? ` · only ${crawl.options.include_paths.join(", ")}` : ""}
        {crawl.options.exclude_paths.length ? ` · skipping ${crawl.options.exclude_paths.join(", ")}` : ""}
        {crawl.options.include_subdomains ? " · with subdomains" : ""}
        {crawl.options.use_sitemap ? " · sitemap" : ""} · started {formatDateTime(crawl.created_at)}
        {crawl.finished_at ? ` · finished ${formatDateTime(crawl.finished_at)}` : ""}
      </p>
    </section>
  );
}

/** Words for page outcomes; reasons are shown as the API names them. */
const PAGE_STATUS: Record<CrawlPage["status"], string> = {
  queued: "Waiting",
  fetching: "Fetching",
  stored: "New item",
  updated: "Updated",
  unchanged: "Unchanged",
  duplicate: "Duplicate",
  redirected: "Redirected",
  skipped: "Skipped",
  failed: "Failed",
};

function CrawlPages({ crawl }: { crawl: Crawl }) {
  const pages = useCrawlPages(crawl.id, isCrawlActive(crawl));
  let body;
  if (pages.isPending) {
    body = <LoadingState label="Loading pages…" />;
  } else if (!pages.data) {
    body = <ErrorState error={pages.error} title="Could not load the pages" onRetry={() => void pages.refetch()} />;
  } else {
    const rows = pages.data.pages.flatMap((p) => p.items);
    body =
      rows.length === 0 ? (
        <EmptyState title="No pages yet.">Pages appear here as the crawler discovers them.</EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table crawl-pages">
              <caption className="sr-only">Pages of this crawl and their outcomes</caption>
              <thead>
                <tr>
                  <th scope="col">Page</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Reason</th>
                  <th scope="col" className="num">HTTP</th>
                  <th scope="col" className="num">Depth</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((page) => (
                  <tr key={page.id} className={`page-${page.status}`}>
                    <th scope="row" className="crawl-page-url">
                      {page.content_id ? <Link to={`/library/${page.content_id}`}>{page.url}</Link> : page.url}
                    </th>
                    <td>{PAGE_STATUS[page.status] ?? page.status}</td>
                    <td>
                      {page.reason ? <code>{page.reason}</code> : null}
                      {page.detail ? <span className="muted"> {page.detail}</span> : null}
                      {page.attempts > 1 ? <span className="muted"> ({page.attempts} attempts)</span> : null}
                    </td>
                    <td className="num">{page.http_status ?? "—"}</td>
                    <td className="num">{page.depth}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pages.hasNextPage ? (
            <button
              type="button"
              className="button button-secondary"
              disabled={pages.isFetchingNextPage}
              onClick={() => void pages.fetchNextPage()}
            >
              {pages.isFetchingNextPage ? "Loading…" : "Load more pages"}
            </button>
          ) : null}
        </>
      );
  }
  return (
    <section className="section" aria-labelledby="crawl-pages-heading">
      <h2 id="crawl-pages-heading">Pages</h2>
      {body}
    </section>
  );
}
