import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, type GenerateStreamHandlers, type VoiceForgeApi } from "../../api/client";
import type { Generation, Template } from "../../api/types";
import { fakeApi, generation, problem, template } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { excerpt, GeneratePage } from "./GeneratePage";
import { GenerationPage } from "./GenerationPage";

const never = <T,>() => new Promise<T>(() => {});
const page = <T,>(items: T[], next_cursor: string | null = null) => ({ items, next_cursor });

const email = template({ id: "t1", name: "Marketing email", builtin: "email", created_by: null });
const social = template({
  id: "t2",
  name: "Social post",
  kind: "social_post",
  instructions: "Post about {{product}}.",
  fields: [{ name: "product", label: "Product", required: true, max_length: 100 }],
});
const noHistory = async () => page<Generation>([]);

function renderGenerate(overrides: Partial<VoiceForgeApi>, route = "/generate") {
  return renderWithApi(
    <Routes>
      <Route path="/generate" element={<GeneratePage />} />
      <Route path="/generations/:id" element={<GenerationPage />} />
      <Route path="/library/:id" element={<p>library item page</p>} />
    </Routes>,
    { api: fakeApi(overrides), route },
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("GeneratePage", () => {
  it("shows loading states while templates and past drafts load", async () => {
    renderGenerate({ listTemplates: never, listGenerations: never });
    expect(await screen.findByText("Loading templates…")).toBeTruthy();
    expect(screen.getByText("Loading past drafts…")).toBeTruthy();
  });

  it("points to the templates page when there are none, and says there are no drafts yet", async () => {
    renderGenerate({ listTemplates: async () => page<Template>([]), listGenerations: noHistory });
    expect(await screen.findByText("No templates yet.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Create a template" }).getAttribute("href")).toBe("/templates");
    expect(await screen.findByText("No drafts yet.")).toBeTruthy();
  });

  it("shows the API's detail when the templates cannot be loaded", async () => {
    renderGenerate({
      listTemplates: async () => {
        throw new ApiError(problem({ status: 503, code: "database_unavailable", detail: "the database is down; retry" }));
      },
      listGenerations: noHistory,
    });
    expect((await screen.findByRole("alert")).textContent).toContain("the database is down; retry");
  });

  it("builds the form from the template named in the address, and switches templates", async () => {
    renderGenerate({ listTemplates: async () => page([email, social]), listGenerations: noHistory }, "/generate?template=t2");
    expect(((await screen.findByLabelText("Template")) as HTMLSelectElement).value).toBe("t2");
    expect(screen.getByLabelText("Product")).toBeTruthy();
    expect(screen.queryByLabelText("Topic")).toBeNull();

    fireEvent.change(screen.getByLabelText("Template"), { target: { value: "t1" } });
    expect(await screen.findByLabelText("Topic")).toBeTruthy();
    expect(screen.getByLabelText("Audience (optional)").tagName).toBe("TEXTAREA");
    expect(screen.getByText("Up to 300 characters")).toBeTruthy();
  });

  it("says so when the template in the address is not among the organization's", async () => {
    renderGenerate({ listTemplates: async () => page([email]), listGenerations: noHistory }, "/generate?template=t_gone");
    expect(await screen.findByText(/The template in the address no longer exists/)).toBeTruthy();
    expect(((screen.getByLabelText("Template")) as HTMLSelectElement).value).toBe("t1");
  });

  it("offers templates from every page of the list", async () => {
    const listTemplates = vi
      .fn()
      .mockResolvedValueOnce(page([email], "cur2"))
      .mockResolvedValueOnce(page([social]));
    renderGenerate({ listTemplates, listGenerations: noHistory }, "/generate?template=t2");
    expect(await screen.findByLabelText("Product")).toBeTruthy();
    expect(listTemplates).toHaveBeenLastCalledWith({ limit: 100, cursor: "cur2" }, expect.anything());
  });

  it("requires required fields before asking the API", async () => {
    const generate = vi.fn();
    renderGenerate({ listTemplates: async () => page([email]), listGenerations: noHistory, generateStream: generate });
    fireEvent.click(await screen.findByRole("button", { name: "Generate draft" }));
    expect(screen.getByText("Topic is required.")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText("Topic"));
    expect(generate).not.toHaveBeenCalled();
  });

  it("generates a draft and shows it with clickable citations, sources, voice score and findings", async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    const draft = generation({ id: "g1" });
    const generate = vi.fn(async () => draft);
    renderGenerate({ listTemplates: async () => page([email]), listGenerations: noHistory, generateStream: generate });

    fireEvent.change(await screen.findByLabelText("Topic"), { target: { value: " pricing for teams " } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    const result = await screen.findByRole("region", { name: "New draft" });
    await within(result).findByRole("heading", { name: /Marketing email/ });
    expect(generate).toHaveBeenCalledWith(
      { template_id: "t1", inputs: { topic: "pricing for teams" }, k: 6 },
      expect.anything(),
      expect.objectContaining({ signal: expect.any(AbortSignal) }),
    );
    expect(within(result).getByText(/Our plan costs \$10 a month/)).toBeTruthy();
    const cite = within(result).getByRole("link", { name: "Source 1: Pricing" });
    expect(cite.getAttribute("href")).toBe("/library/ct1");
    expect(within(result).getByRole("link", { name: "Source 2: Refund policy" }).getAttribute("href")).toBe("/library/ct2");

    expect(within(result).getByText("80")).toBeTruthy();
    const findings = within(result).getByRole("list", { name: "Voice findings" });
    expect(findings.textContent).toContain('"synergy" is banned by the style guide');
    expect(findings.textContent).toContain("(−15)");

    const sources = within(result).getAllByRole("listitem").filter((li) => li.classList.contains("source-item"));
    expect(sources).toHaveLength(3);
    expect(sources[0]?.textContent).toContain("Plans start at $10.");
    expect(within(sources[0]!).getByRole("link", { name: /https:\/\/acme\.test\/pricing/ }).getAttribute("target")).toBe("_blank");
    expect(sources[2]?.textContent).toContain("not cited");

    fireEvent.click(within(result).getByRole("button", { name: "Copy Markdown" }));
    expect(await within(result).findByText("Copied as Markdown.")).toBeTruthy();
    expect(writeText).toHaveBeenCalledWith(expect.stringContaining("Our plan costs $10 a month [1]."));

    fireEvent.click(cite);
    expect(await screen.findByText("library item page")).toBeTruthy();
  });

  it("streams: the sources first, then the text as it is written, then the stored draft", async () => {
    let handlers: GenerateStreamHandlers = {};
    let finish: (g: Generation) => void = () => {};
    const generateStream = vi.fn((_request: unknown, h: GenerateStreamHandlers) => {
      handlers = h;
      return new Promise<Generation>((resolve) => (finish = resolve));
    });
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    const result = await screen.findByRole("region", { name: "New draft" });
    expect(within(result).getByRole("status").textContent).toBe("Retrieving sources…");
    expect(screen.getByRole("button", { name: "Generating…" })).toHaveProperty("disabled", true);

    act(() => handlers.onSources?.([{ n: 1, content_id: "ct1", chunk_id: "ch1", title: "Pricing", url: null }]));
    const sources = within(result).getByRole("region", { name: "Sources being drawn on" });
    expect(within(sources).getByRole("link", { name: "Pricing" }).getAttribute("href")).toBe("/library/ct1#chunk-ch1");
    expect(within(result).getByRole("status").textContent).toBe("Writing the draft…");
    expect(within(result).queryByLabelText("Draft so far")).toBeNull();

    act(() => handlers.onDelta?.("## Plans\n\nOur plan costs "));
    act(() => handlers.onDelta?.("$10 [1]."));
    const soFar = within(result).getByLabelText("Draft so far");
    expect(within(soFar).getByRole("heading", { name: "Plans" })).toBeTruthy();
    expect(soFar.textContent).toContain("Our plan costs $10 [1].");
    expect(within(soFar).getByRole("link", { name: "Source 1: Pricing" }).getAttribute("href")).toBe("/library/ct1#chunk-ch1");

    act(() => finish(generation({ id: "g1" })));
    expect(await within(result).findByRole("link", { name: "Permanent link to this draft" })).toBeTruthy();
    expect(within(result).queryByLabelText("Draft so far")).toBeNull();
  });

  it("cancels: the request is aborted and the form can be used again", async () => {
    let signal: AbortSignal | undefined;
    const generateStream = vi.fn(
      (_request: unknown, _h: unknown, options?: { signal?: AbortSignal }) =>
        new Promise<Generation>((_resolve, reject) => {
          signal = options?.signal;
          signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    fireEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    expect(signal?.aborted).toBe(true);
    expect(await screen.findByText("Cancelled: the draft was stopped before it was finished.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Generate draft" })).toHaveProperty("disabled", false);
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("after a 429 counts down the Retry-After seconds, then lets the user generate again", async () => {
    const generateStream = vi.fn(async () => {
      throw new ApiError(problem({ status: 429, code: "rate_limited", detail: "too many generation requests" }), { retryAfter: 1 });
    });
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    expect(await screen.findByText(/You can try again in/)).toBeTruthy();
    expect(screen.getByText("1 s")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Generate draft" })).toHaveProperty("disabled", true);
    await waitFor(() => expect(screen.getByRole("button", { name: "Generate draft" })).toHaveProperty("disabled", false), {
      timeout: 3_000,
    });
    expect(screen.queryByText(/You can try again in/)).toBeNull();
  });

  it("regenerates with the same request", async () => {
    const generateStream = vi
      .fn()
      .mockResolvedValueOnce(generation({ id: "g1" }))
      .mockResolvedValueOnce(generation({ id: "g2", output: "A second take [1]." }));
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    fireEvent.click(await screen.findByRole("button", { name: "Regenerate" }));
    expect(await screen.findByText(/A second take/)).toBeTruthy();
    expect(generateStream).toHaveBeenCalledTimes(2);
    expect(generateStream.mock.calls[1]![0]).toEqual(generateStream.mock.calls[0]![0]);
    expect(generateStream.mock.calls[1]![0]).toEqual({ template_id: "t2", inputs: { product: "Widgets" }, k: 6 });
  });

  it("says how to fix an empty library", async () => {
    const generate = vi.fn(async () => {
      throw new ApiError(
        problem({ status: 409, code: "library_empty", detail: "the library is empty: add your content first (crawl your website or add pages to the library), then generate" }),
      );
    });
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream: generate });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    expect((await screen.findByRole("alert")).textContent).toContain("the library is empty: add your content first");
    expect(screen.getByRole("link", { name: "Add content to the library" }).getAttribute("href")).toBe("/library");
  });

  it("says which limit a rate-limited generation hit and what to do", async () => {
    const generate = vi.fn(async () => {
      throw new ApiError(problem({ status: 429, code: "rate_limited", detail: "too many generation requests; retry in 12 s" }));
    });
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream: generate });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    expect((await screen.findByRole("alert")).textContent).toContain("retry in 12 s");
    expect(screen.getByText(/used its generations for the minute \(rate limit\)/)).toBeTruthy();
  });

  it("shows an input the API refuses beside that input", async () => {
    const generate = vi.fn(async () => {
      throw new ApiError(problem({ status: 400, code: "input_too_long", detail: "inputs.product: at most 100 characters" }));
    });
    renderGenerate({ listTemplates: async () => page([social]), listGenerations: noHistory, generateStream: generate });
    fireEvent.change(await screen.findByLabelText("Product"), { target: { value: "Widgets" } });
    fireEvent.click(screen.getByRole("button", { name: "Generate draft" }));

    expect(await screen.findByText("at most 100 characters")).toBeTruthy();
    expect(screen.getByLabelText("Product").getAttribute("aria-invalid")).toBe("true");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("lists past drafts newest first and loads more with the next cursor", async () => {
    const listGenerations = vi
      .fn()
      .mockResolvedValueOnce(page([generation({ id: "g2", output: "Second **draft** [1] about teams." })], "cur2"))
      .mockResolvedValueOnce(page([generation({ id: "g1", output: "First draft.", voice: { score: 40, findings: [] } })]));
    renderGenerate({ listTemplates: async () => page([email]), listGenerations });

    const table = await screen.findByRole("table", { name: "Past drafts, newest first" });
    expect(within(table).getByRole("link", { name: "Second draft about teams." }).getAttribute("href")).toBe("/generations/g2");
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await within(table).findByRole("link", { name: "First draft." })).toBeTruthy();
    expect(listGenerations).toHaveBeenLastCalledWith({ limit: 20, cursor: "cur2" }, expect.anything());
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("shows the API's detail when past drafts cannot be loaded", async () => {
    renderGenerate({
      listTemplates: async () => page([email]),
      listGenerations: async () => {
        throw new ApiError(problem({ status: 500, code: "internal_error", detail: "internal error", request_id: "req_9" }));
      },
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not load past drafts");
    expect(alert.textContent).toContain("req_9");
  });
});

describe("GenerationPage", () => {
  it("shows one stored draft", async () => {
    renderGenerate({ getGeneration: async () => generation({ id: "g1" }) }, "/generations/g1");
    expect(await screen.findByRole("heading", { name: /Marketing email/ })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Source 1: Pricing" })).toBeTruthy();
  });

  it("shows another organization's draft as not found, as the API says it", async () => {
    renderGenerate(
      {
        getGeneration: async () => {
          throw new ApiError(problem({ status: 404, code: "not_found", detail: "generation was not found" }));
        },
      },
      "/generations/g_other",
    );
    expect((await screen.findByRole("alert")).textContent).toContain("generation was not found");
  });
});

describe("excerpt", () => {
  it("drops markers and Markdown marks and shortens long drafts", () => {
    expect(excerpt("# Title\n\nHello [1] **world**")).toBe("Title Hello world");
    expect(excerpt("a".repeat(200), 10)).toBe("aaaaaaaaa…");
    expect(excerpt("[1]")).toBe("Empty draft");
  });
});
