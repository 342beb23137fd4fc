import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it } from "vitest";
import { ApiProvider } from "../api/ApiContext";
import { AuthContext } from "../auth/AuthContext";
import { currentOrganization, fakeApi, membersPage, usageReport } from "../test/fixtures";
import { testAuth } from "../test/render";
import { AppLayout } from "./AppLayout";
import { pageRoutes } from "./routes";

function renderApp(path: string, role: "admin" | "member" = "admin") {
  const api = fakeApi({
    getCurrentOrganization: async () => currentOrganization({ role }),
    getUsage: async () => usageReport(),
    listOrganizationMembers: async () => membersPage(),
  });
  const router = createMemoryRouter([{ element: <AppLayout />, children: pageRoutes }], { initialEntries: [path] });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <AuthContext.Provider value={testAuth({ accountControls: <button type="button">account</button> })}>
      <ApiProvider client={api}>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ApiProvider>
    </AuthContext.Provider>,
  );
}

describe("AppLayout", () => {
  it("shows navigation, account controls, the usage banner and the page", async () => {
    renderApp("/");

    const nav = screen.getByRole("navigation", { name: "Main" });
    await within(nav).findByRole("link", { name: "Audit" });
    expect(within(nav).getAllByRole("link").map((a) => a.textContent)).toEqual(["Dashboard", "Crawls", "Library", "Templates", "Generate", "Voice", "Team", "Audit"]);
    expect(within(nav).getByRole("link", { name: "Dashboard" }).getAttribute("aria-current")).toBe("page");
    expect(screen.getByRole("button", { name: "account" })).toBeTruthy();
    expect(await screen.findByRole("heading", { level: 1, name: "Dashboard" })).toBeTruthy();
    expect((await screen.findByRole("region", { name: "Usage warnings" })).textContent).toContain("Limit reached");
  });

  it("hides the admins-only audit entry from members", async () => {
    renderApp("/", "member");
    await screen.findByRole("heading", { level: 1, name: "Dashboard" });

    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((a) => a.textContent)).toEqual(["Dashboard", "Crawls", "Library", "Templates", "Generate", "Voice", "Team"]);
  });

  it("navigates to the team page, keeping the banner", async () => {
    renderApp("/");
    await screen.findByRole("heading", { level: 1, name: "Dashboard" });

    fireEvent.click(screen.getByRole("link", { name: "Team" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Team" })).toBeTruthy();
    expect(await screen.findByRole("region", { name: "Usage warnings" })).toBeTruthy();
    expect(document.title).toBe("Team · VoiceForge");
  });

  it("answers unknown paths with a not-found page", async () => {
    renderApp("/nowhere");
    expect(await screen.findByRole("heading", { level: 1, name: "Page not found" })).toBeTruthy();
  });
});
