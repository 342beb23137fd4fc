// The one typed client for the VoiceForge API. Components never call fetch: they go through
// this module (usually via the query hooks in ./queries.ts).

import type {
  AuditEventsPage,
  AuditFilter,
  ContentDetail,
  ContentFilter,
  ContentItem,
  Crawl,
  CrawlPage,
  CrawlSchedule,
  CrawlScheduleRequest,
  CurrentOrganization,
  DevToken,
  DevTokenRequest,
  GenerateRequest,
  Generation,
  Health,
  OrganizationMembersPage,
  NewContent,
  NewTemplate,
  Page,
  PageParams,
  Problem,
  SearchIndexStatus,
  SearchRequest,
  SearchResponse,
  StartCrawlRequest,
  StoredStyleGuide,
  StreamedSource,
  StyleGuide,
  Template,
  TemplateCopy,
  TemplatePatch,
  UsageReport,
  Voice,
  VoiceCheck,
} from "./types";
import { readEventStream } from "./sse";

export const API_BASE = "/api";

/** An API answer that was not a success, or a request that never got an answer (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  readonly requestId: string | undefined;
  /** Seconds to wait before asking again (`Retry-After` of a 429 or 503), when the API said. */
  readonly retryAfter: number | null;

  constructor(problem: Problem, { retryAfter = null }: { retryAfter?: number | null } = {}) {
    super(problem.detail || problem.title);
    this.name = "ApiError";
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    this.type = problem.type;
    this.requestId = problem.request_id;
    this.retryAfter = retryAfter;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** Problem codes the app reacts to specially. */
export const ProblemCode = {
  NoActiveOrganization: "no_active_organization",
  SeatLimitReached: "seat_limit_reached",
  NetworkError: "network_error",
  InvalidResponse: "invalid_response",
  RateLimited: "rate_limited",
  StreamEnded: "stream_ended",
} as const;

export interface TokenOptions {
  /** Ignore any cached token and obtain a new one (after the API answered 401). */
  forceRefresh?: boolean;
}

/** Supplies the bearer token for each call; null means "send no Authorization header". */
export type TokenGetter = (options?: TokenOptions) => Promise<string | null>;

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  getToken: TokenGetter;
  fetch?: FetchLike;
  baseUrl?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** What a streamed generation reports before it is done. */
export interface GenerateStreamHandlers {
  /** The passages the draft will cite, before any text. */
  onSources?: (sources: StreamedSource[]) => void;
  /** A piece of the draft as the model writes it (raw: markers not yet checked). */
  onDelta?: (text: string) => void;
}

/** What the rest of the app may ask of the API. Tests substitute their own implementation. */
export interface VoiceForgeApi {
  getHealth(options?: RequestOptions): Promise<Health>;
  getCurrentOrganization(options?: RequestOptions): Promise<CurrentOrganization>;
  listOrganizationMembers(page?: PageParams, options?: RequestOptions): Promise<OrganizationMembersPage>;
  /** `period` is `YYYY-MM`; omitted means the current month. */
  getUsage(period?: string, options?: RequestOptions): Promise<UsageReport>;
  /** Admins only (members get 403 `admin_required`); newest first. */
  listAuditEvents(filter?: AuditFilter, page?: PageParams, options?: RequestOptions): Promise<AuditEventsPage>;

  // Crawls: the crawl branch's contract, not yet served by this branch's API.
  /** 202 with the queued crawl; 403 `crawl_limit_reached`, 400 `invalid_url` / `ssrf_blocked`. */
  startCrawl(request: StartCrawlRequest, options?: RequestOptions): Promise<Crawl>;
  listCrawls(page?: PageParams, options?: RequestOptions): Promise<Page<Crawl>>;
  getCrawl(id: string, options?: RequestOptions): Promise<Crawl>;
  listCrawlPages(id: string, page?: PageParams, options?: RequestOptions): Promise<Page<CrawlPage>>;
  /** 409 `crawl_finished` if it had ended. */
  cancelCrawl(id: string, options?: RequestOptions): Promise<Crawl>;
  getCrawlSchedule(options?: RequestOptions): Promise<{ schedule: CrawlSchedule | null }>;
  /** Admins only. */
  putCrawlSchedule(request: CrawlScheduleRequest, options?: RequestOptions): Promise<{ schedule: CrawlSchedule }>;

  // Content library: the library branch's contract, not yet served by this branch's API.
  listContents(filter?: ContentFilter, page?: PageParams, options?: RequestOptions): Promise<Page<ContentItem>>;
  getContent(id: string, options?: RequestOptions): Promise<ContentDetail>;
  /** 201; 403 `content_limit_reached`, 409 `duplicate_content`, 400 `ssrf_blocked`/`not_html`, 502 `fetch_failed` for a URL that cannot be fetched. */
  createContent(content: NewContent, options?: RequestOptions): Promise<ContentDetail>;
  /** 204; admins or the member who added it. */
  deleteContent(id: string, options?: RequestOptions): Promise<void>;
  /** Passages best matching the query (BM25 and vectors fused), at most `per_page` of one page. */
  search(request: SearchRequest, options?: RequestOptions): Promise<SearchResponse>;
  /** How much of the library is searchable by meaning, and when the rest will be. */
  getSearchStatus(options?: RequestOptions): Promise<SearchIndexStatus>;

  // Templates
  /** Oldest first; the first listing seeds the organization's built-ins. */
  listTemplates(page?: PageParams, options?: RequestOptions): Promise<Page<Template>>;
  getTemplate(id: string, options?: RequestOptions): Promise<Template>;
  /** 201; any member. 400 `invalid_template` / `unknown_placeholder` / `invalid_placeholder`, 409 `template_name_taken`. */
  createTemplate(template: NewTemplate | TemplateCopy, options?: RequestOptions): Promise<Template>;
  /** The creator or an admin (else 403 `not_template_owner`). */
  updateTemplate(id: string, patch: TemplatePatch, options?: RequestOptions): Promise<Template>;
  /** 204; the creator or an admin (else 403 `not_template_owner`). */
  deleteTemplate(id: string, options?: RequestOptions): Promise<void>;

  // Generation
  /** 201 with the stored draft; 409 `library_empty`, 400 `missing_input` / `unknown_input` / `input_too_long`. */
  generate(request: GenerateRequest, options?: RequestOptions): Promise<Generation>;
  /**
   * The same, streamed: sources, then the text as it is written, then the stored draft. Errors
   * before drafting are ordinary problem responses; one while drafting is an `error` event.
   * Abort with `options.signal`.
   */
  generateStream(request: GenerateRequest, handlers: GenerateStreamHandlers, options?: RequestOptions): Promise<Generation>;
  /** Newest first. */
  listGenerations(page?: PageParams, options?: RequestOptions): Promise<Page<Generation>>;
  getGeneration(id: string, options?: RequestOptions): Promise<Generation>;

  // Voice
  /** The measured profile (null while the library is empty) and the style guide. */
  getVoice(options?: RequestOptions): Promise<Voice>;
  /** Admins only (else 403 `admin_required`); replaces the guide. 400 `invalid_guide` names the entry. */
  putStyleGuide(guide: StyleGuide, options?: RequestOptions): Promise<StoredStyleGuide>;
  /** Scores a text against the style guide and the measured voice. */
  checkVoice(text: string, options?: RequestOptions): Promise<VoiceCheck>;
}

type Query = Record<string, string | number | null | undefined>;

interface CallOptions extends RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  accept?: string;
  /** Send the bearer token (and retry once with a fresh one on 401). */
  auth?: boolean;
  /** Error statuses whose body is still the expected JSON (health answers 503 when degraded). */
  bodyOnStatus?: number[];
}

