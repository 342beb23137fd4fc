// Shapes the usage report's `daily` series into the 30 days the activity chart draws.

import type { UsageDailyValue, UsageMetric } from "../../api/types";

export const ACTIVITY_DAYS = 30;

/** One day of the chart: the chosen metric's total (0 when nothing was recorded). */
export interface ActivityDay {
  /** YYYY-MM-DD (UTC) */
  date: string;
  value: number;
}

export interface ActivitySeries {
  metric: string;
  days: ActivityDay[];
  total: number;
  max: number;
}

/** Metrics worth charting first, in order; the rest follow in the report's order. */
const PREFERRED = ["api_calls", "crawls", "pages_crawled", "generations", "content_items", "tokens"];

/**
 * The last day the series covers, as the API computes it: the period's last day, or today
 * (UTC) when the period is the current month.
 */
export function activityEnd(period: string, today: Date = new Date()): string {
  const todayIso = isoDate(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())));
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  if (!match) return todayIso;
  const lastOfPeriod = isoDate(new Date(Date.UTC(Number(match[1]), Number(match[2]), 0)));
  return lastOfPeriod < todayIso ? lastOfPeriod : todayIso;
}

/** The `days` dates ending on `end` (inclusive), oldest first. */
export function dateWindow(end: string, days = ACTIVITY_DAYS): string[] {
  const endTime = Date.parse(`${end}T00:00:00Z`);
  const dates: string[] = [];
  for (let i = days - 1; i >= 0; i--) dates.push(isoDate(new Date(endTime - i * 86_400_000)));
  return dates;
}

/** Metrics that have daily figures, ordered for the metric picker (preferred ones first). */
export function chartableMetrics(daily: UsageDailyValue[], metrics: UsageMetric[] = []): string[] {
  const present = new Set(daily.map((d) => d.metric));
  const order = [...PREFERRED, ...metrics.map((m) => m.metric), ...[...present].sort()];
  return [...new Set(order)].filter((m) => present.has(m));
}

/** One metric's values for each day of the window; days without figures are 0. */
export function activitySeries(
  daily: UsageDailyValue[],
  metric: string,
  end: string,
  days = ACTIVITY_DAYS,
): ActivitySeries {
  const byDate = new Map<string, number>();
  for (const d of daily) {
    if (d.metric !== metric) continue;
    byDate.set(d.date, (byDate.get(d.date) ?? 0) + d.value);
  }
  const series = dateWindow(end, days).map((date) => ({ date, value: byDate.get(date) ?? 0 }));
  return {
    metric,
    days: series,
    total: series.reduce((sum, d) => sum + d.value, 0),
    max: series.reduce((max, d) => Math.max(max, d.value), 0),
  };
}

/** A round upper bound for the y axis (1, 2, 5 × 10ⁿ) so gridline labels read cleanly. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= max) return step * magnitude;
  }
  return 10 * magnitude;
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
