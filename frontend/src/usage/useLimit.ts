import { isApiError } from "../api/client";
import { useCurrentOrganization, useOrganizationMembers, useUsage } from "../api/queries";
import { limitReachedAdvice, type LimitedMetric } from "./limits";
import { metricLevel } from "./warnings";

/** The refusal code of each limited action. */
const REFUSED: Record<LimitedMetric, string> = { crawls: "crawl_limit_reached", content_items: "content_limit_reached" };

/**
 * Whether the organization is at its limit for `metric` (from the usage report, or because the
 * API just refused `error` for it), and what this user can do about it.
 */
export function useLimit(metric: LimitedMetric, error: unknown) {
  const usage = useUsage();
  const organization = useCurrentOrganization();
  const members = useOrganizationMembers();
  const measured = usage.data?.metrics.find((m) => m.metric === metric);
  const atLimit = measured ? metricLevel(measured) === "limit_reached" : false;
  const refused = isApiError(error) && error.code === REFUSED[metric];
  const reached = atLimit || refused;
  const advice = reached
    ? limitReachedAdvice(metric, {
        limit: measured?.limit,
        period: usage.data?.period,
        admins: members.data?.pages.flatMap((p) => p.items).filter((m) => m.role === "admin") ?? [],
        me: organization.data ? { id: organization.data.user.id, role: organization.data.role } : undefined,
      })
    : null;
  return { reached, atLimit, advice };
}
