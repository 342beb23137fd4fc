import { describe, expect, it, vi } from "vitest";
import { jsonResponse, problem, problemResponse, usageReport } from "../test/fixtures";
import { ApiError, buildUrl, createApiClient, mintDevToken, parseRetryAfter, ProblemCode, type TokenGetter } from "./client";

type Call = { url: string; init: RequestInit };

/** A fetch that answers from `responses` in order and records each request. */
function scriptedFetch(...responses: Array<Response | Error>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) throw new Error(`no scripted response for ${url}`);
    if (next instanceof Error) throw next;
    return next;
  });
  return { fetch, calls };
}

const authHeader = (call: Call | undefined) => new Headers(call?.init.headers).get("Authorization");

describe("ApiError from problem+json", () => {
  it("carries status, code, detail, title, type and request id from the body", async () => {
    const { fetch } = scriptedFetch(
      problemResponse(
        problem({
          status: 403,
          code: "seat_limit_reached",
          title: "Forbidden",
          detail: "Acme Inc has 5 of 5 seats in use.",
          request_id: "req_123",
        }),
      ),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });

    const error = await api.getCurrentOrganization().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(403);
    expect(apiError.code).toBe("seat_limit_reached");
    expect(apiError.detail).toBe("Acme Inc has 5 of 5 seats in use.");
    expect(apiError.title).toBe("Forbidden");
    expect(apiError.type).toBe("https://voiceforge.dev/problems/seat_limit_reached");
    expect(apiError.requestId).toBe("req_123");
    expect(apiError.message).toBe("Acme Inc has 5 of 5 seats in use.");
  });

  it("describes an error without a problem body by its status", async () => {
    const { fetch } = scriptedFetch(
      new Response("<html>Bad gateway</html>", {
        status: 502,
        statusText: "Bad Gateway",
        headers: { "Content-Type": "text/html", "X-Request-Id": "req_proxy" },
      }),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });

    const error = (await api.getUsage().catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("http_502");
    expect(error.title).toBe("Bad Gateway");
    expect(error.detail).toMatch(/unavailable \(HTTP 502\)/);
    expect(error.requestId).toBe("req_proxy");
  });

  it("turns a failed connection into a network_error with status 0", async () => {
    const { fetch } = scriptedFetch(new TypeError("Failed to fetch"));
    const api = createApiClient({ getToken: async () => "t", fetch });

    const error = (await api.getHealth().catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.detail).toMatch(/Could not reach/);
  });

  it("rejects a success response whose body is not JSON", async () => {
    const { fetch } = scriptedFetch(new Response("not json", { status: 200 }));
    const api = createApiClient({ getToken: async () => "t", fetch });

    const error = (await api.getUsage().catch((e: unknown) => e)) as ApiError;

    expect(error.code).toBe("invalid_response");
  });
});

