import { fireEvent, screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import type { ContentItem } from "../../api/types";
import { contentDetail, contentItem, fakeApi, problem } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { parseNewContent } from "./AddContentForm";
import { LibraryPage } from "./LibraryPage";

const never = <T,>() => new Promise<T>(() => {});
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
    renderLibrary(fakeApi({ listContents: never }));
    expect(screen.getByText("Loading the library…")).toBeTruthy();
  });

  it("says when the library is empty", async () => {
    renderLibrary(fakeApi({ listContents: async () => page([]) }));
    expect(await screen.findByText("The library is empty.")).toBeTruthy();
  });

  it("lists items with title, source, words and links to each", async () => {
    renderLibrary(
      fakeApi({
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
    renderLibrary(fakeApi({ listContents }));
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
    renderLibrary(fakeApi({ listContents }), "/library?q=zzz");
    fireEvent.click(await screen.findByRole("button", { name: "Clear search and filters" }));
    await vi.waitFor(() =>
      expect(listContents).toHaveBeenLastCalledWith(expect.objectContaining({ q: undefined }), expect.anything(), expect.anything()),
    );
  });

  it("shows the list's problem detail", async () => {
    renderLibrary(
      fakeApi({
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
    renderLibrary(fakeApi({ listContents }));
    fireEvent.click(await screen.findByRole("button", { name: "Load more" }));
    expect(await screen.findByText("Second")).toBeTruthy();
    expect(listContents).toHaveBeenLastCalledWith(expect.anything(), { limit: 50, cursor: "n1" }, expect.anything());
  });

  it("adds a text and opens it", async () => {
    const createContent = vi.fn(async (_content: unknown) => contentDetail({ id: "new1" }));
    renderLibrary(fakeApi({ listContents: async () => page([]), createContent }));
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
    renderLibrary(fakeApi({ listContents: async () => page([]), createContent }));
    fireEvent.click(await screen.findByRole("button", { name: "Add content" }));

    fireEvent.click(screen.getByLabelText("A web page"));
    fireEvent.change(screen.getByLabelText("Page address"), { target: { value: "https://acme.example/p" } });
    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));
    expect((await screen.findByRole("alert")).textContent).toContain("not available yet");
    expect(createContent.mock.calls[0]?.[0]).toEqual({ url: "https://acme.example/p" });

    fireEvent.click(screen.getByRole("button", { name: "Add to library" }));
    await vi.waitFor(() => expect(screen.getByRole("alert").textContent).toContain("the library holds 1000 items"));
    expect(screen.getByText(/Delete items you no longer need/)).toBeTruthy();
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
  it("finds passages and links each to its item; says when the search is by words only", async () => {
    const search = vi.fn(async () => ({
      mode: "full_text" as const,
      results: [
        {
          chunk_id: "k1",
          content_id: "ct1",
          title: "Refund policy",
          url: null,
          heading: "Policies",
          snippet: "Customers may return items within 30 days.",
          score: 0.03,
          vector_rank: null,
          similarity: null,
          text_rank: 1,
        },
      ],
    }));
    renderLibrary(fakeApi({ listContents: async () => page([]), search }));
    await screen.findByText("The library is empty.");

    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
    expect(screen.getByText("Type what you are looking for.")).toBeTruthy();
    expect(search).not.toHaveBeenCalled();

    fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "returns" } });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));

    const results = await screen.findByRole("list", { name: "Matching passages" });
    expect(results.textContent).toContain("within 30 days");
    expect(within(results).getByRole("link", { name: "Refund policy" }).getAttribute("href")).toBe("/library/ct1");
    expect(screen.getByText(/Matched by words only/)).toBeTruthy();
    expect(search).toHaveBeenCalledWith({ query: "returns" }, expect.anything());
  });

  it("shows the search's problem detail and an empty result", async () => {
    const search = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(problem({ status: 400, code: "invalid_query", detail: "query must be 1–1000 characters" })))
      .mockResolvedValueOnce({ mode: "hybrid", results: [] });
    renderLibrary(fakeApi({ listContents: async () => page([]), search }));
    await screen.findByText("The library is empty.");

    fireEvent.change(screen.getByLabelText("Find passages about"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Find passages" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("query must be 1–1000 characters");
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No passages match.")).toBeTruthy();
  });
});
