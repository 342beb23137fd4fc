import type { UsageMetric, UsageWarning } from "../../api/types";
import { MeterBar } from "../../components/MeterBar";
import { formatNumber, formatPercent } from "../../format";
import { metricLevel, usagePercent, warningMessage } from "../../usage/warnings";

/** One metric: used of limit, a bar, and the warning when at 80% or more. */
export function UsageMeter({ metric, warning }: { metric: UsageMetric; warning?: UsageWarning }) {
  const percent = usagePercent(metric);
  const level = metricLevel(metric);
  const headingId = `meter-${metric.metric}`;
  const amount =
    metric.limit === null
      ? formatNumber(metric.used)
      : `${formatNumber(metric.used)} of ${formatNumber(metric.limit)}`;
  const message = level === "ok" ? null : (warning?.message ?? warningMessage(metric, level));

  return (
    <li className={`meter-card level-${level}`} aria-labelledby={headingId}>
      <div className="meter-head">
        <h3 id={headingId}>{metric.label}</h3>
        {level === "limit_reached" ? <span className="badge badge-limit_reached">Limit reached</span> : null}
        {level === "warning" ? <span className="badge badge-warning">Nearing limit</span> : null}
      </div>
      <p className="meter-amount">
        <strong>{formatNumber(metric.used)}</strong>
        {metric.limit === null ? (
          <span className="muted"> · no limit</span>
        ) : (
          <span className="muted"> of {formatNumber(metric.limit)}</span>
        )}
      </p>
      {metric.limit !== null && percent !== null ? (
        <>
          <MeterBar
            label={`${metric.label} used`}
            percent={percent}
            level={level}
            valueText={`${amount} (${formatPercent(percent)})`}
          />
          <p className="meter-percent">{formatPercent(percent)} of limit</p>
        </>
      ) : null}
      {message ? <p className={`meter-message level-${level}`}>{message}</p> : null}
    </li>
  );
}
