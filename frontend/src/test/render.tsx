import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";
import { ApiProvider } from "../api/ApiContext";
import type { VoiceForgeApi } from "../api/client";
import { AuthContext, type Auth } from "../auth/AuthContext";

export function testAuth(overrides: Partial<Auth> = {}): Auth {
  return {
    mode: "dev",
    identityKey: "test",
    getToken: async () => "test-token",
    accountControls: null,
    organizationPicker: <p>organization picker</p>,
    signOut: () => {},
    ...overrides,
  };
}

/** Render `ui` as the app would: with an API client, a fresh query cache, a router and auth. */
export function renderWithApi(
  ui: ReactElement,
  { api, route = "/", auth = testAuth() }: { api: VoiceForgeApi; route?: string; auth?: Auth },
) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <AuthContext.Provider value={auth}>
      <ApiProvider client={api}>
        <QueryClientProvider client={queryClient}>
          <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
        </QueryClientProvider>
      </ApiProvider>
    </AuthContext.Provider>,
  );
}