const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

export function createApiClient(options: ApiClientOptions): VoiceForgeApi {
  const fetchImpl = options.fetch ?? defaultFetch;
  const baseUrl = options.baseUrl ?? API_BASE;

  /** Sends the request with the bearer token; after a 401, once more with a fresh token. */
  async function request(path: string, callOptions: CallOptions): Promise<Response> {
    const { method = "GET", query, body, signal, auth = true, accept = "application/json" } = callOptions;
    const url = buildUrl(baseUrl, path, query);

    const attempt = async (forceRefresh: boolean): Promise<Response> => {
      const headers = new Headers({ Accept: accept });
      if (body !== undefined) headers.set("Content-Type", "application/json");
      if (auth) {
        const token = await options.getToken(forceRefresh ? { forceRefresh: true } : undefined);
        if (token) headers.set("Authorization", `Bearer ${token}`);
      }
      return send(fetchImpl, url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    };

    let response = await attempt(false);
    if (auth && response.status === 401) {
      // The token may have expired between minting and use: get a fresh one, retry once.
      await discardBody(response);
      response = await attempt(true);
    }
    return response;
  }

  async function call<T>(path: string, callOptions: CallOptions = {}): Promise<T> {
    const { bodyOnStatus = [] } = callOptions;
    const response = await request(path, callOptions);
    if (bodyOnStatus.includes(response.status) && isJson(response) && !isProblem(response)) {
      return readJson<T>(new Response(response.body, { status: 200, headers: response.headers }));
    }
    return readJson<T>(response);
  }

  return {
    getHealth: (o) => call<Health>("/health", { ...o, auth: false, bodyOnStatus: [503] }),
    getCurrentOrganization: (o) => call<CurrentOrganization>("/organizations/current", o),
    listOrganizationMembers: (page = {}, o) =>
      call<OrganizationMembersPage>("/organizations/users", {
        ...o,
        query: { limit: page.limit, cursor: page.cursor },
      }),
    getUsage: (period, o) => call<UsageReport>("/organizations/usage", { ...o, query: { period } }),
    listAuditEvents: (filter = {}, page = {}, o) =>
      call<AuditEventsPage>("/audit", {
        ...o,
        query: { action: filter.action, actor: filter.actor, limit: page.limit, cursor: page.cursor },
      }),
    startCrawl: (request, o) => call<Crawl>("/crawls", { ...o, method: "POST", body: request }),
    listCrawls: (page = {}, o) =>
      call<Page<Crawl>>("/crawls", { ...o, query: { limit: page.limit, cursor: page.cursor } }),
    getCrawl: (id, o) => call<Crawl>(`/crawls/${encodeURIComponent(id)}`, o),
    listCrawlPages: (id, page = {}, o) =>
      call<Page<CrawlPage>>(`/crawls/${encodeURIComponent(id)}/pages`, {
        ...o,
        query: { limit: page.limit, cursor: page.cursor },
      }),
    cancelCrawl: (id, o) => call<Crawl>(`/crawls/${encodeURIComponent(id)}/cancel`, { ...o, method: "POST" }),
    getCrawlSchedule: (o) => call<{ schedule: CrawlSchedule | null }>("/crawls/schedule", o),
    putCrawlSchedule: (request, o) =>
      call<{ schedule: CrawlSchedule }>("/crawls/schedule", { ...o, method: "PUT", body: request }),
    listContents: (filter = {}, page = {}, o) =>
      call<Page<ContentItem>>("/contents", {
        ...o,
        query: { ...filter, limit: page.limit, cursor: page.cursor },
      }),
    getContent: (id, o) => call<ContentDetail>(`/contents/${encodeURIComponent(id)}`, o),
    createContent: (content, o) => call<ContentDetail>("/contents", { ...o, method: "POST", body: content }),
    deleteContent: (id, o) => call<void>(`/contents/${encodeURIComponent(id)}`, { ...o, method: "DELETE" }),
    search: (request, o) => call<SearchResponse>("/search", { ...o, method: "POST", body: request }),
    getSearchStatus: (o) => call<SearchIndexStatus>("/search/status", o),
    listTemplates: (page = {}, o) =>
      call<Page<Template>>("/templates", { ...o, query: { limit: page.limit, cursor: page.cursor } }),
    getTemplate: (id, o) => call<Template>(`/templates/${encodeURIComponent(id)}`, o),
    createTemplate: (template, o) => call<Template>("/templates", { ...o, method: "POST", body: template }),
    updateTemplate: (id, patch, o) =>
      call<Template>(`/templates/${encodeURIComponent(id)}`, { ...o, method: "PATCH", body: patch }),
    deleteTemplate: (id, o) => call<void>(`/templates/${encodeURIComponent(id)}`, { ...o, method: "DELETE" }),
    generate: (body, o) => call<Generation>("/generate", { ...o, method: "POST", body }),
    generateStream: async (body, handlers, o) => {
      const response = await request("/generate", {
        ...o,
        method: "POST",
        body: { ...body, stream: true },
        accept: "text/event-stream",
      });
      if (!response.ok || !response.body || !/text\/event-stream/i.test(response.headers.get("content-type") ?? "")) {
        return readJson<Generation>(response);
      }
      return readGenerationStream(response.body, handlers);
    },
    listGenerations: (page = {}, o) =>
      call<Page<Generation>>("/generations", { ...o, query: { limit: page.limit, cursor: page.cursor } }),
    getGeneration: (id, o) => call<Generation>(`/generations/${encodeURIComponent(id)}`, o),
    getVoice: (o) => call<Voice>("/voice", o),
    putStyleGuide: (guide, o) => call<StoredStyleGuide>("/voice/guide", { ...o, method: "PUT", body: guide }),
    checkVoice: (text, o) => call<VoiceCheck>("/voice/check", { ...o, method: "POST", body: { text } }),
  };
}

/** Follows a generation's event stream to its stored draft, or to its error. */
export async function readGenerationStream(
  body: ReadableStream<Uint8Array>,
  handlers: GenerateStreamHandlers,
): Promise<Generation> {
  for await (const event of readEventStream(body)) {
    if (event.event === "sources") handlers.onSources?.(JSON.parse(event.data) as StreamedSource[]);
    else if (event.event === "delta") handlers.onDelta?.((JSON.parse(event.data) as { text: string }).text);
    else if (event.event === "done") return JSON.parse(event.data) as Generation;
    else if (event.event === "error") throw new ApiError(JSON.parse(event.data) as Problem);
  }
  throw new ApiError({
    type: "about:blank",
    title: "Draft interrupted",
    status: 0,
    code: ProblemCode.StreamEnded,
    detail: "The connection closed before the draft was finished. Try again.",
  });
}

/** `Retry-After` in seconds (a number, or an HTTP date from now); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** `POST /api/dev/token`: mint a Clerk-shaped token from the local server's dev issuer. */
export async function mintDevToken(
  request: DevTokenRequest,
  options: { fetch?: FetchLike; baseUrl?: string; signal?: AbortSignal } = {},
): Promise<DevToken> {
  const fetchImpl = options.fetch ?? defaultFetch;
  const response = await send(fetchImpl, buildUrl(options.baseUrl ?? API_BASE, "/dev/token"), {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(request),
    signal: options.signal,
  });
  return readJson<DevToken>(response);
}

export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return `${baseUrl}${path}${search ? `?${search}` : ""}`;
}

