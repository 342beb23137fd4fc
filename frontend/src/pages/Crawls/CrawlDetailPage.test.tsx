import { fireEvent, screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import type { VoiceForgeApi } from "../../api/client";
import { useUsage } from "../../api/queries";
import { crawl, crawlPage, fakeApi, problem, usageReport } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { CrawlDetailPage } from "./CrawlDetailPage";

function renderDetail(api: VoiceForgeApi) {
  return renderWithApi(
    <Routes>
      <Route path="/crawls/:id" element={<CrawlDetailPage />} />
    </Routes>,
    { api, route: "/crawls/c1" },
  );
}

describe("CrawlDetailPage", () => {
  it("shows counts and each page's outcome and reason", async () => {
    const api = fakeApi({
      getCrawl: async () => crawl({ id: "c1", status: "completed", skipped_by_reason: { robots_disallowed: 3 } }),
      listCrawlPages: async () => ({
        items: [
          crawlPage({ id: "p1", url: "https://acme.example/", content_id: "ct1" }),
          crawlPage({ id: "p2", url: "https://acme.example/private", status: "skipped", reason: "robots_disallowed", http_status: null }),
          crawlPage({ id: "p3", url: "https://acme.example/gone", status: "failed", reason: "http_404", http_status: 404, attempts: 1 }),
        ],
        next_cursor: null,
      }),
    });
    renderDetail(api);

    const table = await screen.findByRole("table", { name: "Pages of this crawl and their outcomes" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows[0]?.textContent).toContain("New item");
    expect(within(rows[0]!).getByRole("link").getAttribute("href")).toBe("/library/ct1");
    expect(rows[1]?.textContent).toContain("robots_disallowed");
    expect(rows[2]?.textContent).toContain("http_404");
    expect(rows[2]?.textContent).toContain("404");
    expect(screen.getByRole("region", { name: "Crawl summary" }).textContent).toContain("skipped: robots_disallowed 3");
    expect(screen.queryByRole("button", { name: "Cancel crawl" })).toBeNull();
  });

  it("cancels a running crawl", async () => {
    let status: "running" | "cancelled" = "running";
    const cancelCrawl = vi.fn(async () => {
      status = "cancelled";
      return crawl({ id: "c1", status });
    });
    const api = fakeApi({
      getCrawl: async () => crawl({ id: "c1", status }),
      listCrawlPages: async () => ({ items: [], next_cursor: null }),
      cancelCrawl,
    });
    renderDetail(api);

    fireEvent.click(await screen.findByRole("button", { name: "Cancel crawl" }));
    await vi.waitFor(() => expect(cancelCrawl).toHaveBeenCalledWith("c1"));
    expect(await screen.findByText("Cancelled")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel crawl" })).toBeNull();
  });

  it("refreshes usage once the crawl it shows ends", async () => {
    let status: "running" | "cancelled" = "running";
    const getUsage = vi.fn(async () => usageReport());
    const api = fakeApi({
      getCrawl: async () => crawl({ id: "c1", status }),
      listCrawlPages: async () => ({ items: [], next_cursor: null }),
      cancelCrawl: async () => {
        status = "cancelled";
        return crawl({ id: "c1", status });
      },
      getUsage,
    });
    // The usage banner's stand-in.
    function UsageObserver() {
      useUsage();
      return null;
    }
    renderWithApi(
      <>
        <Routes>
          <Route path="/crawls/:id" element={<CrawlDetailPage />} />
        </Routes>
        <UsageObserver />
      </>,
      { api, route: "/crawls/c1" },
    );

    fireEvent.click(await screen.findByRole("button", { name: "Cancel crawl" }));
    await screen.findByText("Cancelled");
    await vi.waitFor(() => expect(getUsage).toHaveBeenCalledTimes(2));
  });

  it("shows the detail when cancelling a crawl that already ended", async () => {
    const api = fakeApi({
      getCrawl: async () => crawl({ id: "c1", status: "running" }),
      listCrawlPages: async () => ({ items: [], next_cursor: null }),
      cancelCrawl: async () => {
        throw new ApiError(problem({ status: 409, code: "crawl_finished", detail: "the crawl already ended" }));
      },
    });
    renderDetail(api);

    fireEvent.click(await screen.findByRole("button", { name: "Cancel crawl" }));
    expect((await screen.findByRole("alert")).textContent).toContain("the crawl already ended");
  });

  it("says an unknown or another organization's crawl does not exist, with no retry", async () => {
    const api = fakeApi({
      getCrawl: async () => {
        throw new ApiError(problem({ status: 404, code: "not_found", detail: "the crawl was not found" }));
      },
    });
    renderDetail(api);
    expect(await screen.findByText("No such crawl.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "See all crawls" }).getAttribute("href")).toBe("/crawls");
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel crawl" })).toBeNull();
  });

  it("offers a retry when the crawl could not be loaded", async () => {
    const api = fakeApi({
      getCrawl: async () => {
        throw new ApiError(problem({ status: 503, code: "database_unavailable", detail: "Try again soon." }));
      },
    });
    renderDetail(api);
    expect((await screen.findByRole("alert")).textContent).toContain("Try again soon.");
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });

  it("says when no pages are known yet", async () => {
    const api = fakeApi({
      getCrawl: async () => crawl({ id: "c1", status: "queued" }),
      listCrawlPages: async () => ({ items: [], next_cursor: null }),
    });
    renderDetail(api);
    expect(await screen.findByText("No pages yet.")).toBeTruthy();
  });
});
