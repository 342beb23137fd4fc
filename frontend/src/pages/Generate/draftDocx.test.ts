import JSZip from "jszip";
import { describe, expect, it } from "vitest";
import { draftDocxBlob } from "./draftDocx";
import type { CitableSource } from "./draftMarkdown";

const sources: CitableSource[] = [
  { n: 1, content_id: "ct1", chunk_id: "ch1", title: "Pricing", heading: "Plans", url: "https://acme.test/pricing" },
  { n: 2, content_id: "ct2", title: "Refund policy", url: null },
];
const draft = `# Team pricing

Our plan costs **$10** a month [1]. Returns are free [2].

- Unlimited drafts
- A shared [style guide](https://acme.test/guide)

1. Sign up
2. Invite your team

<b>not bold</b>
`;

/** The document's XML parts, read back out of the .docx zip. */
async function unzip(blob: Blob) {
  const zip = await JSZip.loadAsync(await blob.arrayBuffer());
  const read = (name: string) => zip.file(name)!.async("string");
  return { document: await read("word/document.xml"), rels: await read("word/_rels/document.xml.rels") };
}

/** The text of each paragraph of document.xml, in order. */
function paragraphs(xml: string): string[] {
  return [...xml.matchAll(/<w:p[ >][\s\S]*?<\/w:p>/g)].map((p) =>
    [...p[0].matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((t) => t[1]).join(""),
  );
}

describe("draftDocxBlob", () => {
  it("writes the headings, paragraphs, lists and sources of the draft", async () => {
    const { document, rels } = await unzip(await draftDocxBlob(draft, sources, { markers: true, sources: true, appUrl: "https://app.test", title: "Team pricing" }));
    const text = paragraphs(document);
    expect(text).toEqual([
      "Team pricing",
      "Our plan costs $10 a month [1]. Returns are free [2].",
      "Unlimited drafts",
      "A shared style guide",
      "Sign up",
      "Invite your team",
      "&lt;b&gt;not bold&lt;/b&gt;",
      "Sources",
      "[1] Pricing — Plans",
      "[2] Refund policy",
    ]);
    expect(document).toMatch(/<w:pStyle w:val="Heading1"\/>[\s\S]*?Team pricing/);
    expect(document).toMatch(/<w:b\/>[\s\S]*?<w:t xml:space="preserve">\$10<\/w:t>/);
    // Citations are superscript links to the cited passage (or the item).
    expect(document).toMatch(/<w:vertAlign w:val="superscript"\/>[\s\S]*?<w:t xml:space="preserve">\[1\]<\/w:t>/);
    expect(rels).toContain('Target="https://app.test/library/ct1#chunk-ch1"');
    expect(rels).toContain('Target="https://app.test/library/ct2"');
    expect(rels).toContain('Target="https://acme.test/guide"');
    // Bullets and numbers.
    expect(document.match(/<w:numPr>/g)?.length).toBe(4);
  });

  it("leaves out markers and the source list when asked", async () => {
    const { document } = await unzip(await draftDocxBlob(draft, sources, { markers: false, sources: false, appUrl: "https://app.test", title: "t" }));
    const text = paragraphs(document);
    expect(text[1]).toBe("Our plan costs $10 a month. Returns are free.");
    expect(text).not.toContain("Sources");
    expect(document).not.toContain("superscript");
  });
});