describe("Authorization", () => {
  it("sends the token from getToken as a bearer token", async () => {
    const { fetch, calls } = scriptedFetch(jsonResponse(usageReport()));
    const getToken = vi.fn<TokenGetter>(async () => "tok_abc");
    const api = createApiClient({ getToken, fetch });

    const report = await api.getUsage("2026-10");

    expect(report.period).toBe("2026-11");
    expect(calls[0]?.url).toBe("/api/organizations/usage?period=2026-10");
    expect(authHeader(calls[0])).toBe("Bearer tok_abc");
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(getToken).toHaveBeenCalledWith(undefined);
  });

  it("sends no Authorization header when there is no token", async () => {
    const { fetch, calls } = scriptedFetch(jsonResponse(usageReport()));
    const api = createApiClient({ getToken: async () => null, fetch });

    await api.getUsage();

    expect(calls[0]?.url).toBe("/api/organizations/usage");
    expect(authHeader(calls[0])).toBeNull();
  });

  it("calls /api/health without asking for a token", async () => {
    const { fetch, calls } = scriptedFetch(jsonResponse({ status: "ok", database: "ok", version: "0.1.0" }));
    const getToken = vi.fn<TokenGetter>(async () => "tok");
    const api = createApiClient({ getToken, fetch });

    const health = await api.getHealth();

    expect(health.status).toBe("ok");
    expect(getToken).not.toHaveBeenCalled();
    expect(authHeader(calls[0])).toBeNull();
  });

  it("reads a degraded health report from its 503 answer", async () => {
    const { fetch } = scriptedFetch(
      jsonResponse({ status: "degraded", database: "unreachable", version: "0.1.0" }, 503),
      problemResponse(problem({ status: 503, code: "database_unavailable", detail: "Retry later." })),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });

    expect(await api.getHealth()).toEqual({ status: "degraded", database: "unreachable", version: "0.1.0" });
    await expect(api.getHealth()).rejects.toMatchObject({ status: 503, code: "database_unavailable" });
  });

  it("passes limit and cursor for paginated lists and omits a null cursor", async () => {
    const page = { items: [], next_cursor: null, seats: { used: 0, limit: 5 } };
    const { fetch, calls } = scriptedFetch(jsonResponse(page), jsonResponse(page));
    const api = createApiClient({ getToken: async () => "t", fetch });

    await api.listOrganizationMembers({ limit: 50, cursor: null });
    await api.listOrganizationMembers({ limit: 50, cursor: "abc/+=" });

    expect(calls[0]?.url).toBe("/api/organizations/users?limit=50");
    expect(calls[1]?.url).toBe("/api/organizations/users?limit=50&cursor=abc%2F%2B%3D");
  });

  it("sends the audit log's action and actor filters with the page, omitting empty ones", async () => {
    const page = { items: [], next_cursor: null };
    const { fetch, calls } = scriptedFetch(jsonResponse(page), jsonResponse(page));
    const api = createApiClient({ getToken: async () => "t", fetch });

    await api.listAuditEvents({ action: "membership.*", actor: "" }, { limit: 50 });
    await api.listAuditEvents({ actor: "system" }, { limit: 20, cursor: "c1" });

    expect(calls[0]?.url).toBe("/api/audit?action=membership.*&limit=50");
    expect(calls[1]?.url).toBe("/api/audit?actor=system&limit=20&cursor=c1");
  });
});

describe("crawl and library calls (contracts from the crawl and library branches)", () => {
  it("sends each call to its documented path, method and body", async () => {
    const { fetch, calls } = scriptedFetch(
      jsonResponse({ id: "c1" }, 202),
      jsonResponse({ id: "c1" }),
      jsonResponse({ items: [], next_cursor: null }),
      jsonResponse({ schedule: null }),
      jsonResponse({ items: [], next_cursor: null }),
      new Response(null, { status: 204 }),
      jsonResponse({ mode: "hybrid", searchable_share: 1, results: [] }),
      jsonResponse({ mode: "hybrid", embeddings_enabled: true, passages: 0, embedded: 0, pending: 0, searchable_share: 1, passages_per_second: null, eta_seconds: null }),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });

    await api.startCrawl({ url: "https://acme.example/", max_pages: 5 });
    await api.cancelCrawl("c/1");
    await api.listCrawlPages("c1", { limit: 50, cursor: "p2" });
    await api.putCrawlSchedule({ url: "https://acme.example/", frequency: "weekly" });
    await api.listContents({ q: "refund", source: "manual", sort: "oldest" }, { limit: 50 });
    expect(await api.deleteContent("ct1")).toBeUndefined();
    await api.search({ query: "returns", k: 5 });
    await api.getSearchStatus();

    const summary = calls.map((c) => [c.init.method, c.url, c.init.body ?? null]);
    expect(summary).toEqual([
      ["POST", "/api/crawls", JSON.stringify({ url: "https://acme.example/", max_pages: 5 })],
      ["POST", "/api/crawls/c%2F1/cancel", null],
      ["GET", "/api/crawls/c1/pages?limit=50&cursor=p2", null],
      ["PUT", "/api/crawls/schedule", JSON.stringify({ url: "https://acme.example/", frequency: "weekly" })],
      ["GET", "/api/contents?q=refund&source=manual&sort=oldest&limit=50", null],
      ["DELETE", "/api/contents/ct1", null],
      ["POST", "/api/search", JSON.stringify({ query: "returns", k: 5 })],
      ["GET", "/api/search/status", null],
    ]);
  });
});

