import { describe, expect, it } from "vitest";
import { crawl } from "../../test/fixtures";
import { crawlProgress, defaultCrawlForm, parseCrawlForm, patterns } from "./crawlForm";

describe("parseCrawlForm", () => {
  it("turns valid values into the API request", () => {
    const result = parseCrawlForm({
      ...defaultCrawlForm,
      url: " https://acme.example/ ",
      maxPages: "50",
      maxDepth: "0",
      includePaths: "/blog/\n\n/docs/",
      excludePaths: "*.pdf, /blog/tag/",
      includeSubdomains: true,
    });
    expect(result).toEqual({
      ok: true,
      request: {
        url: "https://acme.example/",
        max_pages: 50,
        max_depth: 0,
        include_paths: ["/blog/", "/docs/"],
        exclude_paths: ["*.pdf", "/blog/tag/"],
        include_subdomains: true,
        use_sitemap: true,
      },
    });
  });

  it("names each wrong field", () => {
    const result = parseCrawlForm({
      ...defaultCrawlForm,
      url: "ftp://acme.example/",
      maxPages: "0",
      maxDepth: "51",
      includePaths: Array.from({ length: 51 }, (_, i) => `/p${i}`).join("\n"),
      excludePaths: "/" + "x".repeat(300),
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.url).toMatch(/http/);
    expect(result.errors.maxPages).toMatch(/1 to 10,000/);
    expect(result.errors.maxDepth).toMatch(/0 to 50/);
    expect(result.errors.includePaths).toMatch(/At most 50/);
    expect(result.errors.excludePaths).toMatch(/256/);
  });

  it("asks for a URL when there is none, and refuses a relative one and decimals", () => {
    const empty = parseCrawlForm(defaultCrawlForm);
    expect(!empty.ok && empty.errors.url).toMatch(/Enter the address/);
    const relative = parseCrawlForm({ ...defaultCrawlForm, url: "acme.example", maxPages: "2.5" });
    expect(!relative.ok && relative.errors.url).toMatch(/full http/);
    expect(!relative.ok && relative.errors.maxPages).toBeTruthy();
  });
});

describe("patterns", () => {
  it("splits on lines and commas and drops blanks", () => {
    expect(patterns(" /a \n,\n/b,/c ")).toEqual(["/a", "/b", "/c"]);
  });
});

describe("crawlProgress", () => {
  it("is the share of discovered pages with an outcome while running", () => {
    expect(crawlProgress(crawl({ id: "c", status: "running" }))).toBe(60);
  });

  it("is unknown before anything is discovered, and full once the crawl ended", () => {
    const pages = { discovered: 0, queued: 0, fetched: 0, stored: 0, updated: 0, unchanged: 0, duplicate: 0, skipped: 0, failed: 0 };
    expect(crawlProgress(crawl({ id: "c", status: "queued", pages }))).toBeNull();
    expect(crawlProgress(crawl({ id: "c", status: "cancelled" }))).toBe(100);
  });

  it("caps the denominator at max_pages", () => {
    const c = crawl({ id: "c", status: "running" });
    c.options.max_pages = 50;
    c.pages = { ...c.pages, discovered: 200, queued: 170 };
    expect(crawlProgress(c)).toBe(60);
  });
});
