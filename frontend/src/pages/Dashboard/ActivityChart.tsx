// 30-day activity as an inline SVG bar chart, with a visually hidden table for screen readers.

import { useId, useState } from "react";
import type { UsageReport } from "../../api/types";
import { EmptyState } from "../../components/StateViews";
import { formatNumber } from "../../format";
import { ACTIVITY_DAYS, activityEnd, activitySeries, chartableMetrics, niceMax } from "./activity";

const WIDTH = 720;
const HEIGHT = 200;
const PAD = { top: 12, right: 8, bottom: 26, left: 44 };

const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

function formatDay(date: string): string {
  const time = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(time) ? date : dayFormat.format(time);
}

export function ActivityChart({ report, today }: { report: UsageReport; today?: Date }) {
  const metrics = chartableMetrics(report.daily, report.metrics);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const metric = chosen && metrics.includes(chosen) ? chosen : metrics[0];
  const labels = new Map<string, string>(report.metrics.map((m) => [m.metric, m.label]));
  // "API calls this month" reads wrong over a 30-day window that can span two months.
  const labelOf = (m: string) => (labels.get(m) ?? m.replace(/_/g, " ")).replace(/ this month$/i, "");
  const selectId = useId();
  const titleId = useId();
  const descId = useId();

  return (
    <section className="activity card" aria-labelledby={titleId}>
      <div className="section-header">
        <h3 id={titleId}>Activity, last {ACTIVITY_DAYS} days</h3>
        {metrics.length > 1 ? (
          <div className="inline-field">
            <label htmlFor={selectId}>Metric</label>
            <select id={selectId} value={metric} onChange={(e) => setChosen(e.target.value)}>
              {metrics.map((m) => (
                <option key={m} value={m}>
                  {labelOf(m)}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </div>
      {metric === undefined ? (
        <EmptyState title="No activity in these 30 days yet.">
          Daily figures appear as your team uses VoiceForge: API calls, crawls, generations.
        </EmptyState>
      ) : (
        <Chart report={report} metric={metric} label={labelOf(metric)} descId={descId} today={today} />
      )}
    </section>
  );
}

function Chart({
  report,
  metric,
  label,
  descId,
  today,
}: {
  report: UsageReport;
  metric: string;
  label: string;
  descId: string;
  today?: Date;
}) {
  const end = activityEnd(report.period, today);
  const series = activitySeries(report.daily, metric, end);
  const top = niceMax(series.max);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / series.days.length;
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const first = series.days[0]?.date ?? end;
  const description =
    `${label} per day from ${formatDay(first)} to ${formatDay(end)}: ` +
    `${formatNumber(series.total)} in total, at most ${formatNumber(series.max)} on one day.`;
  const tickDays = [0, Math.floor(series.days.length / 2), series.days.length - 1];

  return (
    <figure className="activity-figure">
      <svg
        className="activity-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${descId}-title`}
        aria-describedby={descId}
      >
        <title id={`${descId}-title`}>{`${label}, daily`}</title>
        <desc id={descId}>{description}</desc>
        {[0, top / 2, top].map((v) => (
          <g key={v} className="activity-grid" aria-hidden="true">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v)} dy="0.32em" textAnchor="end">
              {formatNumber(v)}
            </text>
          </g>
        ))}
        {series.days.map((d, i) =>
          d.value > 0 ? (
            <rect
              key={d.date}
              className="activity-bar"
              x={PAD.left + i * slot + (slot - barW) / 2}
              y={y(d.value)}
              width={barW}
              height={Math.max(1, PAD.top + plotH - y(d.value))}
              rx={2}
            >
              <title>{`${formatDay(d.date)}: ${formatNumber(d.value)}`}</title>
            </rect>
          ) : null,
        )}
        {tickDays.map((i) => {
          const d = series.days[i];
          if (!d) return null;
          return (
            <text
              key={d.date}
              className="activity-axis"
              x={PAD.left + i * slot + slot / 2}
              y={HEIGHT - 6}
              textAnchor={i === 0 ? "start" : i === series.days.length - 1 ? "end" : "middle"}
              aria-hidden="true"
            >
              {formatDay(d.date)}
            </text>
          );
        })}
      </svg>
      <figcaption className="muted">
        {label}: {formatNumber(series.total)} in the last {ACTIVITY_DAYS} days
        {series.total === 0 ? " (nothing recorded yet)" : null}.
      </figcaption>
      {/* The hiding box wraps the table: a table ignores the 1px size and would stretch the page. */}
      <div className="sr-only">
        <table>
          <caption>{`${label} per day`}</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">{label}</th>
            </tr>
          </thead>
          <tbody>
            {series.days.map((d) => (
              <tr key={d.date}>
                <th scope="row">{d.date}</th>
                <td>{d.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
