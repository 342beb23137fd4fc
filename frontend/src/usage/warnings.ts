// When a usage meter warns: at 80% of its limit ("warning") and at 100% ("limit reached").
// The dashboard meters and the app-wide banner both use these rules.

import type { UsageMetric, UsageReport, UsageWarning, UsageWarningLevel } from "../api/types";
import { formatNumber, formatPercent } from "../format";

export const WARNING_PERCENT = 80;
export const LIMIT_PERCENT = 100;

export type MeterLevel = "ok" | UsageWarningLevel;

/**
 * Percent of the limit used, or null for an unlimited metric. Computed from `used` and `limit`
 * (exact) rather than the server's rounded `percent`, which is only used when there is no limit.
 * A limit of 0 counts as reached: nothing more is allowed.
 */
export function usagePercent(metric: Pick<UsageMetric, "used" | "limit" | "percent">): number | null {
  if (metric.limit === null) return metric.percent;
  if (metric.limit <= 0) return LIMIT_PERCENT;
  return (metric.used / metric.limit) * 100;
}

export function levelForPercent(percent: number | null): MeterLevel {
  if (percent === null || Number.isNaN(percent)) return "ok";
  if (percent >= LIMIT_PERCENT) return "limit_reached";
  if (percent >= WARNING_PERCENT) return "warning";
  return "ok";
}

export function metricLevel(metric: UsageMetric): MeterLevel {
  return levelForPercent(usagePercent(metric));
}

const severity: Record<MeterLevel, number> = { ok: 0, warning: 1, limit_reached: 2 };

/**
 * The warnings to show: the server's own, plus one for any metric at or over a threshold that
 * the server did not mention (so the banner never disagrees with the meters). One per metric,
 * the most severe; limits reached first.
 */
export function usageWarnings(report: Pick<UsageReport, "metrics" | "warnings">): UsageWarning[] {
  const byMetric = new Map<string, UsageWarning>();
  const keep = (warning: UsageWarning) => {
    const existing = byMetric.get(warning.metric);
    if (!existing || severity[warning.level] > severity[existing.level]) byMetric.set(warning.metric, warning);
  };
  for (const warning of report.warnings) keep(warning);
  for (const metric of report.metrics) {
    const level = metricLevel(metric);
    if (level !== "ok") keep({ metric: metric.metric, level, message: warningMessage(metric, level) });
  }
  const order = report.metrics.map((m) => m.metric as string);
  return [...byMetric.values()].sort(
    (a, b) => severity[b.level] - severity[a.level] || rank(order, a.metric) - rank(order, b.metric),
  );
}

export function warningMessage(metric: UsageMetric, level: UsageWarningLevel): string {
  const amount = `${formatNumber(metric.used)} of ${formatNumber(metric.limit ?? 0)}`;
  if (level === "limit_reached") return `${metric.label}: limit reached (${amount} used).`;
  const percent = usagePercent(metric) ?? 0;
  return `${metric.label}: ${formatPercent(percent)} of the limit used (${amount}).`;
}

function rank(order: string[], metric: string): number {
  const index = order.indexOf(metric);
  return index === -1 ? order.length : index;
}
