import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import { useContents, useUsage } from "../../api/queries";
import type { Crawl, CrawlSchedule } from "../../api/types";
import { crawl, currentOrganization, fakeApi, problem, usageReport } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { CrawlsPage } from "./CrawlsPage";

const never = <T,>() => new Promise<T>(() => {});
const list = (items: Crawl[]) => async () => ({ items, next_cursor: null });
const noSchedule = async () => ({ schedule: null as CrawlSchedule | null });

function base(overrides: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    getCurrentOrganization: async () => currentOrganization({ role: "admin" }),
    listCrawls: list([]),
    getCrawlSchedule: noSchedule,
    ...overrides,
  });
}

describe("CrawlsPage", () => {
  it("shows loading, then an empty list", async () => {
    const api = base({ listCrawls: never });
    renderWithApi(<CrawlsPage />, { api });
    expect(screen.getByText("Loading crawls…")).toBeTruthy();

    const api2 = base();
    renderWithApi(<CrawlsPage />, { api: api2 });
    expect(await screen.findByText("No crawls yet.")).toBeTruthy();
  });

  it("lists crawls with status and a progress bar for running ones", async () => {
    const api = base({
      listCrawls: list([
        crawl({ id: "c1", url: "https://acme.example/", status: "running" }),
        crawl({ id: "c2", url: "https://old.example/", status: "completed" }),
      ]),
    });
    renderWithApi(<CrawlsPage />, { api });

    const running = await screen.findByRole("listitem", { name: "https://acme.example/" });
    expect(running.textContent).toContain("Running");
    const bar = within(running).getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("60");
    expect(bar.getAttribute("aria-valuetext")).toBe("60 of 100 pages");
    const done = screen.getByRole("listitem", { name: "https://old.example/" });
    expect(done.textContent).toContain("Completed");
    expect(within(done).queryByRole("progressbar")).toBeNull();
    expect(within(running).getByRole("link").getAttribute("href")).toBe("/crawls/c1");
  });

  it("says page, not pages, when one page is known", async () => {
    const one = crawl({ id: "c1", url: "https://acme.example/", status: "running" });
    const api = base({ listCrawls: list([{ ...one, pages: { ...one.pages, discovered: 1, queued: 1 } }]) });
    renderWithApi(<CrawlsPage />, { api });
    const bar = within(await screen.findByRole("listitem", { name: "https://acme.example/" })).getByRole("progressbar");
    expect(bar.getAttribute("aria-valuetext")).toBe("0 of 1 page");
  });

  it("polls while a crawl is running and stops once it ends", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const listCrawls = vi
        .fn()
        .mockResolvedValueOnce({ items: [crawl({ id: "c1", status: "running" })], next_cursor: null })
        .mockResolvedValue({ items: [crawl({ id: "c1", status: "completed" })], next_cursor: null });
      renderWithApi(<CrawlsPage />, { api: base({ listCrawls }) });
      await screen.findByText("Running");

      await vi.advanceTimersByTimeAsync(2_100);
      expect(await screen.findByText("Completed")).toBeTruthy();
      const calls = listCrawls.mock.calls.length;
      await vi.advanceTimersByTimeAsync(5_000);
      expect(listCrawls.mock.calls.length).toBe(calls);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refreshes the library and usage when a crawl it shows stores pages and ends", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const running = crawl({ id: "c1", status: "running" });
      const listCrawls = vi
        .fn()
        .mockResolvedValueOnce({ items: [running], next_cursor: null })
        .mockResolvedValueOnce({ items: [running], next_cursor: null })
        .mockResolvedValue({
          items: [crawl({ id: "c1", status: "completed", pages: { ...running.pages, stored: running.pages.stored + 5 } })],
          next_cursor: null,
        });
      const listContents = vi.fn(async () => ({ items: [], next_cursor: null }));
      const getUsage = vi.fn(async () => usageReport());
      // Stand-ins for the usage banner and a library list cached before the crawl ended.
      function Observers() {
        useUsage();
        useContents({});
        return null;
      }
      renderWithApi(
        <>
          <CrawlsPage />
          <Observers />
        </>,
        { api: base({ listCrawls, listContents, getUsage }) },
      );
      await screen.findByText("Running");
      await vi.waitFor(() => expect(getUsage).toHaveBeenCalledTimes(1));
      expect(listContents).toHaveBeenCalledTimes(1);

      // A poll that finds nothing new asks for nothing else.
      await vi.advanceTimersByTimeAsync(2_100);
      expect(listCrawls).toHaveBeenCalledTimes(2);
      expect(getUsage).toHaveBeenCalledTimes(1);
      expect(listContents).toHaveBeenCalledTimes(1);

      await vi.advanceTimersByTimeAsync(2_100);
      await screen.findByText("Completed");
      await vi.waitFor(() => expect(getUsage).toHaveBeenCalledTimes(2));
      expect(listContents).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("validates the form before asking the API, with messages tied to the fields", async () => {
    const startCrawl = vi.fn();
    renderWithApi(<CrawlsPage />, { api: base({ startCrawl }) });
    await screen.findByText("No crawls yet.");

    fireEvent.change(screen.getByLabelText("Site address"), { target: { value: "not a url" } });
    fireEvent.change(screen.getByLabelText("Maximum pages"), { target: { value: "0" } });
    fireEvent.click(screen.getByRole("button", { name: "Start crawl" }));

    const url = screen.getByLabelText("Site address");
    expect(url.getAttribute("aria-invalid")).toBe("true");
    expect(url.getAttribute("aria-describedby")).toContain("-error");
    expect(document.activeElement).toBe(url);
    expect(screen.getByText(/Enter a full http/)).toBeTruthy();
    expect(screen.getByText(/1 to 10,000/)).toBeTruthy();
    expect(startCrawl).not.toHaveBeenCalled();
  });

  it("starts a crawl with the options", async () => {
    const startCrawl = vi.fn(async (_request: unknown) => crawl({ id: "c9", status: "queued" }));
    renderWithApi(<CrawlsPage />, { api: base({ startCrawl }) });
    await screen.findByText("No crawls yet.");

    fireEvent.change(screen.getByLabelText("Site address"), { target: { value: "https://acme.example/" } });
    fireEvent.change(screen.getByLabelText("Skip paths"), { target: { value: "*.pdf" } });
    fireEvent.click(screen.getByLabelText("Use the sitemap"));
    fireEvent.click(screen.getByRole("button", { name: "Start crawl" }));

    await vi.waitFor(() => expect(startCrawl).toHaveBeenCalled());
    expect(startCrawl.mock.calls[0]?.[0]).toEqual({
      url: "https://acme.example/",
      max_pages: 500,
      max_depth: 10,
      include_paths: [],
      exclude_paths: ["*.pdf"],
      include_subdomains: false,
      use_sitemap: false,
    });
  });

  it("says which limit blocked a crawl and what to do", async () => {
    const startCrawl = vi.fn(async () => {
      throw new ApiError(
        problem({ status: 403, code: "crawl_limit_reached", detail: "this organization started all of its 10 crawls this month" }),
      );
    });
    renderWithApi(<CrawlsPage />, { api: base({ startCrawl }) });
    await screen.findByText("No crawls yet.");

    fireEvent.change(screen.getByLabelText("Site address"), { target: { value: "https://acme.example/" } });
    fireEvent.click(screen.getByRole("button", { name: "Start crawl" }));

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("all of its 10 crawls this month");
    expect(screen.getByText(/You can start crawls again when the month turns/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Start crawl" })).toHaveProperty("disabled", true);
    expect(document.body.textContent).not.toMatch(/operator/i);
  });

  it("at 100% of the crawl limit disables Start crawl, saying when crawls return and which admins to ask", async () => {
    const startCrawl = vi.fn();
    const api = base({
      getCurrentOrganization: async () => currentOrganization({ role: "member", user: { id: "user_milo" } }),
      getUsage: async () => usageReport(), // 10 of 10 crawls in 2026-11
      listOrganizationMembers: async () => ({
        items: [
          { user_id: "user_gina", name: "Gina Ray", email: "gina@acme.test", role: "admin" as const, joined_at: "2026-10-01T00:00:00Z", over_limit: false },
          { user_id: "user_milo", name: "Milo", email: null, role: "member" as const, joined_at: "2026-10-02T00:00:00Z", over_limit: false },
        ],
        next_cursor: null,
        seats: { used: 2, limit: 5 },
      }),
      startCrawl,
    });
    renderWithApi(<CrawlsPage />, { api });

    const notice = await screen.findByText(/has started all 10 of this month's crawls/);
    await vi.waitFor(() => expect(notice.textContent).toContain("Gina Ray (gina@acme.test)"));
    expect(notice.textContent).toContain("You can start crawls again on 1 December 2026");
    const button = screen.getByRole("button", { name: "Start crawl" });
    expect(button).toHaveProperty("disabled", true);
    expect(button.getAttribute("aria-describedby")).toBe(notice.id);
    fireEvent.submit(button.closest("form")!);
    expect(startCrawl).not.toHaveBeenCalled();
  });

  it("after a 429 counts down Retry-After before Start crawl works again", async () => {
    const startCrawl = vi.fn(async () => {
      throw new ApiError(problem({ status: 429, code: "rate_limited", detail: "too many crawl starts" }), { retryAfter: 1 });
    });
    renderWithApi(<CrawlsPage />, { api: base({ startCrawl }) });
    await screen.findByText("No crawls yet.");
    fireEvent.change(screen.getByLabelText("Site address"), { target: { value: "https://acme.example/" } });
    fireEvent.click(screen.getByRole("button", { name: "Start crawl" }));

    expect(await screen.findByText(/You can try again in/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Start crawl" })).toHaveProperty("disabled", true);
    await vi.waitFor(() => expect(screen.getByRole("button", { name: "Start crawl" })).toHaveProperty("disabled", false), {
      timeout: 3_000,
    });
    expect(screen.queryByText(/You can try again in/)).toBeNull();
  });

  it("shows the list's problem detail", async () => {
    const api = base({
      listCrawls: async () => {
        throw new ApiError(problem({ status: 503, code: "database_unavailable", detail: "Try again soon." }));
      },
    });
    renderWithApi(<CrawlsPage />, { api });
    expect((await screen.findByRole("alert")).textContent).toContain("Try again soon.");
  });

  it("lets admins save a schedule and shows it", async () => {
    const saved: CrawlSchedule = {
      url: "https://acme.example/",
      frequency: "daily",
      enabled: true,
      next_run_at: "2026-11-30T07:00:00Z",
      last_run_at: null,
      last_crawl_id: null,
      last_skip_reason: null,
    };
    const putCrawlSchedule = vi.fn(async (_request: unknown) => ({ schedule: saved }));
    renderWithApi(<CrawlsPage />, { api: base({ putCrawlSchedule }) });
    await screen.findByText(/No schedule/);

    fireEvent.change(screen.getByLabelText("Site to re-crawl"), { target: { value: "https://acme.example/" } });
    fireEvent.change(screen.getByLabelText("Frequency"), { target: { value: "daily" } });
    fireEvent.click(screen.getByRole("button", { name: "Save schedule" }));

    expect(await screen.findByText("Schedule saved.")).toBeTruthy();
    expect(putCrawlSchedule.mock.calls[0]?.[0]).toMatchObject({ url: "https://acme.example/", frequency: "daily", enabled: true });
    const section = screen.getByRole("region", { name: "Re-crawl schedule" });
    expect(section.textContent).toContain("day");
  });

  it("shows members the schedule without the editor", async () => {
    const api = base({ getCurrentOrganization: async () => currentOrganization({ role: "member" }) });
    renderWithApi(<CrawlsPage />, { api });
    expect(await screen.findByText("Only admins can change the schedule.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Save schedule" })).toBeNull();
  });
});