describe("template, generation and voice calls", () => {
  it("sends each call to its documented path, method and body", async () => {
    const { fetch, calls } = scriptedFetch(
      jsonResponse({ items: [], next_cursor: null }),
      jsonResponse({ id: "t2" }, 201),
      jsonResponse({ id: "t1" }),
      new Response(null, { status: 204 }),
      jsonResponse({ id: "g1" }, 201),
      jsonResponse({ items: [], next_cursor: null }),
      jsonResponse({ id: "g1" }),
      jsonResponse({ profile: null, guide: {} }),
      jsonResponse({}),
      jsonResponse({ score: 100, findings: [] }),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });

    await api.listTemplates({ limit: 100, cursor: "c2" });
    await api.createTemplate({ copy_of: "t1" });
    await api.updateTemplate("t/1", { tone: null });
    expect(await api.deleteTemplate("t1")).toBeUndefined();
    await api.generate({ template_id: "t1", inputs: { topic: "pricing" } });
    await api.listGenerations({ limit: 20 });
    await api.getGeneration("g1");
    await api.getVoice();
    const guide = { tone: ["warm"], preferred_terms: [], banned_words: [], do_examples: [], dont_examples: [] };
    await api.putStyleGuide(guide);
    await api.checkVoice("Hello");

    const summary = calls.map((c) => [c.init.method, c.url, c.init.body ?? null]);
    expect(summary).toEqual([
      ["GET", "/api/templates?limit=100&cursor=c2", null],
      ["POST", "/api/templates", JSON.stringify({ copy_of: "t1" })],
      ["PATCH", "/api/templates/t%2F1", JSON.stringify({ tone: null })],
      ["DELETE", "/api/templates/t1", null],
      ["POST", "/api/generate", JSON.stringify({ template_id: "t1", inputs: { topic: "pricing" } })],
      ["GET", "/api/generations?limit=20", null],
      ["GET", "/api/generations/g1", null],
      ["GET", "/api/voice", null],
      ["PUT", "/api/voice/guide", JSON.stringify(guide)],
      ["POST", "/api/voice/check", JSON.stringify({ text: "Hello" })],
    ]);
  });
});

