// TanStack Query hooks over the API client: the only way pages read server state.

import {
  keepPreviousData,
  QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useApi } from "./ApiContext";
import { isApiError } from "./client";
import type {
  AuditFilter,
  ContentFilter,
  Crawl,
  CrawlScheduleRequest,
  GenerateRequest,
  NewContent,
  NewTemplate,
  SearchIndexStatus,
  StartCrawlRequest,
  StyleGuide,
  TemplateCopy,
  TemplatePatch,
} from "./types";

export const queryKeys = {
  currentOrganization: ["organizations", "current"] as const,
  members: (pageSize: number) => ["organizations", "users", pageSize] as const,
  /** `undefined` period = the current month, shared by the dashboard and the usage banner. */
  usage: (period?: string) => ["organizations", "usage", period ?? "current"] as const,
  audit: (filter: AuditFilter, pageSize: number) =>
    ["audit", filter.action ?? "", filter.actor ?? "", pageSize] as const,
  crawls: ["crawls"] as const,
  crawl: (id: string) => ["crawls", "detail", id] as const,
  crawlPages: (id: string) => ["crawls", "detail", id, "pages"] as const,
  crawlSchedule: ["crawls", "schedule"] as const,
  contents: ["contents"] as const,
  contentLists: ["contents", "list"] as const,
  contentList: (filter: ContentFilter) =>
    ["contents", "list", filter.q ?? "", filter.source ?? "", filter.crawl_id ?? "", filter.sort ?? ""] as const,
  content: (id: string) => ["contents", "detail", id] as const,
  searches: ["contents", "search"] as const,
  search: (query: string) => ["contents", "search", query] as const,
  searchStatus: ["contents", "search-status"] as const,
  templates: ["templates"] as const,
  template: (id: string) => ["templates", "detail", id] as const,
  generations: ["generations"] as const,
  generation: (id: string) => ["generations", "detail", id] as const,
  voice: ["voice"] as const,
};

/** How often crawl views ask again while a crawl is queued or running. */
export const CRAWL_POLL_MS = 2_000;

export function isCrawlActive(crawl: Pick<Crawl, "status">): boolean {
  return crawl.status === "queued" || crawl.status === "running";
}

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

export const CRAWLS_PAGE_SIZE = 20;

/** Crawls, newest first; polls while any loaded crawl is still queued or running. */
export function useCrawls(pageSize = CRAWLS_PAGE_SIZE) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: [...queryKeys.crawls, "list", pageSize],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => api.listCrawls({ limit: pageSize, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some(isCrawlActive)) ? CRAWL_POLL_MS : false,
  });
}

export function useCrawl(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.crawl(id),
    queryFn: ({ signal }) => api.getCrawl(id, { signal }),
    refetchInterval: (query) => (query.state.data && isCrawlActive(query.state.data) ? CRAWL_POLL_MS : false),
  });
}

export const CRAWL_PAGES_PAGE_SIZE = 50;

/** A crawl's pages in discovery order; `poll` while the crawl runs. */
export function useCrawlPages(id: string, poll: boolean) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.crawlPages(id),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      api.listCrawlPages(id, { limit: CRAWL_PAGES_PAGE_SIZE, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
    refetchInterval: poll ? CRAWL_POLL_MS : false,
  });
}

export function useStartCrawl() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: StartCrawlRequest) => api.startCrawl(request),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: queryKeys.crawls });
      void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
    },
    // The meters may be behind the API: a refusal for the limit updates them.
    onError: (error) => {
      if (isApiError(error) && error.code === "crawl_limit_reached") {
        void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
      }
    },
  });
}

export function useCancelCrawl() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.cancelCrawl(id),
    onSuccess: (crawl) => {
      client.setQueryData(queryKeys.crawl(crawl.id), crawl);
      void client.invalidateQueries({ queryKey: queryKeys.crawls });
    },
  });
}

export function useCrawlSchedule() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.crawlSchedule,
    queryFn: ({ signal }) => api.getCrawlSchedule({ signal }),
  });
}

export function useSaveCrawlSchedule() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: CrawlScheduleRequest) => api.putCrawlSchedule(request),
    onSuccess: (answer) => client.setQueryData(queryKeys.crawlSchedule, answer),
  });
}

export const CONTENTS_PAGE_SIZE = 50;

export function useContents(filter: ContentFilter) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: queryKeys.contentList(filter),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      api.listContents(filter, { limit: CONTENTS_PAGE_SIZE, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
    placeholderData: keepPreviousData,
  });
}

