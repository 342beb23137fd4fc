import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { fakeApi, metric, usageReport } from "../test/fixtures";
import { renderWithApi } from "../test/render";
import { UsageBanner } from "./UsageBanner";

describe("UsageBanner", () => {
  it("lists every metric at or over 80% and links to the dashboard from other pages", async () => {
    renderWithApi(<UsageBanner />, { api: fakeApi({ getUsage: async () => usageReport() }), route: "/team" });

    const banner = await screen.findByRole("region", { name: "Usage warnings" });
    const items = screen.getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual([
      "Limit reached Crawls this month: limit reached (10 of 10 used).",
      "Nearing limit Content items: 80% of the limit used (800 of 1,000).",
    ]);
    expect(banner.className).toContain("usage-banner-limit_reached");
    expect(screen.getByRole("link", { name: "View usage" }).getAttribute("href")).toBe("/");
  });

  it("renders nothing while usage is under 80%", async () => {
    let resolved = false;
    const api = fakeApi({
      getUsage: async () => {
        resolved = true;
        return usageReport({ metrics: [metric({ metric: "users", label: "Users", used: 1, limit: 5 })] });
      },
    });
    const { container } = renderWithApi(<UsageBanner />, { api });

    await vi.waitFor(() => expect(resolved).toBe(true));
    expect(container.innerHTML).toBe("");
    expect(screen.queryByRole("region", { name: "Usage warnings" })).toBeNull();
  });
});
