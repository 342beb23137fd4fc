import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import type { Role } from "../../api/types";
import { currentOrganization, fakeApi, member, membersPage, problem } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { TeamPage } from "./TeamPage";

const overLimitPage = membersPage({
  items: [
    member({ user_id: "user_alice", name: "Alice Admin", role: "admin" }),
    member({ user_id: "user_bob", name: "Bob", email: "bob@acme.test" }),
    member({ user_id: "user_zed", over_limit: true }),
  ],
  seats: { used: 6, limit: 5 },
});

function renderTeam(role: Role, listOrganizationMembers = vi.fn(async () => overLimitPage)) {
  const api = fakeApi({
    getCurrentOrganization: async () => currentOrganization({ role }),
    listOrganizationMembers,
  });
  renderWithApi(<TeamPage />, { api, route: "/team" });
  return listOrganizationMembers;
}

describe("TeamPage", () => {
  it("lists members with role and join date, and seats used of the limit", async () => {
    renderTeam("admin");

    const rows = await screen.findAllByRole("row");
    expect(rows).toHaveLength(4); // header + 3 members
    expect(rows[1]?.textContent).toContain("Alice Admin");
    expect(rows[1]?.textContent).toContain("You");
    expect(rows[1]?.textContent).toContain("Admin");
    expect(rows[2]?.textContent).toContain("bob@acme.test");
    expect(within(rows[2]!).getByText(/2026/).tagName).toBe("TIME");

    const seats = screen.getByRole("region", { name: "Seats" });
    expect(seats.textContent).toContain("6 of 5 seats used");
    expect(within(seats).getByRole("meter").getAttribute("aria-valuenow")).toBe("100");
  });

  it("marks members over the seat limit for admins", async () => {
    renderTeam("admin");

    const zed = (await screen.findByText("user_zed@example.com")).closest("tr");
    expect(zed?.className).toBe("row-over-limit");
    expect(zed?.textContent).toContain("Over seat limit");
    expect(screen.getByRole("note").textContent).toContain("1 member is beyond the organization's seat limit of 5");
    expect(screen.getAllByText("Over seat limit")).toHaveLength(1);
  });

  it("does not mark them for members", async () => {
    renderTeam("member");

    await screen.findByText("user_zed@example.com");
    expect(screen.queryByText("Over seat limit")).toBeNull();
    expect(screen.queryByRole("note")).toBeNull();
  });

  it("loads further pages with the cursor", async () => {
    const list = vi
      .fn()
      .mockResolvedValueOnce(membersPage({ next_cursor: "c2" }))
      .mockResolvedValueOnce(membersPage({ items: [member({ user_id: "user_carol", name: "Carol" })] }));
    renderTeam("admin", list);

    fireEvent.click(await screen.findByRole("button", { name: "Load more members" }));

    expect(await screen.findByText("Carol")).toBeTruthy();
    expect(list.mock.calls.map((c) => c[0])).toEqual([
      { limit: 50, cursor: null },
      { limit: 50, cursor: "c2" },
    ]);
    expect(screen.queryByRole("button", { name: "Load more members" })).toBeNull();
  });

  it("shows an empty state when there are no members", async () => {
    renderTeam("admin", vi.fn(async () => membersPage({ items: [], seats: { used: 0, limit: 5 } })));
    expect(await screen.findByText("No members yet.")).toBeTruthy();
  });

  it("shows the problem detail when the list fails", async () => {
    renderTeam(
      "admin",
      vi.fn(async () => {
        throw new ApiError(problem({ status: 500, code: "internal", detail: "The member list is unavailable." }));
      }),
    );
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The member list is unavailable.");
  });
});