export function useContent(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.content(id),
    queryFn: ({ signal }) => api.getContent(id, { signal }),
  });
}

export function useCreateContent() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (content: NewContent) => api.createContent(content),
    onSuccess: (created) => {
      client.setQueryData(queryKeys.content(created.id), created);
      void client.invalidateQueries({ queryKey: queryKeys.contents });
      void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
      // The measured voice is recomputed when the library changes.
      void client.invalidateQueries({ queryKey: queryKeys.voice });
    },
    // The meters may be behind the API: a refusal for the limit updates them.
    onError: (error) => {
      if (isApiError(error) && error.code === "content_limit_reached") {
        void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
      }
    },
  });
}

export function useDeleteContent() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.deleteContent(id),
    onSuccess: (_answer, id) => {
      client.removeQueries({ queryKey: queryKeys.content(id) });
      void client.invalidateQueries({ queryKey: queryKeys.contents });
      void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
      // The measured voice is recomputed when the library changes.
      void client.invalidateQueries({ queryKey: queryKeys.voice });
    },
  });
}

/** Passage search; idle until there is a query. Lives under "contents" so library changes refresh it. */
export function useSearch(query: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.search(query),
    queryFn: ({ signal }) => api.search({ query }, { signal }),
    enabled: query.trim() !== "",
  });
}

/** How often the Library asks again while passages wait for their vectors. */
export const SEARCH_STATUS_POLL_MS = 4_000;

/** Whether passages are still being embedded (never true without an embedder). */
export function isIndexing(status: Pick<SearchIndexStatus, "embeddings_enabled" | "pending">): boolean {
  return status.embeddings_enabled && status.pending > 0;
}

/**
 * How much of the library is searchable by meaning; polls while passages are pending. Lives
 * under "contents" so adding or deleting an item (or a crawl storing pages) asks again, and
 * polling resumes.
 */
export function useSearchStatus() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.searchStatus,
    queryFn: ({ signal }) => api.getSearchStatus({ signal }),
    refetchInterval: (query) => (query.state.data && isIndexing(query.state.data) ? SEARCH_STATUS_POLL_MS : false),
  });
}

export const TEMPLATES_PAGE_SIZE = 100;

/** The organization's templates, oldest first (built-ins first, as the API seeds them). */
export function useTemplates() {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: [...queryKeys.templates, "list"],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => api.listTemplates({ limit: TEMPLATES_PAGE_SIZE, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
  });
}

export function useCreateTemplate() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (template: NewTemplate | TemplateCopy) => api.createTemplate(template),
    onSuccess: (created) => {
      client.setQueryData(queryKeys.template(created.id), created);
      void client.invalidateQueries({ queryKey: queryKeys.templates });
    },
  });
}

export function useUpdateTemplate() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: TemplatePatch }) => api.updateTemplate(id, patch),
    onSuccess: (updated) => {
      client.setQueryData(queryKeys.template(updated.id), updated);
      void client.invalidateQueries({ queryKey: queryKeys.templates });
    },
  });
}

export function useDeleteTemplate() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.deleteTemplate(id),
    onSuccess: (_answer, id) => {
      client.removeQueries({ queryKey: queryKeys.template(id) });
      void client.invalidateQueries({ queryKey: queryKeys.templates });
    },
  });
}

export const GENERATIONS_PAGE_SIZE = 20;

/** Past generations, newest first. */
export function useGenerations(pageSize = GENERATIONS_PAGE_SIZE) {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: [...queryKeys.generations, "list", pageSize],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => api.listGenerations({ limit: pageSize, cursor: pageParam }, { signal }),
    getNextPageParam: (lastPage) => lastPage.next_cursor,
  });
}

export function useGeneration(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.generation(id),
    queryFn: ({ signal }) => api.getGeneration(id, { signal }),
  });
}

export function useGenerate() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: GenerateRequest) => api.generate(request),
    onSuccess: (generation) => {
      client.setQueryData(queryKeys.generation(generation.id), generation);
      void client.invalidateQueries({ queryKey: queryKeys.generations });
      void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
    },
  });
}

export function useVoice() {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.voice,
    queryFn: ({ signal }) => api.getVoice({ signal }),
  });
}

export function useSaveStyleGuide() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (guide: StyleGuide) => api.putStyleGuide(guide),
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.voice }),
  });
}

export function useVoiceCheck() {
  const api = useApi();
  return useMutation({ mutationFn: (text: string) => api.checkVoice(text) });
}
