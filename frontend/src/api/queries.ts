// TanStack Query hooks over the API client: the only way pages read server state.

import { keepPreviousData, QueryClient, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useApi } from "./ApiContext";
import { isApiError } from "./client";
import type { AuditFilter } from "./types";

export const queryKeys = {
  currentOrganization: ["organizations", "current"] as const,
  members: (pageSize: number) => ["organizations", "users", pageSize] as const,
  /** `undefined` period = the current month, shared by the dashboard and the usage banner. */
  usage: (period?: string) => ["organizations", "usage", period ?? "current"] as const,
  audit: (filter: AuditFilter, pageSize: number) =>
    ["audit", filter.action ?? "", filter.actor ?? "", pageSize] as const,
};

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // A 4xx will not change by asking again; network errors and 5xx get two more tries.
        retry: (failureCount, error) =>
          !(isApiError(error) && error.status >= 400 && error.status < 500) && failureCount < 2,
      },
    },
  });
}

export function useCurrentOrganization() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.currentOrganization,
    queryFn: ({ signal }) => api.getCurrentOrganization({ signal }),
  });
}

export function useUsage(period?: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.usage(period),
    queryFn: ({ signal }) => api.getUsage(period, { signal }),
    placeholderData: keepPreviousData,
  });
}

export const MEMBERS_PAGE_SIZE = 50;

export function useOrganizationMembers(pageSize = MEMBERS_PAGE_SIZE) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.members(pageSize),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      api.listOrganizationMembers({ limit: pageSize, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
  });
}

export const AUDIT_PAGE_SIZE = 50;

/** The audit log, newest first; `enabled: false` for members, who would get 403. */
export function useAuditEvents(filter: AuditFilter, { enabled = true, pageSize = AUDIT_PAGE_SIZE } = {}) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.audit(filter, pageSize),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      api.listAuditEvents(filter, { limit: pageSize, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
    enabled,
  });
}
