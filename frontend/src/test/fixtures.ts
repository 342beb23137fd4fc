// Builders for API payloads used across tests.

import type { VoiceForgeApi } from "../api/client";
import type {
  AuditEvent,
  CurrentOrganization,
  OrganizationMember,
  OrganizationMembersPage,
  Problem,
  UsageMetric,
  UsageReport,
} from "../api/types";

export function currentOrganization(overrides: Partial<CurrentOrganization> = {}): CurrentOrganization {
  return {
    organization: {
      id: "org_acme",
      name: "Acme Inc",
      slug: "acme",
      created_at: "2026-10-01T09:30:00Z",
      limits: { max_users: 5, max_content_items: 1000, max_crawls_per_month: 10 },
    },
    user: { id: "user_alice" },
    role: "admin",
    ...overrides,
  };
}

export function metric(overrides: Partial<UsageMetric> & Pick<UsageMetric, "metric">): UsageMetric {
  return { label: overrides.metric, used: 0, limit: null, percent: null, ...overrides };
}

export function usageReport(overrides: Partial<UsageReport> = {}): UsageReport {
  return {
    period: "2026-11",
    metrics: [
      metric({ metric: "users", label: "Users", used: 2, limit: 5, percent: 40 }),
      metric({ metric: "content_items", label: "Content items", used: 800, limit: 1000, percent: 80 }),
      metric({ metric: "crawls", label: "Crawls this month", used: 10, limit: 10, percent: 100 }),
      metric({ metric: "generations", label: "Generations", used: 42 }),
    ],
    warnings: [],
    daily: [],
    ...overrides,
  };
}

export function member(overrides: Partial<OrganizationMember> & Pick<OrganizationMember, "user_id">): OrganizationMember {
  return {
    email: `${overrides.user_id}@example.com`,
    name: null,
    role: "member",
    joined_at: "2026-10-02T10:00:00Z",
    over_limit: false,
    ...overrides,
  };
}

export function membersPage(overrides: Partial<OrganizationMembersPage> = {}): OrganizationMembersPage {
  return {
    items: [member({ user_id: "user_alice", name: "Alice Admin", role: "admin" })],
    next_cursor: null,
    seats: { used: 1, limit: 5 },
    ...overrides,
  };
}

export function problem(overrides: Partial<Problem> & Pick<Problem, "status" | "code">): Problem {
  return {
    type: `https://voiceforge.dev/problems/${overrides.code}`,
    title: "Error",
    detail: "Something failed.",
    ...overrides,
  };
}

export function problemResponse(body: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "Content-Type": "application/problem+json", ...headers },
  });
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A fake API whose unlisted methods fail loudly, so a test notices an unexpected call. */
export function fakeApi(overrides: Partial<VoiceForgeApi> = {}): VoiceForgeApi {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected API call: ${name}`));
  return {
    getHealth: unexpected("getHealth"),
    getCurrentOrganization: unexpected("getCurrentOrganization"),
    listOrganizationMembers: unexpected("listOrganizationMembers"),
    getUsage: unexpected("getUsage"),
    listAuditEvents: unexpected("listAuditEvents"),
    ...overrides,
  };
}

export function auditEvent(overrides: Partial<AuditEvent> & Pick<AuditEvent, "id">): AuditEvent {
  return {
    occurred_at: "2026-11-29T07:00:00Z",
    actor: "system: clerk webhook organizationMembership.created",
    system: true,
    action: "membership.created",
    target_type: "membership",
    target_id: "user_bob",
    request_id: "req_1",
    ip: null,
    details: { role: "member", over_limit: false },
    ...overrides,
  };
}
