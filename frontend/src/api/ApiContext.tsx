import { createContext, useContext, type ReactNode } from "react";
import type { VoiceForgeApi } from "./client";

const ApiContext = createContext<VoiceForgeApi | null>(null);

export function ApiProvider({ client, children }: { client: VoiceForgeApi; children: ReactNode }) {
  return <ApiContext.Provider value={client}>{children}</ApiContext.Provider>;
}

/** The API client of the signed-in session. */
export function useApi(): VoiceForgeApi {
  const client = useContext(ApiContext);
  if (!client) throw new Error("useApi must be used inside <ApiProvider>");
  return client;
}
