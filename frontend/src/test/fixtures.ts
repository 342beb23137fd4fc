// Builders for API payloads used across tests.

import type { VoiceForgeApi } from "../api/client";
import type {
  AuditEvent,
  ContentDetail,
  ContentItem,
  Crawl,
  CrawlPage,
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
    startCrawl: unexpected("startCrawl"),
    listCrawls: unexpected("listCrawls"),
    getCrawl: unexpected("getCrawl"),
    listCrawlPages: unexpected("listCrawlPages"),
    cancelCrawl: unexpected("cancelCrawl"),
    getCrawlSchedule: unexpected("getCrawlSchedule"),
    putCrawlSchedule: unexpected("putCrawlSchedule"),
    listContents: unexpected("listContents"),
    getContent: unexpected("getContent"),
    createContent: unexpected("createContent"),
    deleteContent: unexpected("deleteContent"),
    search: unexpected("search"),
    listTemplates: unexpected("listTemplates"),
    getTemplate: unexpected("getTemplate"),
    createTemplate: unexpected("createTemplate"),
    updateTemplate: unexpected("updateTemplate"),
    deleteTemplate: unexpected("deleteTemplate"),
    generate: unexpected("generate"),
    listGenerations: unexpected("listGenerations"),
    getGeneration: unexpected("getGeneration"),
    getVoice: unexpected("getVoice"),
    putStyleGuide: unexpected("putStyleGuide"),
    checkVoice: unexpected("checkVoice"),
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

export function crawl(overrides: Partial<Crawl> & Pick<Crawl, "id">): Crawl {
  return {
    url: "https://acme.example/",
    status: "running",
    status_reason: null,
    options: {
      max_pages: 500,
      max_depth: 10,
      include_paths: [],
      exclude_paths: [],
      include_subdomains: false,
      use_sitemap: true,
    },
    pages: { discovered: 100, queued: 40, fetched: 60, stored: 50, updated: 0, unchanged: 0, duplicate: 2, skipped: 6, failed: 2 },
    pages_per_minute: 75,
    errors_by_kind: {},
    skipped_by_reason: {},
    scheduled: false,
    created_at: "2026-11-29T07:00:00Z",
    started_at: "2026-11-29T07:00:01Z",
    finished_at: null,
    ...overrides,
  };
}

export function crawlPage(overrides: Partial<CrawlPage> & Pick<CrawlPage, "id" | "url">): CrawlPage {
  return {
    depth: 0,
    status: "stored",
    reason: null,
    detail: null,
    http_status: 200,
    attempts: 1,
    content_id: null,
    fetched_at: "2026-11-29T07:00:02Z",
    created_at: "2026-11-29T07:00:01Z",
    ...overrides,
  };
}

export function contentItem(overrides: Partial<ContentItem> & Pick<ContentItem, "id">): ContentItem {
  return {
    source: "manual",
    crawl_id: null,
    url: null,
    title: "Refund policy",
    description: null,
    language: "en",
    word_count: 120,
    content_hash: "h",
    created_at: "2026-11-29T07:00:00Z",
    updated_at: "2026-11-29T07:00:00Z",
    ...overrides,
  };
}

export function contentDetail(overrides: Partial<ContentDetail> & Pick<ContentDetail, "id">): ContentDetail {
  return {
    ...contentItem(overrides),
    markdown: "# Refunds\n\nCustomers may return items within 30 days.",
    chunks: [
      { id: "ch1", position: 0, heading: "Refunds", text: "Customers may return items within 30 days.", token_count: 9, embedding_state: "embedded" },
    ],
    ...overrides,
  };
}
