// Builders for API payloads used across tests.

import type { VoiceForgeApi } from "../api/client";
import type {
  AuditEvent,
  ContentDetail,
  ContentItem,
  Crawl,
  CrawlPage,
  CurrentOrganization,
  Generation,
  OrganizationMember,
  OrganizationMembersPage,
  Problem,
  SearchIndexStatus,
  SearchResult,
  StoredStyleGuide,
  Template,
  UsageMetric,
  UsageReport,
  Voice,
  VoiceProfile,
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
    getSearchStatus: unexpected("getSearchStatus"),
    listTemplates: unexpected("listTemplates"),
    getTemplate: unexpected("getTemplate"),
    createTemplate: unexpected("createTemplate"),
    updateTemplate: unexpected("updateTemplate"),
    deleteTemplate: unexpected("deleteTemplate"),
    generate: unexpected("generate"),
    generateStream: unexpected("generateStream"),
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

export function searchResult(overrides: Partial<SearchResult> & Pick<SearchResult, "chunk_id">): SearchResult {
  return {
    content_id: "ct1",
    title: "Refund policy",
    url: null,
    heading: "Policies > Returns",
    position: 0,
    snippet: "Customers may return items within 30 days.",
    highlights: [[14, 20]],
    score: 0.0328,
    text_rank: 1,
    text_score: 11.2,
    vector_rank: null,
    similarity: null,
    link_density: 0,
    ...overrides,
  };
}

/** A finished index by default: every passage searchable by meaning. */
export function searchIndexStatus(overrides: Partial<SearchIndexStatus> = {}): SearchIndexStatus {
  return {
    mode: "hybrid",
    embeddings_enabled: true,
    passages: 120,
    embedded: 120,
    pending: 0,
    searchable_share: 1,
    passages_per_second: null,
    eta_seconds: null,
    ...overrides,
  };
}

export function template(overrides: Partial<Template> & Pick<Template, "id">): Template {
  return {
    name: "Marketing email",
    kind: "email",
    description: "An email to customers about one topic.",
    instructions: "Write a marketing email about {{topic}} to {{audience}}.",
    fields: [
      { name: "topic", label: "Topic", required: true, max_length: 300 },
      { name: "audience", label: "Audience", required: false, max_length: 2000 },
    ],
    target_length: null,
    tone: null,
    builtin: null,
    created_by: "user_alice",
    created_at: "2026-11-29T07:00:00Z",
    updated_at: "2026-11-29T07:00:00Z",
    ...overrides,
  };
}

export function generation(overrides: Partial<Generation> & Pick<Generation, "id">): Generation {
  return {
    template: { id: "t1", name: "Marketing email", kind: "email" },
    inputs: { topic: "pricing for teams" },
    output: "Subject: Teams\n\nOur plan costs $10 a month [1]. Returns are free [2].",
    citations: [
      { n: 1, content_id: "ct1", title: "Pricing", url: "https://acme.test/pricing" },
      { n: 2, content_id: "ct2", title: "Refund policy", url: null },
    ],
    sources: [
      { n: 1, content_id: "ct1", title: "Pricing", url: "https://acme.test/pricing", excerpt: "Plans start at $10." },
      { n: 2, content_id: "ct2", title: "Refund policy", url: null, excerpt: "Returns within 30 days." },
      { n: 3, content_id: "ct3", title: "About us", url: null, excerpt: "We are Acme." },
    ],
    voice: {
      score: 80,
      findings: [
        { kind: "banned_word", message: "\"synergy\" is banned by the style guide", start: 0, end: 7, text: "synergy", penalty: 15 },
        { kind: "preferred_term", message: "write \"members\" instead of \"customers\"", start: 8, end: 17, text: "customers", penalty: 5 },
      ],
    },
    provider: "extractive",
    model: "voiceforge-extractive",
    usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
    created_by: "user_alice",
    created_at: "2026-11-29T08:00:00Z",
    ...overrides,
  };
}

export function styleGuide(overrides: Partial<StoredStyleGuide> = {}): StoredStyleGuide {
  return {
    tone: [],
    preferred_terms: [],
    banned_words: [],
    do_examples: [],
    dont_examples: [],
    updated_by: null,
    updated_at: null,
    ...overrides,
  };
}

export function voiceProfile(overrides: Partial<VoiceProfile> = {}): VoiceProfile {
  return {
    items: 42,
    library_items: 42,
    words: 18250,
    sentences: 1012,
    sentence_length: {
      mean: 18.03,
      median: 17,
      stdev: 7.9,
      p10: 8,
      p90: 29,
      min: 2,
      max: 61,
      histogram: [
        { range: "1-7", count: 80 },
        { range: "8-14", count: 300 },
        { range: "15-21", count: 350 },
        { range: "22-28", count: 180 },
        { range: "29+", count: 102 },
      ],
    },
    readability: { flesch_reading_ease: 61.2, flesch_kincaid_grade: 8.9, words_per_sentence: 18.03, syllables_per_word: 1.46 },
    person: { we_per_1000_words: 21.4, i_per_1000_words: 0.5, you_per_1000_words: 30.1, voice: "first_person_plural", address: "direct" },
    contractions_per_1000_words: 12.3,
    exclamation_rate: 0.02,
    question_rate: 0.05,
    distinctive_terms: [{ term: "workspace", count: 88, items: 30 }],
    distinctive_phrases: [{ term: "brand voice", count: 21, items: 12 }],
    computed_at: "2026-11-29T07:30:00Z",
    ...overrides,
  };
}

export function voice(overrides: Partial<Voice> = {}): Voice {
  return { profile: voiceProfile(), guide: styleGuide(), ...overrides };
}
