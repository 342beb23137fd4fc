import JSZip from "jszip";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { VoiceForgeApi } from "../../api/client";
import { fakeApi, generation } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { GenerationPage } from "./GenerationPage";

const markdownDraft = generation({
  id: "g1",
  output:
    "# Team pricing\n\nOur plan costs **$10** a month [1]. Returns are free [2].\n\n" +
    "- Unlimited drafts\n- See [the guide](https://acme.test/guide)\n\n<script>alert(1)</script> <b>raw</b>",
  citations: [
    { n: 1, content_id: "ct1", chunk_id: "ch1", title: "Pricing", url: "https://acme.test/pricing" },
    { n: 2, content_id: "ct2", title: "Refund policy", url: null },
  ],
  sources: [
    { n: 1, content_id: "ct1", chunk_id: "ch1", heading: "Plans", title: "Pricing", url: "https://acme.test/pricing", excerpt: "Plans start at $10." },
    { n: 2, content_id: "ct2", title: "Refund policy", url: null, excerpt: "Returns within 30 days." },
  ],
});

function renderDraft(overrides: Partial<VoiceForgeApi> = {}) {
  return renderWithApi(
    <Routes>
      <Route path="/generations/:id" element={<GenerationPage />} />
      <Route path="/library/:id" element={<p>library item page</p>} />
    </Routes>,
    { api: fakeApi({ getGeneration: async (id) => (id === "g1" ? markdownDraft : generation({ id, output: `Draft ${id}.` })), ...overrides }), route: "/generations/g1" },
  );
}

