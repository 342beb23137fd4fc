import { render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { useAuth } from "./AuthContext";
import ClerkAuthProvider from "./ClerkAuthProvider";

// Clerk's SDK needs its hosted frontend API; stand in for the parts this app uses.
const clerk = vi.hoisted(() => ({
  state: {} as Record<string, unknown>,
  getToken: vi.fn(async (_options?: { skipCache?: boolean }) => "clerk-session-token"),
}));

vi.mock("@clerk/react", () => ({
  ClerkProvider: ({ children, publishableKey }: { children: ReactNode; publishableKey: string }) => (
    <div data-testid="clerk-provider" data-key={publishableKey}>
      {children}
    </div>
  ),
  SignIn: () => <p>clerk sign-in form</p>,
  OrganizationSwitcher: ({ hidePersonal }: { hidePersonal?: boolean }) => (
    <p>organization switcher{hidePersonal ? " (no personal account)" : ""}</p>
  ),
  UserButton: () => <p>user button</p>,
  useAuth: () => ({ ...clerk.state, getToken: clerk.getToken, signOut: vi.fn() }),
}));

let captured: ReturnType<typeof useAuth> | null = null;
function Probe() {
  captured = useAuth();
  return (
    <div>
      <p>app for {captured.identityKey}</p>
      {captured.accountControls}
    </div>
  );
}

function renderClerk() {
  return render(
    <MemoryRouter>
      <ClerkAuthProvider publishableKey="pk_test_example">
        <Probe />
      </ClerkAuthProvider>
    </MemoryRouter>,
  );
}

beforeEach(() => {
  captured = null;
  clerk.getToken.mockClear();
});

describe("ClerkAuthProvider", () => {
  it("shows a loading state until Clerk has loaded", () => {
    clerk.state = { isLoaded: false };
    renderClerk();
    expect(screen.getByRole("status").textContent).toBe("Loading your session…");
    expect(screen.getByTestId("clerk-provider").getAttribute("data-key")).toBe("pk_test_example");
  });

  it("shows Clerk's sign-in when signed out", () => {
    clerk.state = { isLoaded: true, isSignedIn: false };
    renderClerk();
    expect(screen.getByText("clerk sign-in form")).toBeTruthy();
    expect(screen.queryByText(/app for/)).toBeNull();
  });

  it("provides the session to the app, with the org switcher and user menu", async () => {
    clerk.state = { isLoaded: true, isSignedIn: true, userId: "user_1", orgId: "org_1", orgRole: "org:admin" };
    renderClerk();

    expect(screen.getByText("app for clerk:user_1:org_1:org:admin")).toBeTruthy();
    expect(screen.getByText("organization switcher (no personal account)")).toBeTruthy();
    expect(screen.getByText("user button")).toBeTruthy();

    expect(await captured?.getToken()).toBe("clerk-session-token");
    await captured?.getToken({ forceRefresh: true });
    expect(clerk.getToken.mock.calls).toEqual([[undefined], [{ skipCache: true }]]);
  });
});
