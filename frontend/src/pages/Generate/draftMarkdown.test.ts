import { describe, expect, it } from "vitest";
import {
  citationHref,
  citedSources,
  draftAsHtml,
  draftAsMarkdown,
  draftAsPlainText,
  draftFileName,
  isSafeHref,
  lexDraft,
  stripMarkers,
  toPlainText,
  type CitableSource,
} from "./draftMarkdown";

const sources: CitableSource[] = [
  { n: 1, content_id: "ct1", chunk_id: "ch1", title: "Pricing", heading: "Plans > Teams", url: "https://acme.test/pricing" },
  { n: 2, content_id: "ct2", chunk_id: null, title: "Refund policy", url: null },
  { n: 3, content_id: "ct3", title: "About us", url: null },
];
const options = { markers: true, sources: true, appUrl: "https://app.test" };

const draft = `# Team pricing

Our plan costs **$10** a month [1]. Returns are *free* [2].

- Unlimited drafts [1]
- A shared [style guide](https://acme.test/guide)

1. Sign up
2. Invite your team
`;

describe("lexDraft", () => {
  it("makes each [n] a citation token, but not inside code nor a [1](link)", () => {
    const tokens = lexDraft("See [1] and `[2]` and [3](https://x.test).");
    const paragraph = tokens[0] as { tokens: { type: string; n?: number }[] };
    expect(paragraph.tokens.filter((t) => t.type === "citation").map((t) => t.n)).toEqual([1]);
    expect(paragraph.tokens.some((t) => t.type === "link")).toBe(true);
  });
});

describe("citationHref", () => {
  it("opens the library item, at the cited passage when the citation names one", () => {
    expect(citationHref({ content_id: "ct1", chunk_id: "ch1" })).toBe("/library/ct1#chunk-ch1");
    expect(citationHref({ content_id: "ct2", chunk_id: null })).toBe("/library/ct2");
    expect(citationHref({ content_id: "a/b" })).toBe("/library/a%2Fb");
  });
});

describe("stripMarkers", () => {
  it("removes markers and the space before them, leaving code and links alone", () => {
    expect(stripMarkers("Costs $10 [1]. Free [2][3].")).toBe("Costs $10. Free.");
    expect(stripMarkers("Use `a[1]` and [see](https://x.test) [12]")).toBe("Use `a[1]` and [see](https://x.test)");
    expect(stripMarkers("```\nx [1]\n```\nDone [1].")).toBe("```\nx [1]\n```\nDone.");
  });
});

describe("citedSources", () => {
  it("lists the sources the markers cite, by number, once each", () => {
    expect(citedSources("B [2]. A [1]. Again [2]. Unknown [9].", sources).map((s) => s.n)).toEqual([1, 2]);
    expect(citedSources("No markers.", sources)).toEqual([]);
  });
});

describe("toPlainText", () => {
  it("drops Markdown marks, keeps bullets, numbers, link addresses and markers", () => {
    expect(toPlainText(draft)).toBe(
      "Team pricing\n\nOur plan costs $10 a month [1]. Returns are free [2].\n\n" +
        "- Unlimited drafts [1]\n- A shared style guide (https://acme.test/guide)\n\n1. Sign up\n2. Invite your team",
    );
  });

  it("keeps raw HTML as its text and decodes what marked escaped", () => {
    expect(toPlainText("A <b>bold</b> claim & `x < y`")).toBe("A <b>bold</b> claim & x < y");
  });
});

describe("draftAsMarkdown", () => {
  it("appends the cited sources with links to the passage or the page", () => {
    const out = draftAsMarkdown(draft, sources, options);
    expect(out.startsWith("# Team pricing\n")).toBe(true);
    expect(out).toContain("a month [1].");
    expect(out).toContain(
      "## Sources\n\n- \\[1\\] [Pricing](<https://acme.test/pricing>) — Plans \\> Teams\n" +
        "- \\[2\\] [Refund policy](<https://app.test/library/ct2>)\n",
    );
    expect(out).not.toContain("About us");
  });

  it("leaves out markers and the list when asked", () => {
    const out = draftAsMarkdown(draft, sources, { ...options, markers: false, sources: false });
    expect(out).toContain("Our plan costs **$10** a month. Returns are *free*.");
    expect(out).not.toMatch(/\[\d\]/);
    expect(out).not.toContain("Sources");
  });
});

describe("draftAsPlainText", () => {
  it("is plain text with a plain source list", () => {
    const out = draftAsPlainText(draft, sources, options);
    expect(out).toContain("Our plan costs $10 a month [1].");
    expect(out).toContain("Sources\n\n[1] Pricing — Plans > Teams\n    https://acme.test/pricing\n[2] Refund policy\n    https://app.test/library/ct2\n");
  });

  it("without markers but with sources still lists what was cited", () => {
    const out = draftAsPlainText(draft, sources, { ...options, markers: false });
    expect(out).toContain("Our plan costs $10 a month. Returns are free.");
    expect(out).toContain("[1] Pricing");
  });
});

describe("draftAsHtml", () => {
  it("renders headings, lists and links, citations as superscript links, and the sources", () => {
    const html = draftAsHtml(draft, sources, { ...options, title: "Team <pricing>" });
    expect(html).toContain("<title>Team &#60;pricing&#62;</title>");
    expect(html).toContain("<h1>Team pricing</h1>");
    expect(html).toContain('<sup class="citation"><a href="https://app.test/library/ct1#chunk-ch1" title="Pricing">[1]</a></sup>');
    expect(html).toContain('<li>A shared <a href="https://acme.test/guide">style guide</a></li>');
    expect(html).toContain("<ol>\n<li>Sign up</li>");
    expect(html).toContain('<li value="2"><a href="https://app.test/library/ct2">Refund policy</a></li>');
  });

  it("shows the draft's own HTML as text and drops unsafe links", () => {
    const html = draftAsHtml('<script>alert(1)</script>\n\nHi <img src=x onerror="x()"> [x](javascript:alert(1))', [], {
      ...options,
      title: "t",
    });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).not.toContain("javascript:");
    expect(html).toContain(" x</p>");
  });
});

describe("isSafeHref", () => {
  it("allows web, mail and in-app addresses only", () => {
    expect(["https://a.test", "http://a.test", "mailto:a@b.test", "/library/x", "#top"].every(isSafeHref)).toBe(true);
    expect(["javascript:alert(1)", " JavaScript:x", "data:text/html,x", "//evil.test/x", "vbscript:x"].some(isSafeHref)).toBe(false);
  });
});

describe("draftFileName", () => {
  it("names the file after the template and the day", () => {
    expect(draftFileName("Marketing email", "2026-11-29T08:00:00Z", "docx")).toBe("marketing-email-2026-11-29.docx");
    expect(draftFileName("¡¡!!", "2026-11-29T08:00:00Z", "md")).toBe("draft-2026-11-29.md");
  });
});
