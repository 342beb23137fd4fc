import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import type { AuditEventsPage } from "../../api/types";
import { auditEvent, currentOrganization, fakeApi, problem } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { AuditPage } from "./AuditPage";

const never = <T,>() => new Promise<T>(() => {});
const admin = async () => currentOrganization({ role: "admin" });

function page(items: AuditEventsPage["items"], next_cursor: string | null = null): AuditEventsPage {
  return { items, next_cursor };
}

describe("AuditPage", () => {
  it("tells members the log is for admins only, without asking the API for it", async () => {
    const listAuditEvents = vi.fn();
    const api = fakeApi({ getCurrentOrganization: async () => currentOrganization({ role: "member" }), listAuditEvents });
    renderWithApi(<AuditPage />, { api });

    expect(await screen.findByText("The audit log is for admins only.")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
    expect(listAuditEvents).not.toHaveBeenCalled();
  });

  it("shows the admins-only state when the API answers admin_required", async () => {
    const api = fakeApi({
      getCurrentOrganization: admin,
      listAuditEvents: async () => {
        throw new ApiError(problem({ status: 403, code: "admin_required", detail: "admins only" }));
      },
    });
    renderWithApi(<AuditPage />, { api });

    expect(await screen.findByText("The audit log is for admins only.")).toBeTruthy();
  });

  it("shows a loading state while the log loads", async () => {
    const api = fakeApi({ getCurrentOrganization: admin, listAuditEvents: never });
    renderWithApi(<AuditPage />, { api });

    expect(await screen.findByText("Loading audit events…")).toBeTruthy();
  });

  it("lists events with time, actor, action, target, request id and IP", async () => {
    const api = fakeApi({
      getCurrentOrganization: admin,
      listAuditEvents: async () =>
        page([
          auditEvent({
            id: "e1",
            actor: "user_alice",
            system: false,
            action: "crawl.started",
            target_type: "crawl",
            target_id: "crawl_1",
            request_id: "req_42",
            ip: "203.0.113.9",
            details: { url: "https://example.com" },
          }),
          auditEvent({ id: "e2", details: {} }),
        ]),
    });
    renderWithApi(<AuditPage />, { api });

    const table = await screen.findByRole("table", { name: "Audit events, newest first" });
    const headers = within(table).getAllByRole("columnheader").map((th) => th.textContent);
    expect(headers).toEqual(["Time", "Actor", "Action", "Target", "Request id", "IP", "Details"]);
    const [first, second] = within(table).getAllByRole("row").slice(1);
    expect(first?.textContent).toContain("user_alice");
    expect(first?.textContent).toContain("crawl.started");
    expect(first?.textContent).toContain("crawl_1");
    expect(first?.textContent).toContain("req_42");
    expect(first?.textContent).toContain("203.0.113.9");
    expect(first?.querySelector("time")?.getAttribute("dateTime")).toBe("2026-11-29T07:00:00Z");
    expect(second?.textContent).toContain("System");
    expect(second?.textContent).toContain("membership.created");
  });

  it("applies the action and actor filters and clears them", async () => {
    const listAuditEvents = vi.fn(async () => page([auditEvent({ id: "e1" })]));
    const api = fakeApi({ getCurrentOrganization: admin, listAuditEvents });
    renderWithApi(<AuditPage />, { api });
    await screen.findByRole("table");

    fireEvent.change(screen.getByLabelText("Action"), { target: { value: " membership.* " } });
    fireEvent.change(screen.getByLabelText("Actor"), { target: { value: "system" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));

    await vi.waitFor(() =>
      expect(listAuditEvents).toHaveBeenLastCalledWith(
        { action: "membership.*", actor: "system" },
        { limit: 50, cursor: null },
        expect.anything(),
      ),
    );
    expect((screen.getByLabelText("Action") as HTMLInputElement).value).toBe("membership.*");

    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    await vi.waitFor(() =>
      expect(listAuditEvents).toHaveBeenLastCalledWith({}, { limit: 50, cursor: null }, expect.anything()),
    );
    expect((screen.getByLabelText("Actor") as HTMLInputElement).value).toBe("");
  });

  it("reads the filters from the address, so a filtered view can be shared", async () => {
    const listAuditEvents = vi.fn(async () => page([]));
    const api = fakeApi({ getCurrentOrganization: admin, listAuditEvents });
    renderWithApi(<AuditPage />, { api, route: "/audit?action=limits.updated" });

    expect(await screen.findByText("No audit events match these filters.")).toBeTruthy();
    expect(listAuditEvents).toHaveBeenCalledWith({ action: "limits.updated" }, expect.anything(), expect.anything());
    expect((screen.getByLabelText("Action") as HTMLInputElement).value).toBe("limits.updated");
  });

  it("says so when the log is empty", async () => {
    const api = fakeApi({ getCurrentOrganization: admin, listAuditEvents: async () => page([]) });
    renderWithApi(<AuditPage />, { api });

    expect(await screen.findByText("No audit events yet.")).toBeTruthy();
  });

  it("shows the problem detail of a bad filter and lets the admin retry", async () => {
    const listAuditEvents = vi
      .fn()
      .mockRejectedValueOnce(
        new ApiError(
          problem({
            status: 400,
            code: "invalid_filter",
            detail: "action must be like crawl.started or crawl.* (a-z, 0-9, _, .)",
            request_id: "req_7",
          }),
        ),
      )
      .mockResolvedValueOnce(page([auditEvent({ id: "e1" })]));
    const api = fakeApi({ getCurrentOrganization: admin, listAuditEvents });
    renderWithApi(<AuditPage />, { api, route: "/audit?action=BAD" });

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not load the audit log");
    expect(alert.textContent).toContain("action must be like crawl.started");
    expect(alert.textContent).toContain("req_7");
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("table")).toBeTruthy();
  });

  it("loads more events with the next cursor until there are none", async () => {
    const listAuditEvents = vi
      .fn()
      .mockResolvedValueOnce(page([auditEvent({ id: "e1", action: "limits.updated" })], "cur_2"))
      .mockResolvedValueOnce(page([auditEvent({ id: "e2", action: "membership.deleted" })]));
    const api = fakeApi({ getCurrentOrganization: admin, listAuditEvents });
    renderWithApi(<AuditPage />, { api });
    const table = await screen.findByRole("table");
    expect(within(table).getByText("limits.updated")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Load more" }));

    expect(await within(table).findByText("membership.deleted")).toBeTruthy();
    expect(within(table).getByText("limits.updated")).toBeTruthy();
    expect(listAuditEvents).toHaveBeenLastCalledWith({}, { limit: 50, cursor: "cur_2" }, expect.anything());
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });
});
