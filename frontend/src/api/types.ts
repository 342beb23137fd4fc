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

// Crawls (documented in the crawl branch's docs/API.md; not served by this branch yet)
export interface CrawlOptions {
  /** 1–10,000 (default 500) */
  max_pages: number;
  /** 0–50 (default 10) */
  max_depth: number;
  include_paths: string[];
  exclude_paths: string[];
  include_subdomains: boolean;
  use_sitemap: boolean;
}

/** POST /api/crawls: only `url` is required. */
export interface StartCrawlRequest extends Partial<CrawlOptions> {
  url: string;
}

export type CrawlStatus = "queued" | "running" | "completed" | "failed" | "cancelled" | "content_limit_reached";

export interface CrawlPageCounts {
  discovered: number;
  queued: number;
  fetched: number;
  stored: number;
  updated: number;
  unchanged: number;
  duplicate: number;
  skipped: number;
  failed: number;
}

export interface Crawl {
  id: string;
  url: string;
  status: CrawlStatus;
  status_reason: string | null;
  options: CrawlOptions;
  pages: CrawlPageCounts;
  pages_per_minute: number | null;
  errors_by_kind: Record<string, number>;
  skipped_by_reason: Record<string, number>;
  scheduled: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export type CrawlPageStatus =
  | "queued"
  | "fetching"
  | "stored"
  | "updated"
  | "unchanged"
  | "duplicate"
  | "redirected"
  | "skipped"
  | "failed";

export interface CrawlPage {
  id: string;
  url: string;
  depth: number;
  status: CrawlPageStatus;
  /** e.g. `robots_disallowed`, `not_modified`, `http_404`, `timeout` */
  reason: string | null;
  /** e.g. a redirect's target */
  detail: string | null;
  http_status: number | null;
  attempts: number;
  content_id: string | null;
  fetched_at: string | null;
  created_at: string;
}

export type CrawlFrequency = "daily" | "weekly";

export interface CrawlSchedule {
  url: string;
  frequency: CrawlFrequency;
  enabled: boolean;
  next_run_at: string | null;
  last_run_at: string | null;
  last_crawl_id: string | null;
  last_skip_reason: string | null;
}

/** PUT /api/crawls/schedule (admins): the crawl body plus frequency and enabled. */
export interface CrawlScheduleRequest extends StartCrawlRequest {
  frequency: CrawlFrequency;
  enabled?: boolean;
}

// Content library (documented in the library branch's docs/API.md; not served by this branch yet)
export type ContentSource = "crawl" | "manual" | "import";

export interface ContentItem {
  id: string;
  source: ContentSource;
  crawl_id: string | null;
  url: string | null;
  title: string | null;
  description: string | null;
  language: string | null;
  word_count: number;
  content_hash: string;
  created_at: string;
  updated_at: string;
}

export interface Chunk {
  id: string;
  position: number;
  heading: string | null;
  text: string;
  token_count: number;
  embedding_state: "pending" | "embedded";
}

export interface ContentDetail extends ContentItem {
  markdown: string;
  chunks: Chunk[];
}

export interface ContentFilter {
  /** Title or URL contains (≤ 200 characters). */
  q?: string;
  source?: ContentSource;
  crawl_id?: string;
  sort?: "newest" | "oldest";
}

/** POST /api/contents: a manual text, or a URL fetched once. */
export type NewContent = { title: string; text: string; language?: string } | { url: string };

// POST /api/search
/** How a search matched: by words (BM25), by meaning (vectors), or both fused. */
export type SearchMode = "hybrid" | "full_text" | "vector";

export interface SearchRequest {
  /** 1–1000 characters */
  query: string;
  /** 1–50, default 10 */
  k?: number;
  content_ids?: string[];
  /** Passages of one page at most, 1–10 (default 2). */
  per_page?: number;
  /** Default hybrid; `vector` without an embedder answers 400 `vector_search_unavailable`. */
  mode?: SearchMode;
}

/** `[start, end)` offsets into a snippet, in UTF-16 code units (JavaScript string indexes). */
export type Highlight = [start: number, end: number];

export interface SearchResult {
  chunk_id: string;
  content_id: string;
  title: string | null;
  url: string | null;
  /** Heading path, e.g. "Policies > Returns". */
  heading: string | null;
  /** The passage's place in its item, from 0. */
  position: number;
  /** Plain text around the best-matching sentence; `…` where cut. */
  snippet: string;
  /** The matched words in `snippet`. */
  highlights: Highlight[];
  /** Fused score, higher is better. */
  score: number;
  /** BM25 rank and score; null when the words did not match. */
  text_rank: number | null;
  text_score: number | null;
  /** Vector rank and cosine similarity; null when not matched by meaning. */
  vector_rank: number | null;
  similarity: number | null;
  /** 0–1, share of the passage that is link text. */
  link_density: number;
}

export interface SearchResponse {
  /** `full_text` until the library has vectors, without an embedder, or when it failed. */
  mode: SearchMode;
  /** Share of the library's passages searchable by meaning, 0–1. */
  searchable_share: number;
  results: SearchResult[];
}

/** GET /api/search/status: how much of the library is searchable by meaning. */
export interface SearchIndexStatus {
  mode: "hybrid" | "full_text";
  /** False without an embedder: search is by words only and nothing is pending. */
  embeddings_enabled: boolean;
  /** Passages in the library, all searchable by words. */
  passages: number;
  /** Passages searchable by meaning. */
  embedded: number;
  /** Passages waiting for their vector. */
  pending: number;
  /** `embedded / passages`, 0–1 (1 for an empty library). */
  searchable_share: number;
  /** Recent embedding rate; null when nothing is pending or no embedding ran lately. */
  passages_per_second: number | null;
  /** Estimated seconds until every passage is embedded; null when unknown. */
  eta_seconds: number | null;
}

// Templates: GET/POST /api/templates, GET/PATCH/DELETE /api/templates/{id}
export type TemplateKind = "blog_post" | "email" | "social_post" | "ad" | "landing_page" | "custom";

/** A declared input of a template; `{{name}}` in the instructions refers to it. */
export interface TemplateField {
  /** A lowercase letter, then up to 39 of `a-z 0-9 _`. */
  name: string;
  /** ≤ 100 characters; the API defaults it to the name. */
  label: string;
  required: boolean;
  /** 1–10,000 (default 2,000). */
  max_length: number;
}

export interface Template {
  id: string;
  name: string;
  kind: TemplateKind;
  description: string;
  instructions: string;
  fields: TemplateField[];
  /** Words aimed at (10–5,000); null: the kind's default. */
  target_length: number | null;
  /** Overrides the style guide's tone for this template. */
  tone: string | null;
  /** The built-in this template was seeded from (`email`, …); null for the organization's own. */
  builtin: string | null;
  /** Clerk user id of the creator; null for built-ins. */
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** A field as sent: label, required and max_length take the API's defaults when left out. */
export type TemplateFieldInput = Pick<TemplateField, "name"> & Partial<Omit<TemplateField, "name">>;

/** POST /api/templates: a new template. */
export interface NewTemplate {
  name: string;
  kind: TemplateKind;
  description?: string;
  instructions: string;
  fields?: TemplateFieldInput[];
  target_length?: number | null;
  tone?: string | null;
}

/** POST /api/templates with `copy_of`: a copy, named "<name> (copy)" unless `name` is given. */
export interface TemplateCopy extends Partial<NewTemplate> {
  copy_of: string;
}

/** PATCH /api/templates/{id}: any subset; `null` clears `target_length` / `tone`. */
export type TemplatePatch = Partial<NewTemplate>;

// Voice: GET /api/voice, GET/PUT /api/voice/guide, POST /api/voice/check
export interface PreferredTerm {
  /** What not to write. */
  term: string;
  /** What to write instead. */
  replacement: string;
}

export interface StyleGuide {
  tone: string[];
  preferred_terms: PreferredTerm[];
  banned_words: string[];
  do_examples: string[];
  dont_examples: string[];
}

export interface StoredStyleGuide extends StyleGuide {
  /** Clerk user id of the admin who last changed it. */
  updated_by: string | null;
  /** null while the organization has none. */
  updated_at: string | null;
}

export interface VoiceTerm {
  term: string;
  count: number;
  /** Library items it occurs in. */
  items: number;
}

export interface VoiceProfile {
  /** Items the figures rest on (at most the 300 most recently changed). */
  items: number;
  library_items: number;
  words: number;
  sentences: number;
  sentence_length: {
    mean: number;
    median: number;
    stdev: number;
    p10: number;
    p90: number;
    min: number;
    max: number;
    histogram: { range: string; count: number }[];
  };
  readability: {
    flesch_reading_ease: number;
    flesch_kincaid_grade: number;
    words_per_sentence: number;
    syllables_per_word: number;
  };
  person: {
    we_per_1000_words: number;
    i_per_1000_words: number;
    you_per_1000_words: number;
    /** `first_person_plural`, `first_person_singular` or `third_person`. */
    voice: string;
    /** `direct` or `indirect`. */
    address: string;
  };
  contractions_per_1000_words: number;
  /** Share of sentences (0–1). */
  exclamation_rate: number;
  /** Share of sentences (0–1). */
  question_rate: number;
  distinctive_terms: VoiceTerm[];
  distinctive_phrases: VoiceTerm[];
  computed_at: string;
}

export interface Voice {
  /** null while the library is empty. */
  profile: VoiceProfile | null;
  guide: StoredStyleGuide;
}

export interface VoiceFinding {
  /** `banned_word`, `preferred_term`, `sentence_too_long`, `sentence_too_short`, `exclamations`. */
  kind: string;
  message: string;
  /** UTF-16 offsets into the text (JavaScript string indices). */
  start: number;
  end: number;
  text: string;
  penalty: number;
}

export interface VoiceCheck {
  /** 0–100 */
  score: number;
  findings: VoiceFinding[];
}

// Generation: POST /api/generate, GET /api/generations, GET /api/generations/{id}
export interface GenerateRequest {
  template_id: string;
  inputs: Record<string, string>;
  /** Passages to retrieve, 1–20 (default 6). */
  k?: number;
  /** Ground the draft only in these items. */
  content_ids?: string[];
}

export interface Citation {
  /** The `[n]` marker's number. */
  n: number;
  content_id: string;
  /** The cited passage, when the source was one (absent on drafts stored before passages were cited). */
  chunk_id?: string | null;
  title: string;
  url: string | null;
}

export interface GenerationSource extends Citation {
  /** The headings above the passage. */
  heading?: string | null;
  /** The passage given to the model (first 500 characters). */
  excerpt: string;
}

/** A source as the stream announces it before the draft (`event: sources`). */
export type StreamedSource = Omit<GenerationSource, "excerpt"> & { excerpt?: string };

export interface Generation {
  id: string;
  /** A snapshot; `id` is null once the template is deleted. */
  template: { id: string | null; name: string; kind: string };
  inputs: Record<string, string>;
  /** The draft, with `[n]` markers that each refer to `sources[n-1]`. */
  output: string;
  citations: Citation[];
  sources: GenerationSource[];
  voice: VoiceCheck;
  /** `openai`, `anthropic` or `extractive`. */
  provider: string;
  model: string;
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  created_by: string | null;
  created_at: string;
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
