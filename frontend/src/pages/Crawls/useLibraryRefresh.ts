import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { queryKeys } from "../../api/queries";
import type { Crawl } from "../../api/types";

/** What a crawl has done to the library and to usage so far; a change means both moved. */
function footprint(crawl: Crawl): string {
  const { stored, updated, fetched } = crawl.pages;
  return `${crawl.status}|${stored}|${updated}|${fetched}`;
}

/**
 * A running crawl fills the library and the usage meters on the server, where no mutation of
 * this app sees it. While a crawl view polls, mark the library and usage stale whenever a
 * crawl it already showed stores pages or ends, so the Library and Dashboard (and the usage
 * banner) show the new items instead of answers cached before the crawl.
 */
export function useLibraryRefresh(crawls: readonly Crawl[] | undefined) {
  const client = useQueryClient();
  const seen = useRef(new Map<string, string>());
  useEffect(() => {
    if (!crawls) return;
    let moved = false;
    for (const crawl of crawls) {
      const now = footprint(crawl);
      const before = seen.current.get(crawl.id);
      if (before !== undefined && before !== now) moved = true;
      seen.current.set(crawl.id, now);
    }
    if (moved) {
      void client.invalidateQueries({ queryKey: queryKeys.contents });
      void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
    }
  }, [crawls, client]);
}
