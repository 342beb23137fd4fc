import { QueryClientProvider } from "@tanstack/react-query";
import { useMemo, useState, type ReactNode } from "react";
import { ApiProvider } from "../api/ApiContext";
import { createApiClient } from "../api/client";
import { createQueryClient } from "../api/queries";
import { useAuth } from "../auth/AuthContext";

/** API client and query cache for the signed-in identity. */
export function SessionProviders({ children }: { children: ReactNode }) {
  const { identityKey, getToken } = useAuth();
  const client = useMemo(() => createApiClient({ getToken }), [getToken]);
  return (
    <ApiProvider client={client}>
      {/* Keyed by identity: switching organization, user or role starts with an empty cache,
          so nothing fetched for one organization is ever shown for another. */}
      <QueryScope key={identityKey}>{children}</QueryScope>
    </ApiProvider>
  );
}

function QueryScope({ children }: { children: ReactNode }) {
  const [queryClient] = useState(createQueryClient);
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
