import { Link } from "react-router";
import { isCrawlActive, useCrawls } from "../../api/queries";
import type { Crawl } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime, formatNumber } from "../../format";
import { CrawlProgress } from "./CrawlProgress";
import { CrawlStatusBadge } from "./CrawlStatusBadge";
import { ScheduleEditor } from "./ScheduleEditor";
import { StartCrawlForm } from "./StartCrawlForm";
import { useLibraryRefresh } from "./useLibraryRefresh";
import "./crawls.css";

export function CrawlsPage() {
  return (
    <div className="page">
      <PageHeader title="Crawls" subtitle="Bring a site's pages into your library." />
      <StartCrawlForm />
      <CrawlList />
      <ScheduleEditor />
    </div>
  );
}

function CrawlList() {
  const crawls = useCrawls();
  useLibraryRefresh(crawls.data?.pages.flatMap((p) => p.items));
  let body;
  if (crawls.isPending) {
    body = <LoadingState label="Loading crawls…" />;
  } else if (!crawls.data) {
    body = <ErrorState error={crawls.error} title="Could not load crawls" onRetry={() => void crawls.refetch()} />;
  } else {
    const rows = crawls.data.pages.flatMap((p) => p.items);
    body = (
      <>
        {crawls.isError ? (
          <ErrorState error={crawls.error} title="Could not refresh crawls" onRetry={() => void crawls.refetch()} />
        ) : null}
        {rows.length === 0 ? (
          <EmptyState title="No crawls yet.">Start one above to fill your library from a site.</EmptyState>
        ) : (
          <ul className="crawl-list" aria-label="Crawls">
            {rows.map((crawl) => (
              <CrawlRow key={crawl.id} crawl={crawl} />
            ))}
          </ul>
        )}
        {crawls.hasNextPage ? (
          <button
            type="button"
            className="button button-secondary"
            disabled={crawls.isFetchingNextPage}
            onClick={() => void crawls.fetchNextPage()}
          >
            {crawls.isFetchingNextPage ? "Loading…" : "Load more crawls"}
          </button>
        ) : null}
      </>
    );
  }
  return (
    <section className="section" aria-labelledby="crawl-list-heading">
      <div className="section-header">
        <h2 id="crawl-list-heading">Recent crawls</h2>
      </div>
      {body}
    </section>
  );
}

function CrawlRow({ crawl }: { crawl: Crawl }) {
  return (
    <li className="card crawl-row" aria-label={crawl.url}>
      <div className="crawl-row-head">
        <Link to={`/crawls/${crawl.id}`} className="crawl-url">
          {crawl.url}
        </Link>
        <CrawlStatusBadge status={crawl.status} />
        {crawl.scheduled ? <span className="badge">Scheduled</span> : null}
      </div>
      {isCrawlActive(crawl) ? <CrawlProgress crawl={crawl} /> : null}
      <p className="crawl-row-meta muted">
        Started {formatDateTime(crawl.created_at)} · {formatNumber(crawl.pages.stored)} new,{" "}
        {formatNumber(crawl.pages.updated)} updated, {formatNumber(crawl.pages.skipped)} skipped,{" "}
        {formatNumber(crawl.pages.failed)} failed
        {crawl.status_reason ? ` · ${crawl.status_reason}` : ""}
      </p>
    </li>
  );
}
