import { fireEvent, screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type VoiceForgeApi } from "../../api/client";
import { SEARCH_STATUS_POLL_MS } from "../../api/queries";
import type { ContentItem } from "../../api/types";
import {
  contentDetail,
  contentItem,
  currentOrganization,
  fakeApi,
  member,
  membersPage,
  metric,
  problem,
  searchIndexStatus,
  searchResult,
  usageReport,
} from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { parseNewContent } from "./AddContentForm";
import { LibraryPage } from "./LibraryPage";

const never = <T,>() => new Promise<T>(() => {});

/** The page's API: its search index is complete unless a test says otherwise. */
const libraryApi = (overrides: Partial<VoiceForgeApi> = {}) =>
  fakeApi({ getSearchStatus: async () => searchIndexStatus(), ...overrides });
const page = (items: ContentItem[], next_cursor: string | null = null) => ({ items, next_cursor });

function renderLibrary(api: Parameters<typeof renderWithApi>[1]["api"], route = "/library") {
  return renderWithApi(
    <Routes>
      <Route path="/library" element={<LibraryPage />} />
      <Route path="/library/:id" element={<p>detail page</p>} />
    </Routes>,
    { api, route },
  );
}

describe("LibraryPage", () => {
  it("shows loading, then the empty library", async () => {
    renderLibrary(libraryApi({ listContents: never }));
    expect(screen.getByText("Loading the library…")).toBeTruthy();
  });

  it("says when the library is empty", async () => {
    renderLibrary(libraryApi({ listContents: async () => page([]) }));
    expect(await screen.findByText("The library is empty.")).toBeTruthy();
  });

  it("lists items with title, source, words and links to each", async () => {
    renderLibrary(
      libraryApi({
        listContents: async () =>
          page([
            contentItem({ id: "a", title: "Refund policy", word_count: 1200 }),
            contentItem({ id: "b", title: "About us", source: "crawl", url: "https://acme.example/about" }),
          ]),
      }),
    );
    const table = await screen.findByRole("table", { name: "Library items" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows[0]?.textContent).toContain("Added by hand");
    expect(rows[0]?.textContent).toContain("1,200");
    expect(within(rows[1]!).getByRole("link", { name: "About us" }).getAttribute("href")).toBe("/library/b");
    expect(rows[1]?.textContent).toContain("https://acme.example/about");
  });

  it("searches and filters through the API and keeps them in the address", async () => {
    const listContents = vi.fn(async () => page([contentItem({ id: "a" })]));
    renderLibrary(libraryApi({ listContents }));
    await screen.findByRole("table");

    fireEvent.change(screen.getByLabelText("Search titles and addresses"), { target: { value: " refund " } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    await vi.waitFor(() =>
      expect(listContents).toHaveBeenLastCalledWith({ q: "refund", source: undefined, crawl_id: undefined, sort: undefined }, expect.anything(), expect.anything()),
    );

    fireEvent.change(screen.getByLabelText("Source"), { target: { value: "crawl" } });
    await vi.waitFor(() =>
      expect(listContents).toHaveBeenLastCalledWith(expect.objectContaining({ q: "refund", source: "crawl" }), expect.anything(), expect.anything()),
    );
    fireEvent.change(screen.getByLabelText("Order"), { target: { value: "oldest" } });
    await vi.waitFor(() =>
      expect(listContents).toHaveBeenLastCalledWith(
        expect.objectContaining({ q: "refund", source: "crawl", sort: "oldest" }),
        expect.anything(),
        expect.anything(),
      ),
    );
  });

  it("offers to clear filters when nothing matches", async () => {
    const listContents = vi.fn(async () => page([]));
    renderLibrary(libraryApi({ listContents }), "/library?q=zzz");
    fireEvent.click(await screen.findByRole("button", { name: "Clear search and filters" }));
    await vi.waitFor(() =>
      expect(listContents).toHaveBeenLastCalledWith(expect.objectContaining({ q: undefined }), expect.anything(), expect.anything()),
    );
  });

  it("shows the list's problem detail", async () => {
    renderLibrary(
      libraryApi({
        listContents: async () => {
          throw new ApiError(problem({ status: 400, code: "invalid_query", detail: "q is at most 200 characters" }));
        },
      }),
    );
    expect((await screen.findByRole("alert")).textContent).toContain("q is at most 200 characters");
  });

  it("loads more items", async () => {
    const listContents = vi
      .fn()
      .mockResolvedValueOnce(page([contentItem({ id: "a", title: "First" })], "n1"))
      .mockResolvedValueOnce(page([contentItem({ id: "b", title: "Second" })]));
    renderLibrary(libraryApi({ listContents }));
    fireEvent.click(await screen.findByRole("button", { name: "Load more" }));
    expect(await screen.findByText("Second")).toBeTruthy();
    expect(listContents).toHaveBeenLastCalledWith(expect.anything(), { limit: 50, cursor: "n1" }, expect.anything());
  });

  it("shows index progress above the library while passages are pending", async () => {
    renderLibrary(
      libraryApi({
        listContents: async () => page([contentItem({ id: "a" })]),
        getSearchStatus: async () => searchIndexStatus({ mode: "full_text", passages: 3, embedded: 1, pending: 2, searchable_share: 0.333 }),
      }),
    );
    const region = await screen.findByRole("region", { name: "Search index" });
    const table = await screen.findByRole("table", { name: "Library items" });
    expect(region.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(within(region).getByRole("progressbar").getAttribute("aria-valuetext")).toBe("1 of 3 passages (33%)");
  });

  it("lists the library again when the polled index counts new passages added elsewhere", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const listContents = vi
        .fn()
        .mockResolvedValueOnce(page([contentItem({ id: "a", title: "First" })]))
        .mockResolvedValue(page([contentItem({ id: "b", title: "Second" }), contentItem({ id: "a", title: "First" })]));
      const getSearchStatus = vi
        .fn()
        .mockResolvedValueOnce(searchIndexStatus({ passages: 3, embedded: 0, pending: 3, searchable_share: 0 }))
        .mockResolvedValue(searchIndexStatus({ passages: 5, embedded: 0, pending: 5, searchable_share: 0 }));
      renderLibrary(libraryApi({ listContents, getSearchStatus }));
      await screen.findByText("First");
      await screen.findByRole("progressbar");
      expect(listContents).toHaveBeenCalledTimes(1);

      await vi.advanceTimersByTimeAsync(SEARCH_STATUS_POLL_MS);
      expect(await screen.findByText("Second")).toBeTruthy();
      expect(listContents).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks for the index status again when an item is added", async () => {
    const getSearchStatus = vi.fn(async () => searchIndexStatus());
    const createContent = vi.fn(async (_content: unknown) => contentDetail({ id: "new1" }));
    renderLibrary(libraryApi({ listContents: async () => page([]), getSearchStatus, createContent }));
    await screen.findByText("The library is empty.");
    await vi.waitFor(() => expect(getSearchStatus).toHaveBeenCalledTimes(1));

    fireEvent.click(screen.getByRole("button", { name: "Add content" }));
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Tone notes" } });
    fireEvent.change(screen.getByLabelText("Text"), { target: { value: "Warm and plain." } });
    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));
    await screen.findByText("detail page");
    // The new item's passages wait for vectors: the bar must learn of them.
    await vi.waitFor(() => expect(getSearchStatus).toHaveBeenCalledTimes(2));
  });

  it("adds a text and opens it", async () => {
    const createContent = vi.fn(async (_content: unknown) => contentDetail({ id: "new1" }));
    renderLibrary(libraryApi({ listContents: async () => page([]), createContent }));
    fireEvent.click(await screen.findByRole("button", { name: "Add content" }));

    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));
    expect(screen.getByText("Give the item a title.")).toBeTruthy();
    expect(createContent).not.toHaveBeenCalled();

    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Tone notes" } });
    fireEvent.change(screen.getByLabelText("Text"), { target: { value: "# Tone\n\nWarm and plain." } });
    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));

    expect(await screen.findByText("detail page")).toBeTruthy();
    expect(createContent.mock.calls[0]?.[0]).toEqual({ title: "Tone notes", text: "# Tone\n\nWarm and plain." });
  });

  it("shows why adding failed: a URL not supported yet, or the content limit with advice", async () => {
    const createContent = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(problem({ status: 501, code: "not_implemented", detail: "adding an item by URL is not available yet" })))
      .mockRejectedValueOnce(new ApiError(problem({ status: 403, code: "content_limit_reached", detail: "the library holds 1000 items" })));
    renderLibrary(libraryApi({ listContents: async () => page([]), createContent }));
    fireEvent.click(await screen.findByRole("button", { name: "Add content" }));

    fireEvent.click(screen.getByLabelText("A web page"));
    fireEvent.change(screen.getByLabelText("Page address"), { target: { value: "https://acme.example/p" } });
    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));
    expect((await screen.findByRole("alert")).textContent).toContain("not available yet");
    expect(createContent.mock.calls[0]?.[0]).toEqual({ url: "https://acme.example/p" });

    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));
    await vi.waitFor(() => expect(screen.getByRole("alert").textContent).toContain("the library holds 1000 items"));
    expect(screen.getByText(/Delete items you no longer need/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Add to library" })).toHaveProperty("disabled", true);
  });

  it("at 100% of the content limit disables Add content and says what a member can do", async () => {
    renderLibrary(
      libraryApi({
        listContents: async () => page([]),
        getCurrentOrganization: async () => currentOrganization({ role: "member", user: { id: "user_milo" } }),
        getUsage: async () =>
          usageReport({ metrics: [metric({ metric: "content_items", label: "Content items", used: 1000, limit: 1000, percent: 100 })] }),
        listOrganizationMembers: async () => membersPage({ items: [member({ user_id: "user_gina", name: "Gina Ray", role: "admin" })] }),
      }),
    );
    const notice = await screen.findByText(/The library holds all 1,000 items it may hold/);
    expect(notice.textContent).toContain("Delete items you added and no longer need");
    await vi.waitFor(() => expect(notice.textContent).toContain("ask an admin of your organization (Gina Ray"));
    const button = screen.getByRole("button", { name: "Add content" });
    expect(button).toHaveProperty("disabled", true);
    expect(button.getAttribute("aria-describedby")).toBe("library-limit");
  });

  it("after a 429 counts down Retry-After before adding works again", async () => {
    const createContent = vi.fn(async () => {
      throw new ApiError(problem({ status: 429, code: "rate_limited", detail: "too many write requests" }), { retryAfter: 1 });
    });
    renderLibrary(libraryApi({ listContents: async () => page([]), createContent }));
    fireEvent.click(await screen.findByRole("button", { name: "Add content" }));
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Notes" } });
    fireEvent.change(screen.getByLabelText("Text"), { target: { value: "Plain words." } });
    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));

    expect(await screen.findByText(/You can try again in/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Add to library" })).toHaveProperty("disabled", true);
    await vi.waitFor(() => expect(screen.getByRole("button", { name: "Add to library" })).toHaveProperty("disabled", false), {
      timeout: 3_000,
    });
  });
});