/** An event-stream response whose body arrives in `pieces`. */
function streamResponse(...pieces: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

describe("generateStream", () => {
  const stored = { id: "g1", output: "Costs $10 [1]." };
  const sources = [{ n: 1, content_id: "ct1", chunk_id: "ch1", title: "Pricing", url: null }];

  it("asks for the stream and reports sources, then each piece, then returns the stored draft", async () => {
    const { fetch, calls } = scriptedFetch(
      streamResponse(
        `event: sources\ndata: ${JSON.stringify(sources)}\n\n`,
        'event: delta\ndata: {"text":"Costs "}\n\nevent: delta\nda',
        'ta: {"text":"$10 [1]."}\n\n: keep-alive\n\n',
        `event: done\ndata: ${JSON.stringify(stored)}\n\n`,
      ),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });
    const seen: unknown[] = [];

    const result = await api.generateStream(
      { template_id: "t1", inputs: {} },
      { onSources: (s) => seen.push(["sources", s]), onDelta: (d) => seen.push(["delta", d]) },
    );

    expect(result).toEqual(stored);
    expect(seen).toEqual([["sources", sources], ["delta", "Costs "], ["delta", "$10 [1]."]]);
    expect(calls[0]?.init.body).toBe(JSON.stringify({ template_id: "t1", inputs: {}, stream: true }));
    expect(new Headers(calls[0]?.init.headers).get("Accept")).toBe("text/event-stream");
  });

  it("throws the problem of an error event as an ApiError", async () => {
    const problemBody = problem({ status: 503, code: "provider_unavailable", detail: "the model timed out" });
    const { fetch } = scriptedFetch(
      streamResponse('event: delta\ndata: {"text":"Hi"}\n\n', `event: error\ndata: ${JSON.stringify(problemBody)}\n\n`),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });
    const error = (await api.generateStream({ template_id: "t1", inputs: {} }, {}).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("provider_unavailable");
    expect(error.detail).toBe("the model timed out");
  });

  it("says the draft was interrupted when the stream ends without done", async () => {
    const { fetch } = scriptedFetch(streamResponse('event: delta\ndata: {"text":"Hi"}\n\n'));
    const api = createApiClient({ getToken: async () => "t", fetch });
    const error = (await api.generateStream({ template_id: "t1", inputs: {} }, {}).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe(ProblemCode.StreamEnded);
  });

  it("throws an error answered before the stream as an ordinary problem, with Retry-After", async () => {
    const { fetch } = scriptedFetch(
      problemResponse(problem({ status: 429, code: "rate_limited", detail: "too many generation requests" }), { "Retry-After": "12" }),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });
    const error = (await api.generateStream({ template_id: "t1", inputs: {} }, {}).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(12);
  });

  it("passes the abort signal to fetch, and an aborted request rejects with AbortError", async () => {
    const controller = new AbortController();
    const fetch = vi.fn((_url: string, init: RequestInit) => {
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    });
    const api = createApiClient({ getToken: async () => "t", fetch });
    const pending = api.generateStream({ template_id: "t1", inputs: {} }, {}, { signal: controller.signal });
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds or an HTTP date, and nothing else", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    const now = Date.parse("2026-11-29T08:00:00Z");
    expect(parseRetryAfter("Sun, 29 Nov 2026 08:00:30 GMT", now)).toBe(30);
  });

  it("is null on an error without the header", async () => {
    const { fetch } = scriptedFetch(problemResponse(problem({ status: 403, code: "crawl_limit_reached" })));
    const api = createApiClient({ getToken: async () => "t", fetch });
    const error = (await api.startCrawl({ url: "https://a.test" }).catch((e: unknown) => e)) as ApiError;
    expect(error.retryAfter).toBeNull();
  });
});

describe("401 handling", () => {
  it("asks for a fresh token once and retries the request", async () => {
    const { fetch, calls } = scriptedFetch(
      problemResponse(problem({ status: 401, code: "token_expired", detail: "Token expired." })),
      jsonResponse(usageReport()),
    );
    const getToken = vi.fn<TokenGetter>(async (options) => (options?.forceRefresh ? "fresh" : "stale"));
    const api = createApiClient({ getToken, fetch });

    const report = await api.getUsage();

    expect(report.metrics).toHaveLength(4);
    expect(getToken.mock.calls).toEqual([[undefined], [{ forceRefresh: true }]]);
    expect(calls.map(authHeader)).toEqual(["Bearer stale", "Bearer fresh"]);
  });

  it("gives up after one retry and surfaces the second 401", async () => {
    const { fetch } = scriptedFetch(
      problemResponse(problem({ status: 401, code: "invalid_token", detail: "First refusal." })),
      problemResponse(problem({ status: 401, code: "invalid_token", detail: "Signature does not verify." })),
    );
    const api = createApiClient({ getToken: async () => "t", fetch });

    const error = (await api.getCurrentOrganization().catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(401);
    expect(error.detail).toBe("Signature does not verify.");
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("does not retry other errors", async () => {
    const { fetch } = scriptedFetch(problemResponse(problem({ status: 403, code: "no_active_organization" })));
    const getToken = vi.fn<TokenGetter>(async () => "t");
    const api = createApiClient({ getToken, fetch });

    await expect(api.getCurrentOrganization()).rejects.toMatchObject({ code: "no_active_organization" });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(getToken).toHaveBeenCalledTimes(1);
  });
});

describe("mintDevToken", () => {
  it("posts the identity as JSON to /api/dev/token", async () => {
    const { fetch, calls } = scriptedFetch(
      jsonResponse({ token: "dev.jwt", expires_at: "2026-11-29T10:00:00Z" }),
    );

    const minted = await mintDevToken({ org: "org_acme", user: "user_alice", role: "admin", org_name: "Acme" }, { fetch });

    expect(minted.token).toBe("dev.jwt");
    expect(calls[0]?.url).toBe("/api/dev/token");
    expect(calls[0]?.init.method).toBe("POST");
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      org: "org_acme",
      user: "user_alice",
      role: "admin",
      org_name: "Acme",
    });
  });
});

describe("buildUrl", () => {
  it("skips empty parameters", () => {
    expect(buildUrl("/api", "/x", { a: 1, b: undefined, c: null, d: "" })).toBe("/api/x?a=1");
  });
});
