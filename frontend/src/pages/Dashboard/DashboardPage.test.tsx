import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import { currentOrganization, fakeApi, problem, usageReport } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { DashboardPage } from "./DashboardPage";

const never = <T,>() => new Promise<T>(() => {});

function meterCard(name: string): HTMLElement {
  return screen.getByRole("listitem", { name });
}

describe("DashboardPage", () => {
  it("shows loading states while the organization and usage load", () => {
    const api = fakeApi({ getCurrentOrganization: never, getUsage: never });
    renderWithApi(<DashboardPage />, { api });

    const statuses = screen.getAllByRole("status").map((el) => el.textContent);
    expect(statuses).toEqual(["Loading organization…", "Loading usage…"]);
    expect(screen.queryAllByRole("meter")).toHaveLength(0);
  });

  it("shows the API's problem detail when usage fails, and retries on request", async () => {
    const getUsage = vi
      .fn()
      .mockRejectedValueOnce(
        new ApiError(
          problem({ status: 503, code: "database_unavailable", detail: "Usage is temporarily unavailable.", request_id: "req_9" }),
        ),
      )
      .mockResolvedValueOnce(usageReport());
    const api = fakeApi({ getCurrentOrganization: async () => currentOrganization(), getUsage });
    renderWithApi(<DashboardPage />, { api });

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not load usage");
    expect(alert.textContent).toContain("Usage is temporarily unavailable.");
    expect(alert.textContent).toContain("req_9");

    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));

    expect(await screen.findAllByRole("meter")).toHaveLength(3);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(getUsage).toHaveBeenCalledTimes(2);
  });

  it("shows the organization error's detail", async () => {
    const api = fakeApi({
      getCurrentOrganization: async () => {
        throw new ApiError(problem({ status: 500, code: "internal", detail: "Internal error (request req_1)." }));
      },
      getUsage: async () => usageReport(),
    });
    renderWithApi(<DashboardPage />, { api });

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not load your organization");
    expect(alert.textContent).toContain("Internal error (request req_1).");
  });

  it("shows the organization, the role and a meter per metric with warnings at 80% and 100%", async () => {
    const api = fakeApi({
      getCurrentOrganization: async () => currentOrganization({ role: "member" }),
      getUsage: async () => usageReport(),
    });
    renderWithApi(<DashboardPage />, { api });

    const org = await screen.findByRole("region", { name: "Acme Inc" });
    expect(org.textContent).toContain("Member");
    expect(org.textContent).toContain("org_acme");

    await screen.findAllByRole("meter");
    const users = meterCard("Users");
    expect(users.textContent).toContain("2 of 5");
    expect(within(users).getByRole("meter").getAttribute("aria-valuenow")).toBe("40");
    expect(users.textContent).not.toMatch(/Nearing limit|Limit reached/);

    const content = meterCard("Content items");
    expect(within(content).getByRole("meter").getAttribute("aria-valuenow")).toBe("80");
    expect(content.textContent).toContain("Nearing limit");
    expect(content.textContent).toContain("80% of the limit used");

    const crawls = meterCard("Crawls this month");
    expect(within(crawls).getByRole("meter").getAttribute("aria-valuenow")).toBe("100");
    expect(crawls.textContent).toContain("Limit reached");

    const generations = meterCard("Generations");
    expect(generations.textContent).toContain("42");
    expect(generations.textContent).toContain("no limit");
    expect(within(generations).queryByRole("meter")).toBeNull();
  });

  it("shows an empty state when no usage is recorded", async () => {
    const api = fakeApi({
      getCurrentOrganization: async () => currentOrganization(),
      getUsage: async () => usageReport({ metrics: [], period: "2026-11" }),
    });
    renderWithApi(<DashboardPage />, { api });

    expect((await screen.findByText(/No usage recorded for/)).textContent).toMatch(/November 2026/);
    expect(screen.queryAllByRole("meter")).toHaveLength(0);
  });

  it("asks for the chosen period", async () => {
    const getUsage = vi.fn(async (period?: string) => usageReport({ period: period ?? "2026-11" }));
    const api = fakeApi({ getCurrentOrganization: async () => currentOrganization(), getUsage });
    renderWithApi(<DashboardPage />, { api });
    await screen.findAllByRole("meter");

    const select = screen.getByLabelText("Period") as HTMLSelectElement;
    const previous = select.options[1]?.value ?? "";
    fireEvent.change(select, { target: { value: previous } });

    await vi.waitFor(() => expect(getUsage).toHaveBeenLastCalledWith(previous, expect.anything()));
    expect(previous).toMatch(/^\d{4}-\d{2}$/);
    expect(getUsage.mock.calls[0]?.[0]).toBeUndefined();
  });

  it("draws the 30-day activity chart from the daily series, with a text alternative", async () => {
    const today = new Date();
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    const yesterday = new Date(today.getTime() - 86_400_000);
    const api = fakeApi({
      getCurrentOrganization: async () => currentOrganization(),
      getUsage: async () =>
        usageReport({
          period: iso(today).slice(0, 7),
          daily: [
            { date: iso(today), metric: "crawls", value: 3 },
            { date: iso(yesterday), metric: "crawls", value: 1 },
            { date: iso(today), metric: "api_calls", value: 12 },
          ],
        }),
    });
    renderWithApi(<DashboardPage />, { api });

    const chart = await screen.findByRole("img", { name: /API calls/i });
    expect(chart.textContent).toContain("12 in total");
    const table = screen.getByRole("table", { name: /per day/ });
    expect(within(table).getAllByRole("row")).toHaveLength(31);
    // Hidden by a wrapping box: a table ignores .sr-only's 1px size, and in Chromium this one
    // stretched the dashboard by some 800px of blank page.
    expect(table.classList.contains("sr-only")).toBe(false);
    expect(table.parentElement?.classList.contains("sr-only")).toBe(true);

    fireEvent.change(screen.getByLabelText("Metric"), { target: { value: "crawls" } });
    const crawls = await screen.findByRole("img", { name: /^Crawls, daily/ });
    expect(crawls.textContent).toContain("4 in total");
    expect(crawls.querySelectorAll("rect.activity-bar")).toHaveLength(2);
  });

  it("shows an empty activity state when there are no daily figures", async () => {
    const api = fakeApi({
      getCurrentOrganization: async () => currentOrganization(),
      getUsage: async () => usageReport({ daily: [] }),
    });
    renderWithApi(<DashboardPage />, { api });

    expect(await screen.findByText("No activity in these 30 days yet.")).toBeTruthy();
    expect(screen.queryByRole("img")).toBeNull();
  });
});
