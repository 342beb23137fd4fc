// Parses the start-crawl form once into the API's request, or says what is wrong with each field.
// Mirrors the bounds in the crawl API (max_pages 1–10,000, max_depth 0–50, ≤ 50 patterns of
// ≤ 256 characters); the server remains the judge (it also refuses non-public hosts).

import type { Crawl, CrawlPageCounts, StartCrawlRequest } from "../../api/types";

export interface CrawlFormValues {
  url: string;
  maxPages: string;
  maxDepth: string;
  includePaths: string;
  excludePaths: string;
  includeSubdomains: boolean;
  useSitemap: boolean;
}

export type CrawlFormErrors = Partial<Record<keyof CrawlFormValues, string>>;

export const defaultCrawlForm: CrawlFormValues = {
  url: "",
  maxPages: "500",
  maxDepth: "10",
  includePaths: "",
  excludePaths: "",
  includeSubdomains: false,
  useSitemap: true,
};

export const MAX_PATTERNS = 50;
export const MAX_PATTERN_LENGTH = 256;

export function parseCrawlForm(
  values: CrawlFormValues,
): { ok: true; request: StartCrawlRequest } | { ok: false; errors: CrawlFormErrors } {
  const errors: CrawlFormErrors = {};

  const url = values.url.trim();
  if (!url) {
    errors.url = "Enter the address of the site to crawl.";
  } else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || !parsed.hostname) {
      errors.url = "Enter a full http:// or https:// address, e.g. https://example.com/.";
    } else if (url.length > 2048) {
      errors.url = "The address is too long (at most 2,048 characters).";
    }
  }

  const maxPages = wholeNumber(values.maxPages, 1, 10_000);
  if (maxPages === null) errors.maxPages = "Pages must be a whole number from 1 to 10,000.";
  const maxDepth = wholeNumber(values.maxDepth, 0, 50);
  if (maxDepth === null) errors.maxDepth = "Depth must be a whole number from 0 to 50.";

  const includePaths = patterns(values.includePaths);
  const includeError = patternError(includePaths);
  if (includeError) errors.includePaths = includeError;
  const excludePaths = patterns(values.excludePaths);
  const excludeError = patternError(excludePaths);
  if (excludeError) errors.excludePaths = excludeError;

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      url,
      max_pages: maxPages ?? undefined,
      max_depth: maxDepth ?? undefined,
      include_paths: includePaths,
      exclude_paths: excludePaths,
      include_subdomains: values.includeSubdomains,
      use_sitemap: values.useSitemap,
    },
  };
}

/** One pattern per line (commas also separate); blank lines ignored. */
export function patterns(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

function patternError(list: string[]): string | undefined {
  if (list.length > MAX_PATTERNS) return `At most ${MAX_PATTERNS} patterns.`;
  const long = list.find((p) => p.length > MAX_PATTERN_LENGTH);
  if (long) return `Each pattern may have at most ${MAX_PATTERN_LENGTH} characters.`;
  return undefined;
}

function wholeNumber(text: string, min: number, max: number): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n >= min && n <= max ? n : null;
}

/** Share of the known pages that have an outcome; null while nothing is discovered yet. */
export function crawlProgress(crawl: Pick<Crawl, "status" | "pages" | "options">): number | null {
  if (crawl.status !== "queued" && crawl.status !== "running") return 100;
  const { discovered, queued } = crawl.pages;
  if (discovered <= 0) return null;
  const total = Math.min(discovered, crawl.options.max_pages || discovered);
  const done = Math.min(total, discovered - queued);
  return Math.max(0, Math.min(100, (done / total) * 100));
}

/** Pages with a final outcome. */
export function pagesDone(pages: CrawlPageCounts): number {
  return Math.max(0, pages.discovered - pages.queued);
}