describe("parseNewContent", () => {
  it("needs a title and text for a text, an http(s) address for a page", () => {
    expect(parseNewContent("text", { title: " ", text: "", url: "" })).toEqual({
      ok: false,
      errors: { title: "Give the item a title.", text: "Paste or write the text (Markdown is fine)." },
    });
    expect(parseNewContent("url", { title: "", text: "", url: "mailto:x@y" }).ok).toBe(false);
    expect(parseNewContent("url", { title: "", text: "", url: "https://a.example/" })).toEqual({
      ok: true,
      content: { url: "https://a.example/" },
    });
  });
});

describe("passage search", () => {
  it("finds passages, links each to its item and marks the matched words", async () => {
    const search = vi.fn(async () => ({
      mode: "hybrid" as const,
      searchable_share: 1,
      results: [
        searchResult({
          chunk_id: "k1",
          content_id: "ct1",
          title: "Refund policy",
          heading: "Policies > Returns",
          snippet: "Customers 😀 may return items within 30 days.",
          highlights: [[17, 23], [30, 36]],
          text_rank: 1,
          vector_rank: 2,
          similarity: 0.71,
        }),
      ],
    }));
    renderLibrary(libraryApi({ listContents: async () => page([]), search }));
    await screen.findByText("The library is empty.");

    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
    expect(screen.getByText("Type what you are looking for.")).toBeTruthy();
    expect(search).not.toHaveBeenCalled();

    fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "returns" } });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));

    const results = await screen.findByRole("list", { name: "Matching passages" });
    expect(results.textContent).toContain("Customers 😀 may return items within 30 days.");
    expect([...results.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["return", "within"]);
    expect(within(results).getByRole("link", { name: "Refund policy" }).getAttribute("href")).toBe("/library/ct1");
    expect(results.textContent).toContain("Policies › Returns");
    expect(results.textContent).toContain("found by words and meaning");
    expect(screen.queryByText(/Searching by/)).toBeNull();
    expect(search).toHaveBeenCalledWith({ query: "returns" }, expect.anything());
  });

  it("shows one card per page for its neighbouring passages, in the ranking's order", async () => {
    const search = vi.fn(async () => ({
      mode: "hybrid" as const,
      searchable_share: 1,
      results: [
        searchResult({ chunk_id: "k1", content_id: "a", title: "Refund policy", heading: "Returns", snippet: "First passage of A." }),
        searchResult({ chunk_id: "k2", content_id: "a", title: "Refund policy", heading: "Refunds", snippet: "Second passage of A." }),
        searchResult({ chunk_id: "k3", content_id: "b", title: null, url: "https://acme.example/faq", heading: null, snippet: "Only passage of B." }),
        searchResult({ chunk_id: "k4", content_id: "c", title: "Shipping", url: "https://acme.example/ship", snippet: "Passage of C." }),
        searchResult({ chunk_id: "k5", content_id: "a", title: "Refund policy", snippet: "A again, ranked lower." }),
      ],
    }));
    renderLibrary(libraryApi({ listContents: async () => page([]), search }));
    fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "refunds" } });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));

    const results = await screen.findByRole("list", { name: "Matching passages" });
    const cards = within(results).getAllByRole("listitem");
    expect(cards).toHaveLength(4);
    expect(within(cards[0]!).getAllByRole("link")).toHaveLength(1);
    expect(cards[0]!.textContent).toMatch(/Returns.*First passage of A\..*Refunds.*Second passage of A\./);
    expect(within(cards[1]!).getByRole("link", { name: "https://acme.example/faq" }).getAttribute("href")).toBe("/library/b");
    expect(cards[2]!.textContent).toContain("https://acme.example/ship");
    expect(within(cards[3]!).getByRole("link", { name: "Refund policy" }).getAttribute("href")).toBe("/library/a");
  });

  it("says honestly what the search matched by while the index fills, and without an embedder", async () => {
    const answer = (mode: "hybrid" | "full_text", searchable_share: number) => ({
      mode,
      searchable_share,
      results: [searchResult({ chunk_id: "k1" })],
    });
    const cases = [
      {
        status: searchIndexStatus({ mode: "full_text", embedded: 0, pending: 120, searchable_share: 0 }),
        response: answer("full_text", 0),
        note: "Searching by words only — 0% of the library is searchable by meaning so far.",
      },
      {
        status: searchIndexStatus({ mode: "hybrid", embedded: 46, pending: 74, searchable_share: 0.383 }),
        response: answer("full_text", 0.383),
        note: "Searching by words only — 38% of the library is searchable by meaning so far.",
      },
      {
        status: searchIndexStatus({ mode: "hybrid", embedded: 46, pending: 74, searchable_share: 0.383 }),
        response: answer("hybrid", 0.383),
        note: "Searching by words and meaning — 38% of the library is searchable by meaning so far.",
      },
      {
        status: searchIndexStatus({ mode: "full_text", embeddings_enabled: false, embedded: 0, searchable_share: 0 }),
        response: answer("full_text", 0),
        note: "Searching by words only: search by meaning is not set up here.",
      },
      {
        status: searchIndexStatus(),
        response: answer("full_text", 1),
        note: "Searching by words only: search by meaning is unavailable right now.",
      },
    ];
    for (const { status, response, note } of cases) {
      const { unmount } = renderLibrary(
        libraryApi({ listContents: async () => page([]), getSearchStatus: async () => status, search: async () => response }),
      );
      fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "returns" } });
      fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
      await screen.findByRole("list", { name: "Matching passages" });
      await vi.waitFor(() => expect(screen.getByText(/^Searching by/).textContent).toBe(note));
      unmount();
    }
  });

  it("searches again when the same question is asked again", async () => {
    const search = vi.fn(async () => ({ mode: "hybrid" as const, searchable_share: 1, results: [searchResult({ chunk_id: "k1" })] }));
    renderLibrary(libraryApi({ listContents: async () => page([]), search }));
    fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "returns" } });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
    await screen.findByRole("list", { name: "Matching passages" });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
    await vi.waitFor(() => expect(search).toHaveBeenCalledTimes(2));
  });

  it("refreshes an answer found by words alone once the index completes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const getSearchStatus = vi
        .fn()
        .mockResolvedValueOnce(searchIndexStatus({ mode: "full_text", passages: 4, embedded: 0, pending: 4, searchable_share: 0 }))
        .mockResolvedValue(searchIndexStatus({ passages: 4, embedded: 4 }));
      const search = vi
        .fn()
        .mockResolvedValueOnce({ mode: "full_text", searchable_share: 0, results: [searchResult({ chunk_id: "k1" })] })
        .mockResolvedValue({ mode: "hybrid", searchable_share: 1, results: [searchResult({ chunk_id: "k1", vector_rank: 1, similarity: 0.6 })] });
      renderLibrary(libraryApi({ listContents: async () => page([]), getSearchStatus, search }));
      await screen.findByRole("progressbar");
      fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "returns" } });
      fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
      await screen.findByText("Searching by words only — 0% of the library is searchable by meaning so far.");

      await vi.advanceTimersByTimeAsync(SEARCH_STATUS_POLL_MS);
      await screen.findByText(/Search index complete/);
      await screen.findByText("found by words and meaning");
      expect(screen.queryByText(/Searching by words only/)).toBeNull();
      expect(search).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows the search's problem detail and an empty result", async () => {
    const search = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(problem({ status: 400, code: "invalid_query", detail: "query must be 1–1000 characters" })))
      .mockResolvedValueOnce({ mode: "hybrid", searchable_share: 1, results: [] });
    renderLibrary(libraryApi({ listContents: async () => page([]), search }));
    await screen.findByText("The library is empty.");

    fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("query must be 1–1000 characters");
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No passages match.")).toBeTruthy();
  });
});