async function send(fetchImpl: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (error) {
    // Let cancellations (TanStack Query aborting a stale request) propagate untouched.
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError({
      type: "about:blank",
      title: "Network error",
      status: 0,
      code: ProblemCode.NetworkError,
      detail: "Could not reach the VoiceForge API. Check your connection and try again.",
    });
  }
}

async function readJson<T>(response: Response): Promise<T> {
  if (!response.ok) throw await problemFromResponse(response);
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiError({
      type: "about:blank",
      title: "Invalid response",
      status: response.status,
      code: ProblemCode.InvalidResponse,
      detail: "The API sent a response that is not valid JSON.",
      request_id: response.headers.get("x-request-id") ?? undefined,
    });
  }
}

/** Turn an error response into an ApiError, preferring the problem+json body's own words. */
export async function problemFromResponse(response: Response): Promise<ApiError> {
  const status = response.status;
  let body: Record<string, unknown> = {};
  if (isJson(response)) {
    try {
      const parsed: unknown = await response.json();
      if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
    } catch {
      // Fall through to the status-based description.
    }
  }
  const text = (key: string): string | undefined =>
    typeof body[key] === "string" && body[key] !== "" ? (body[key] as string) : undefined;
  const title = text("title") ?? (response.statusText || `HTTP ${status}`);
  return new ApiError(
    {
      type: text("type") ?? "about:blank",
      title,
      status: typeof body.status === "number" ? body.status : status,
      code: text("code") ?? `http_${status}`,
      detail: text("detail") ?? fallbackDetail(status, response.statusText),
      request_id: text("request_id") ?? response.headers.get("x-request-id") ?? undefined,
    },
    { retryAfter: parseRetryAfter(response.headers.get("retry-after")) },
  );
}

function fallbackDetail(status: number, statusText: string): string {
  if (status === 502 || status === 503 || status === 504) {
    return `The API server is unavailable (HTTP ${status}). Try again in a moment.`;
  }
  return `The API answered HTTP ${status}${statusText ? ` ${statusText}` : ""}.`;
}

function isJson(response: Response): boolean {
  return /\bjson\b/i.test(response.headers.get("content-type") ?? "");
}

function isProblem(response: Response): boolean {
  return /problem\+json/i.test(response.headers.get("content-type") ?? "");
}

async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to release.
  }
}
