import type { Crawl } from "../../api/types";
import { formatNumber } from "../../format";
import { crawlProgress, pagesDone } from "./crawlForm";

/** A progress bar for a crawl; indeterminate until pages are discovered. */
export function CrawlProgress({ crawl }: { crawl: Crawl }) {
  const percent = crawlProgress(crawl);
  const done = pagesDone(crawl.pages);
  const total = Math.min(crawl.pages.discovered, crawl.options.max_pages || crawl.pages.discovered);
  const text =
    percent === null
      ? "Waiting for the first pages"
      : `${formatNumber(done)} of ${formatNumber(total)} ${total === 1 ? "page" : "pages"}`;
  return (
    <div className="crawl-progress">
      <div
        className={`meter-bar${percent === null ? " meter-bar-indeterminate" : ""}`}
        role="progressbar"
        aria-label={`Progress of the crawl of ${crawl.url}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent === null ? undefined : Math.round(percent)}
        aria-valuetext={text}
      >
        <div className="meter-bar-fill" style={{ width: `${percent ?? 30}%` }} />
      </div>
      <span className="crawl-progress-text">{text}</span>
    </div>
  );
}
