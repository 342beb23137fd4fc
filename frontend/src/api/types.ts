// Wire types of the VoiceForge API (base path /api). Field names mirror the JSON exactly.

export type Role = "admin" | "member";

/** RFC 9457 problem details, as every API error is sent (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id?: string;
}

/** Every list endpoint pages with `?limit=N&cursor=C`. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageParams {
  limit?: number;
  cursor?: string | null;
}

// GET /api/health (no auth)
export interface Health {
  status: "ok" | "degraded";
  database: "ok" | "unreachable";
  version: string;
}

// GET /api/organizations/current
export interface OrganizationLimits {
  max_users: number;
  max_content_items: number;
  max_crawls_per_month: number;
}

export interface Organization {
  /** Clerk organization id (`org_…`). */
  id: string;
  name: string;
  slug: string | null;
  created_at: string;
  limits: OrganizationLimits;
}

export interface CurrentOrganization {
  organization: Organization;
  /** `id` is the Clerk user id (`user_…`). */
  user: { id: string };
  role: Role;
}

// GET /api/organizations/users
export interface OrganizationMember {
  user_id: string;
  email: string | null;
  name: string | null;
  role: Role;
  joined_at: string;
  /** True for members beyond the organization's seat limit. */
  over_limit: boolean;
}

export interface Seats {
  used: number;
  limit: number;
}

export interface OrganizationMembersPage extends Page<OrganizationMember> {
  seats: Seats;
}

// GET /api/organizations/usage[?period=YYYY-MM]
export type UsageMetricName =
  | "users"
  | "content_items"
  | "crawls"
  | "generations"
  | "tokens"
  | "input_tokens"
  | "output_tokens"
  | "embedding_tokens"
  | "pages_crawled"
  | "api_calls";

export interface UsageMetric {
  metric: UsageMetricName;
  label: string;
  used: number;
  /** null: the metric is measured but not limited. */
  limit: number | null;
  percent: number | null;
}

export type UsageWarningLevel = "warning" | "limit_reached";

export interface UsageWarning {
  metric: string;
  level: UsageWarningLevel;
  message: string;
}

export interface UsageDailyValue {
  /** YYYY-MM-DD */
  date: string;
  metric: string;
  value: number;
}

export interface UsageReport {
  /** YYYY-MM */
  period: string;
  metrics: UsageMetric[];
  warnings: UsageWarning[];
  daily: UsageDailyValue[];
}

// GET /api/audit (organization admins)
export interface AuditEvent {
  id: string;
  /** RFC 3339 */
  occurred_at: string;
  /** The Clerk user id, or a `system: …` label for webhooks, cron and operators. */
  actor: string;
  system: boolean;
  /** e.g. `membership.created`, `limits.updated`, `crawl.started` */
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export type AuditEventsPage = Page<AuditEvent>;

export interface AuditFilter {
  /** Exact (`crawl.started`) or a prefix (`membership.*`). */
  action?: string;
  /** A Clerk user id, or `system`. */
  actor?: string;
}

// POST /api/dev/token (local server only)
export interface DevTokenRequest {
  org: string;
  user: string;
  role: Role;
  org_name?: string;
}

export interface DevToken {
  token: string;
  /** RFC 3339 */
  expires_at: string;
}
