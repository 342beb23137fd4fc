import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { currentOrganization, fakeApi, problem } from "../test/fixtures";
import { renderWithApi } from "../test/render";
import { OrganizationGate } from "./OrganizationGate";

function refuse(code: string, detail: string) {
  return async () => {
    throw new ApiError(problem({ status: 403, code, detail }));
  };
}

describe("OrganizationGate", () => {
  it("renders the app once the organization loads", async () => {
    renderWithApi(<OrganizationGate>app content</OrganizationGate>, {
      api: fakeApi({ getCurrentOrganization: async () => currentOrganization() }),
    });
    expect(await screen.findByText("app content")).toBeTruthy();
  });

  it("explains how to get an organization on no_active_organization", async () => {
    renderWithApi(<OrganizationGate>app content</OrganizationGate>, {
      api: fakeApi({ getCurrentOrganization: refuse("no_active_organization", "Select an organization first.") }),
    });
    expect(await screen.findByRole("heading", { name: "Choose an organization" })).toBeTruthy();
    expect(screen.getByText("Select an organization first.")).toBeTruthy();
    expect(screen.getByText("organization picker")).toBeTruthy();
    expect(screen.queryByText("app content")).toBeNull();
  });

  it("says the seats are full on seat_limit_reached", async () => {
    renderWithApi(<OrganizationGate>app content</OrganizationGate>, {
      api: fakeApi({ getCurrentOrganization: refuse("seat_limit_reached", "Acme Inc uses 5 of 5 seats.") }),
    });
    expect(await screen.findByRole("heading", { name: "This organization's seats are full" })).toBeTruthy();
    expect(screen.getByText(/Ask one of\s+its admins/)).toBeTruthy();
    expect(screen.getByText("Acme Inc uses 5 of 5 seats.")).toBeTruthy();
  });

  it("shows other errors with their detail", async () => {
    renderWithApi(<OrganizationGate>app content</OrganizationGate>, {
      api: fakeApi({ getCurrentOrganization: refuse("forbidden", "Not allowed.") }),
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Not allowed.");
    expect(screen.queryByText("app content")).toBeNull();
  });
});