/** Captures what the page hands to the browser's downloads. */
function captureDownloads() {
  const saved: { name: string; blob: Blob }[] = [];
  let last: Blob | null = null;
  vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: (blob: Blob) => ((last = blob), "blob:test"), revokeObjectURL: () => {} }));
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    saved.push({ name: this.download, blob: last! });
  });
  return saved;
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("DraftView", () => {
  it("renders the draft's Markdown, its HTML as text, and citations as superscript links to the passage", async () => {
    renderDraft();
    const output = (await screen.findByRole("heading", { name: "Team pricing" })).closest(".draft-output") as HTMLElement;
    expect(output.querySelector("h3")?.textContent).toBe("Team pricing");
    expect(within(output).getByText("$10").tagName).toBe("STRONG");
    expect(within(output).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Unlimited drafts", "See the guide"]);
    expect(within(output).getByRole("link", { name: "the guide" }).getAttribute("href")).toBe("https://acme.test/guide");
    expect(output.querySelector("script, b")).toBeNull();
    expect(output.textContent).toContain("<script>alert(1)</script>");

    const cite = within(output).getByRole("link", { name: "Source 1: Pricing" });
    expect(cite.getAttribute("href")).toBe("/library/ct1#chunk-ch1");
    expect(cite.parentElement?.tagName).toBe("SUP");
    expect(cite.getAttribute("title")).toBe("Pricing — Plans");
    expect(within(output).getByRole("link", { name: "Source 2: Refund policy" }).getAttribute("href")).toBe("/library/ct2");
    fireEvent.click(cite);
    expect(await screen.findByText("library item page")).toBeTruthy();
  });

  it("copies plain text with or without markers and source list", async () => {
    const writeText = vi.fn(async (_text: string) => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    renderDraft();
    await screen.findByRole("heading", { name: "Team pricing" });

    fireEvent.click(screen.getByRole("checkbox", { name: "Citation markers" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Source list" }));
    fireEvent.click(screen.getByRole("button", { name: "Copy plain text" }));
    expect(await screen.findByText("Copied as plain text.")).toBeTruthy();
    expect(writeText).toHaveBeenLastCalledWith(
      "Team pricing\n\nOur plan costs $10 a month. Returns are free.\n\n- Unlimited drafts\n- See the guide (https://acme.test/guide)\n\n" +
        "<script>alert(1)</script> <b>raw</b>\n",
    );

    fireEvent.click(screen.getByRole("checkbox", { name: "Source list" }));
    fireEvent.click(screen.getByRole("button", { name: "Copy Markdown" }));
    await screen.findByText("Copied as Markdown.");
    const copied = writeText.mock.lastCall![0];
    expect(copied).toContain("Our plan costs **$10** a month. Returns are free.");
    expect(copied).toContain("## Sources\n\n- \\[1\\] [Pricing](<https://acme.test/pricing>) — Plans\n- \\[2\\] [Refund policy](<http://localhost:3000/library/ct2>)");
  });

  it("downloads .md, .html and .docx files of the draft", async () => {
    const saved = captureDownloads();
    renderDraft();
    await screen.findByRole("heading", { name: "Team pricing" });

    fireEvent.click(screen.getByRole("button", { name: "Download .md" }));
    fireEvent.click(screen.getByRole("button", { name: "Download .html" }));
    fireEvent.click(screen.getByRole("button", { name: "Download .docx" }));
    await waitFor(() => expect(saved).toHaveLength(3));
    expect(saved.map((s) => s.name)).toEqual(["marketing-email-2026-11-29.md", "marketing-email-2026-11-29.html", "marketing-email-2026-11-29.docx"]);

    const md = await saved[0]!.blob.text();
    expect(md.startsWith("# Team pricing\n\nOur plan costs **$10** a month [1].")).toBe(true);
    expect(md).toContain("## Sources");
    const html = await saved[1]!.blob.text();
    expect(html).toContain('<sup class="citation"><a href="http://localhost:3000/library/ct1#chunk-ch1" title="Pricing">[1]</a></sup>');
    expect(html).not.toContain("<script>");
    const zip = await JSZip.loadAsync(await saved[2]!.blob.arrayBuffer());
    const xml = await zip.file("word/document.xml")!.async("string");
    expect(xml).toContain(">Team pricing</w:t>");
    expect(xml).toContain(">Unlimited drafts</w:t>");
    expect(screen.getByText("Downloaded marketing-email-2026-11-29.docx.")).toBeTruthy();
  });

  it("edits the draft in place and checks the voice of the edited text", async () => {
    const checkVoice = vi.fn(async () => ({ score: 55, findings: [] }));
    const writeText = vi.fn(async (_text: string) => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    renderDraft({ checkVoice });
    await screen.findByRole("heading", { name: "Team pricing" });
    expect(screen.getByText("Of the draft as generated.")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const editor = screen.getByRole("textbox", { name: "Draft (Markdown)" });
    expect((editor as HTMLTextAreaElement).value).toBe(markdownDraft.output);
    fireEvent.change(editor, { target: { value: "## Shorter\n\nTen dollars [1]." } });
    expect(screen.getByText("Of the draft as generated; check again for your edits.")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Check voice of the edited text" }));
    expect(await screen.findByText("Of your edited text.")).toBeTruthy();
    expect(checkVoice).toHaveBeenCalledWith("## Shorter\n\nTen dollars [1].");
    expect(screen.getByText("55")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Done editing" }));
    expect(screen.getByRole("heading", { name: "Shorter" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Copy Markdown" }));
    await screen.findByText("Copied as Markdown.");
    expect(writeText.mock.lastCall![0]).toMatch(/^## Shorter\n\nTen dollars \[1\]\.\n\n## Sources\n\n- \\\[1\\\] \[Pricing\]/);

    fireEvent.click(screen.getByRole("button", { name: "Undo edits" }));
    expect(screen.getByRole("heading", { name: "Team pricing" })).toBeTruthy();
    expect(screen.getByText("Of the draft as generated.")).toBeTruthy();
  });

  it("regenerates a stored draft from its template and inputs and opens the new one", async () => {
    const generate = vi.fn(async () => generation({ id: "g2", output: "Draft g2." }));
    renderDraft({ generate });
    fireEvent.click(await screen.findByRole("button", { name: "Regenerate" }));
    expect(await screen.findByText("Draft g2.")).toBeTruthy();
    expect(generate).toHaveBeenCalledWith({ template_id: "t1", inputs: { topic: "pricing for teams" } });
  });

  it("cannot regenerate once the template is deleted, and says why", async () => {
    renderDraft({ getGeneration: async () => generation({ id: "g1", template: { id: null, name: "Gone", kind: "email" } }) });
    const button = await screen.findByRole("button", { name: "Regenerate" });
    expect(button).toHaveProperty("disabled", true);
    expect(screen.getByText("Its template was deleted.")).toBeTruthy();
  });
});
