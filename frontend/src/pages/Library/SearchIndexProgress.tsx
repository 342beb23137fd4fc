import { useState } from "react";
import { isIndexing, useSearchStatus } from "../../api/queries";
import type { SearchIndexStatus } from "../../api/types";
import { ErrorState } from "../../components/StateViews";
import { formatNumber, formatPercent, formatTimeLeft } from "../../format";
import "../../components/MeterBar.css";

/**
 * How much of the library is searchable by meaning while new passages are embedded (GET
 * /api/search/status, polled until nothing is pending). Shows nothing while it loads, when
 * nothing is pending, or without an embedder: it is a notice about work in progress, and the
 * page's own views carry their loading and empty states. Once this view has watched the index
 * fill, it says so quietly.
 */
export function SearchIndexProgress() {
  const status = useSearchStatus();
  const [watchedIndexing, setWatchedIndexing] = useState(false);
  const data = status.data;
  // Remembered from an earlier render, so the bar turns into "complete" instead of vanishing.
  if (data && isIndexing(data) && !watchedIndexing) setWatchedIndexing(true);

  if (!data) {
    return status.isError ? (
      <ErrorState error={status.error} title="Could not check the search index" onRetry={() => void status.refetch()} />
    ) : null;
  }
  if (isIndexing(data)) return <IndexingProgress status={data} />;
  if (watchedIndexing && data.embeddings_enabled && data.passages > 0) {
    return (
      <p className="index-complete" role="status">
        Search index complete: all {formatNumber(data.passages)} {data.passages === 1 ? "passage is" : "passages are"}{" "}
        searchable by meaning and by words.
      </p>
    );
  }
  return null;
}

/** The bar: passages embedded out of all passages, the share, and the time left when known. */
export function IndexingProgress({ status }: { status: SearchIndexStatus }) {
  const total = Math.max(0, status.passages);
  const done = Math.min(Math.max(0, status.embedded), total);
  // Counted here, not taken from searchable_share, so the bar and the numbers beside it agree.
  const percent = total > 0 ? (done / total) * 100 : 0;
  const counts = `${formatNumber(done)} of ${formatNumber(total)} ${total === 1 ? "passage" : "passages"}`;
  const timeLeft = status.eta_seconds === null ? "" : formatTimeLeft(status.eta_seconds);
  return (
    <section className="card index-progress" aria-label="Search index">
      <p className="index-progress-title">Preparing search by meaning</p>
      <div
        className="meter-bar"
        role="progressbar"
        aria-label="Passages searchable by meaning"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${counts} (${formatPercent(percent)})${timeLeft ? `, ${timeLeft}` : ""}`}
      >
        <div className="meter-bar-fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="index-progress-counts">
        <span>
          <strong>{counts}</strong> searchable by meaning ({formatPercent(percent)})
        </span>
        {timeLeft ? <span className="muted">{timeLeft}</span> : null}
      </p>
      <p className="index-progress-note muted">
        Search by words already covers all {formatNumber(total)} {total === 1 ? "passage" : "passages"}.
      </p>
    </section>
  );
}
