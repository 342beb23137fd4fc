import { describe, expect, it } from "vitest";
import { adminLabel, limitReachedAdvice, monthTurn } from "./limits";

const gina = { user_id: "user_gina", name: "Gina Ray", email: "gina@acme.test" };
const omar = { user_id: "user_omar", name: null, email: "omar@acme.test" };

describe("monthTurn", () => {
  it("is the first day of the next month, across the year's end", () => {
    expect(monthTurn("2026-11")?.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(monthTurn("2026-12")?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(monthTurn("soon")).toBeNull();
  });
});

describe("adminLabel", () => {
  it("names an admin by name and email, whichever there is, or the user id", () => {
    expect(adminLabel(gina)).toBe("Gina Ray (gina@acme.test)");
    expect(adminLabel(omar)).toBe("omar@acme.test");
    expect(adminLabel({ user_id: "user_x", name: null, email: null })).toBe("user_x");
  });
});

describe("limitReachedAdvice", () => {
  it("tells a member when crawls come back and which admins to ask", () => {
    expect(
      limitReachedAdvice("crawls", { limit: 10, period: "2026-11", admins: [gina, omar], me: { id: "user_milo", role: "member" } }),
    ).toBe(
      "This organization has started all 10 of this month's crawls. You can start crawls again on 1 December 2026, " +
        "or ask an admin of your organization (Gina Ray (gina@acme.test) or omar@acme.test) about a higher limit.",
    );
  });

  it("tells a member to delete their own items, and leaves the asking admin out of the list", () => {
    const advice = limitReachedAdvice("content_items", { limit: 1000, admins: [gina, omar], me: { id: "user_gina", role: "admin" } });
    expect(advice).toBe(
      "The library holds all 1,000 items it may hold. Delete items you no longer need to make room, " +
        "or ask an admin of your organization (omar@acme.test) about a higher limit.",
    );
    expect(limitReachedAdvice("content_items", { admins: [], me: { id: "user_milo", role: "member" } })).toBe(
      "The library holds all the items it may hold. Delete items you added and no longer need to make room, " +
        "or ask an admin of your organization about a higher limit.",
    );
  });

  it("lets the only admin know they are the one to ask for more, and never mentions an operator", () => {
    const advice = limitReachedAdvice("crawls", { admins: [gina], me: { id: "user_gina", role: "admin" } });
    expect(advice).toBe(
      "This organization has started all of this month's crawls. You can start crawls again when the month turns, " +
        "or, as the organization's admin, ask VoiceForge for a higher limit.",
    );
    const many = [1, 2, 3, 4, 5].map((i) => ({ user_id: `user_${i}`, name: `Admin ${i}`, email: null }));
    const all = [advice, limitReachedAdvice("content_items", { admins: many })];
    expect(all[1]).toContain("(Admin 1, Admin 2, Admin 3 and 2 more)");
    expect(all.join(" ")).not.toMatch(/operator/i);
  });
});
