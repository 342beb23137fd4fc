import { useId, useState } from "react";
import { useCurrentOrganization, useUsage } from "../../api/queries";
import type { UsageReport } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { RoleBadge } from "../../components/RoleBadge";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDate, formatPeriod, recentPeriods } from "../../format";
import { usageWarnings } from "../../usage/warnings";
import { ActivityChart } from "./ActivityChart";
import { UsageMeter } from "./UsageMeter";
import "./dashboard.css";

export function DashboardPage() {
  const [period, setPeriod] = useState<string | undefined>(undefined);
  return (
    <div className="page">
      <PageHeader title="Dashboard" />
      <OrganizationSummary />
      <UsageSection period={period} onPeriodChange={setPeriod} />
    </div>
  );
}

function OrganizationSummary() {
  const current = useCurrentOrganization();
  if (current.isPending) return <LoadingState label="Loading organization…" />;
  if (!current.data) {
    return (
      <ErrorState
        error={current.error}
        title="Could not load your organization"
        onRetry={() => void current.refetch()}
      />
    );
  }
  const { organization, role, user } = current.data;
  return (
    <section className="card org-summary" aria-labelledby="org-name">
      <div className="org-summary-main">
        <h2 id="org-name">{organization.name}</h2>
        <p className="muted">
          You are {role === "admin" ? "an" : "a"} <RoleBadge role={role} /> of this organization
        </p>
      </div>
      <dl className="facts">
        <div>
          <dt>Organization id</dt>
          <dd>
            <code>{organization.id}</code>
          </dd>
        </div>
        {organization.slug ? (
          <div>
            <dt>Slug</dt>
            <dd>{organization.slug}</dd>
          </div>
        ) : null}
        <div>
          <dt>Created</dt>
          <dd>{formatDate(organization.created_at)}</dd>
        </div>
        <div>
          <dt>Signed in as</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
        </div>
      </dl>
    </section>
  );
}

function UsageSection({
  period,
  onPeriodChange,
}: {
  period: string | undefined;
  onPeriodChange: (period: string | undefined) => void;
}) {
  const usage = useUsage(period);
  const selectId = useId();
  const periods = recentPeriods(12);
  const report = usage.data;

  let body;
  if (usage.isPending) {
    body = <LoadingState label="Loading usage…" />;
  } else if (!report) {
    body = <ErrorState error={usage.error} title="Could not load usage" onRetry={() => void usage.refetch()} />;
  } else if (report.metrics.length === 0) {
    body = (
      <EmptyState title={`No usage recorded for ${formatPeriod(report.period)}.`}>
        Usage appears here as your team crawls sites and generates content.
      </EmptyState>
    );
  } else {
    body = <UsageReportView report={report} refreshing={usage.isPlaceholderData} />;
  }

  return (
    <section className="section" aria-labelledby="usage-heading">
      <div className="section-header">
        <h2 id="usage-heading">
          Usage{report ? <span className="muted"> · {formatPeriod(report.period)}</span> : null}
        </h2>
        <div className="inline-field">
          <label htmlFor={selectId}>Period</label>
          <select
            id={selectId}
            value={period ?? ""}
            onChange={(e) => onPeriodChange(e.target.value || undefined)}
          >
            {periods.map((p, index) => (
              <option key={p} value={index === 0 ? "" : p}>
                {index === 0 ? `This month (${formatPeriod(p)})` : formatPeriod(p)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {usage.isError && report ? (
        <ErrorState error={usage.error} title="Could not refresh usage" onRetry={() => void usage.refetch()} />
      ) : null}
      {body}
    </section>
  );
}

function UsageReportView({ report, refreshing }: { report: UsageReport; refreshing: boolean }) {
  const warnings = new Map(usageWarnings(report).map((w) => [w.metric, w]));
  return (
    <div aria-busy={refreshing} className={refreshing ? "refreshing" : undefined}>
      <ul className="meter-grid" aria-label="Usage meters">
        {report.metrics.map((metric) => (
          <UsageMeter key={metric.metric} metric={metric} warning={warnings.get(metric.metric)} />
        ))}
      </ul>
      <ActivityChart report={report} />
    </div>
  );
}
