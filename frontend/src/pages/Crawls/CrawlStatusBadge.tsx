import type { CrawlStatus } from "../../api/types";

const LABELS: Record<CrawlStatus, string> = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  content_limit_reached: "Library full",
};

export function CrawlStatusBadge({ status }: { status: CrawlStatus }) {
  return <span className={`badge crawl-status crawl-status-${status}`}>{LABELS[status] ?? status}</span>;
}
