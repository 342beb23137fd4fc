import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryRouter } from "react-router";
import { jsonResponse, problem, problemResponse } from "../test/fixtures";
import { useAuth } from "./AuthContext";
import { DevAuthProvider } from "./DevAuthProvider";
import { loadDevIdentity } from "./devIdentity";

function Probe() {
  const auth = useAuth();
  return (
    <div>
      <p>signed in as {auth.identityKey}</p>
      <button type="button" onClick={() => void auth.signOut()}>
        probe sign out
      </button>
    </div>
  );
}

function renderProvider() {
  return render(
    <MemoryRouter>
      <DevAuthProvider>
        <Probe />
      </DevAuthProvider>
    </MemoryRouter>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("DevAuthProvider", () => {
  it("signs in with the default identity, mints a token and remembers the identity", async () => {
    const fetch = vi.fn(async () => jsonResponse({ token: "dev.jwt", expires_at: "2999-01-01T00:00:00Z" }));
    vi.stubGlobal("fetch", fetch);
    renderProvider();

    expect((screen.getByLabelText("Organization id") as HTMLInputElement).value).toBe("org_acme");
    expect((screen.getByLabelText("User id") as HTMLInputElement).value).toBe("user_alice");
    fireEvent.change(screen.getByLabelText(/Organization name/), { target: { value: "Acme Inc" } });
    fireEvent.click(screen.getByRole("radio", { name: "Member" }));
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByText("signed in as dev:org_acme:user_alice:member")).toBeTruthy();
    expect(fetch).toHaveBeenCalledWith(
      "/api/dev/token",
      expect.objectContaining({
        method: "POST",
        body: JSON.stringify({ org: "org_acme", user: "user_alice", role: "member", org_name: "Acme Inc" }),
      }),
    );
    expect(loadDevIdentity()).toEqual({ org: "org_acme", user: "user_alice", role: "member", orgName: "Acme Inc" });

    fireEvent.click(screen.getByRole("button", { name: "probe sign out" }));
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeTruthy();
    expect(loadDevIdentity()).toBeNull();
    // The identity is offered again as a recent one.
    expect(screen.getByRole("button", { name: /Acme Inc/ })).toBeTruthy();
  });

  it("shows the server's problem detail when sign-in is refused", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        problemResponse(problem({ status: 404, code: "dev_sign_in_disabled", detail: "Dev sign-in is disabled." })),
      ),
    );
    renderProvider();

    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect((await screen.findByRole("alert")).textContent).toBe("Dev sign-in is disabled.");
    expect(loadDevIdentity()).toBeNull();
  });

  it("validates ids before asking the server", async () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    renderProvider();

    fireEvent.change(screen.getByLabelText("Organization id"), { target: { value: "org acme" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByText('Use "org_" and then up to 64 letters, digits, "_" or "-".')).toBeTruthy();
    expect(screen.getByLabelText("Organization id").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(screen.getByLabelText("Organization id"));
    expect(fetch).not.toHaveBeenCalled();
  });

  it("restores a stored identity without showing the sign-in form", () => {
    window.localStorage.setItem(
      "voiceforge.dev.identity",
      JSON.stringify({ org: "org_globex", user: "user_bob", role: "admin" }),
    );
    renderProvider();
    expect(screen.getByText("signed in as dev:org_globex:user_bob:admin")).toBeTruthy();
  });
});
