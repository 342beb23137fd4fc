import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type VoiceForgeApi } from "../../api/client";
import { currentOrganization, fakeApi, problem, styleGuide, voice } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { guideErrorsFromProblem, parseGuideForm } from "./guideForm";
import { readingEase, VoicePage } from "./VoicePage";

const never = <T,>() => new Promise<T>(() => {});
const admin = async () => currentOrganization({ role: "admin" });
const member = async () => currentOrganization({ role: "member", user: { id: "user_mo" } });
const guide = styleGuide({
  tone: ["warm", "plain-spoken"],
  preferred_terms: [{ term: "customers", replacement: "members" }],
  banned_words: ["synergy"],
  do_examples: ["We keep it short."],
  dont_examples: ["Leverage our synergies!"],
  updated_by: "user_alice",
  updated_at: "2026-11-29T07:00:00Z",
});

function renderVoice(overrides: Partial<VoiceForgeApi>) {
  return renderWithApi(<VoicePage />, { api: fakeApi(overrides), route: "/voice" });
}

describe("VoicePage", () => {
  it("shows a loading state", async () => {
    renderVoice({ getCurrentOrganization: admin, getVoice: never });
    expect(await screen.findByText("Loading your voice…")).toBeTruthy();
  });

  it("shows the API's detail when the voice cannot be loaded", async () => {
    renderVoice({
      getCurrentOrganization: admin,
      getVoice: async () => {
        throw new ApiError(problem({ status: 503, code: "database_unavailable", detail: "the database is down; retry" }));
      },
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not load the voice profile");
    expect(alert.textContent).toContain("the database is down; retry");
  });

  it("explains that the profile comes from the library while it is empty", async () => {
    renderVoice({ getCurrentOrganization: admin, getVoice: async () => voice({ profile: null }) });
    expect(await screen.findByText("No voice profile yet.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Add content" }).getAttribute("href")).toBe("/library");
  });

  it("shows the measured figures, histogram and distinctive terms", async () => {
    renderVoice({ getCurrentOrganization: member, getVoice: async () => voice({ guide }) });
    const figures = await screen.findByRole("list", { name: "Voice figures" });
    const text = figures.textContent ?? "";
    expect(text).toContain("Words per sentence18");
    expect(text).toContain("most between 8 and 29");
    expect(text).toContain("plain English");
    expect(text).toContain("First person plural (we)");
    expect(text).toContain("Speaks to the reader");
    expect(text).toContain("5%");
    const histogram = screen.getByRole("list", { name: "Sentences by length in words" });
    expect(within(histogram).getAllByRole("listitem").map((li) => li.textContent)).toContain("15-21 words350");
    expect(screen.getByRole("list", { name: "Distinctive terms" }).textContent).toContain("workspace");
    expect(screen.getByRole("list", { name: "Distinctive phrases" }).textContent).toContain("brand voice");
    expect(screen.getByText(/From 42 library items, 18,250 words in 1,012 sentences/)).toBeTruthy();
  });

  it("shows members the style guide read-only, with who changed it", async () => {
    renderVoice({ getCurrentOrganization: member, getVoice: async () => voice({ guide }) });
    expect(await screen.findByText("Only admins can change the style guide.")).toBeTruthy();
    expect(screen.queryByRole("form", { name: "Style guide" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Save style guide" })).toBeNull();
    expect(screen.getByText("warm, plain-spoken")).toBeTruthy();
    expect(screen.getByText("write “members” instead of “customers”")).toBeTruthy();
    expect(screen.getByText("Leverage our synergies!")).toBeTruthy();
    expect(screen.getByText("user_alice")).toBeTruthy();
  });

  it("tells members when there is no style guide yet", async () => {
    renderVoice({ getCurrentOrganization: member, getVoice: async () => voice() });
    expect(await screen.findByText("No style guide yet.")).toBeTruthy();
  });

  it("lets admins edit and save the whole guide", async () => {
    const putStyleGuide = vi.fn(async () => ({ ...guide, tone: ["warm", "direct"], updated_at: "2026-11-29T09:00:00Z" }));
    renderVoice({ getCurrentOrganization: admin, getVoice: async () => voice({ guide }), putStyleGuide });
    const form = await screen.findByRole("form", { name: "Style guide" });
    expect((within(form).getByLabelText("Tone") as HTMLInputElement).value).toBe("warm, plain-spoken");

    fireEvent.change(within(form).getByLabelText("Tone"), { target: { value: "warm, direct ," } });
    fireEvent.click(within(form).getByRole("button", { name: "Add a preferred term" }));
    fireEvent.change(within(form).getByLabelText("Instead of (term 2)"), { target: { value: " utilize " } });
    fireEvent.change(within(form).getByLabelText("Write (term 2)"), { target: { value: "use" } });
    fireEvent.change(within(form).getByLabelText("Banned words"), { target: { value: "synergy\n\nleverage\n" } });
    fireEvent.change(within(form).getByLabelText("Write like this"), { target: { value: "We keep it short.\n\nWe say what we mean.\nAlways." } });
    fireEvent.click(within(form).getByRole("button", { name: "Save style guide" }));

    await vi.waitFor(() => expect(putStyleGuide).toHaveBeenCalled());
    expect(putStyleGuide).toHaveBeenCalledWith({
      tone: ["warm", "direct"],
      preferred_terms: [
        { term: "customers", replacement: "members" },
        { term: "utilize", replacement: "use" },
      ],
      banned_words: ["synergy", "leverage"],
      do_examples: ["We keep it short.", "We say what we mean.\nAlways."],
      dont_examples: ["Leverage our synergies!"],
    });
    expect(await within(form).findByText("Saved.")).toBeTruthy();
    expect((within(form).getByLabelText("Tone") as HTMLInputElement).value).toBe("warm, direct");
  });

  it("checks the guide's bounds before sending and shows the API's invalid_guide beside its section", async () => {
    const putStyleGuide = vi.fn(async () => {
      throw new ApiError(problem({ status: 400, code: "invalid_guide", detail: "banned_words[1]: at most 60 characters" }));
    });
    renderVoice({ getCurrentOrganization: admin, getVoice: async () => voice(), putStyleGuide });
    const form = await screen.findByRole("form", { name: "Style guide" });

    fireEvent.click(within(form).getByRole("button", { name: "Add a preferred term" }));
    fireEvent.change(within(form).getByLabelText("Instead of (term 1)"), { target: { value: "customers" } });
    fireEvent.click(within(form).getByRole("button", { name: "Save style guide" }));
    expect(within(form).getByText(/needs both the word to avoid and its replacement/)).toBeTruthy();
    expect(putStyleGuide).not.toHaveBeenCalled();

    fireEvent.click(within(form).getByRole("button", { name: "Remove term 1" }));
    fireEvent.change(within(form).getByLabelText("Banned words"), { target: { value: "a\nb" } });
    fireEvent.click(within(form).getByRole("button", { name: "Save style guide" }));
    expect(await within(form).findByText("Entry 2: at most 60 characters")).toBeTruthy();
    expect(within(form).getByLabelText("Banned words").getAttribute("aria-invalid")).toBe("true");
  });

  it("shows why a save was refused when the API names no section", async () => {
    const putStyleGuide = vi.fn(async () => {
      throw new ApiError(problem({ status: 403, code: "admin_required", detail: "only organization admins can do this" }));
    });
    renderVoice({ getCurrentOrganization: admin, getVoice: async () => voice(), putStyleGuide });
    fireEvent.click(await screen.findByRole("button", { name: "Save style guide" }));
    expect((await screen.findByRole("alert")).textContent).toContain("only organization admins can do this");
  });

  it("checks any text against the voice", async () => {
    const checkVoice = vi.fn(async () => ({
      score: 85,
      findings: [{ kind: "preferred_term", message: 'write "members" instead of "customers"', start: 0, end: 9, text: "customers", penalty: 5 }],
    }));
    renderVoice({ getCurrentOrganization: member, getVoice: async () => voice(), checkVoice });
    const form = await screen.findByRole("form", { name: "Check a text" });
    fireEvent.click(within(form).getByRole("button", { name: "Check voice" }));
    expect(within(form).getByText("Paste a text to check.")).toBeTruthy();

    fireEvent.change(within(form).getByLabelText("Text"), { target: { value: "customers love us" } });
    fireEvent.click(within(form).getByRole("button", { name: "Check voice" }));
    const result = await screen.findByRole("region", { name: "Voice check result" });
    expect(result.textContent).toContain("85");
    expect(result.textContent).toContain('write "members" instead of "customers"');
    expect(checkVoice).toHaveBeenCalledWith("customers love us");
  });
});

describe("guide form", () => {
  it("names the entry of a problem by its position", () => {
    const error = new ApiError(problem({ status: 400, code: "invalid_guide", detail: "preferred_terms[0].term: 1 to 60 characters" }));
    expect(guideErrorsFromProblem(error)).toEqual({ preferredTerms: "Entry 1: 1 to 60 characters" });
  });

  it("refuses more tone words than the API allows", () => {
    const parsed = parseGuideForm({
      tone: Array.from({ length: 11 }, (_, i) => `t${i}`).join(","),
      preferredTerms: [],
      bannedWords: "",
      doExamples: "",
      dontExamples: "",
    });
    expect(parsed.ok ? null : parsed.errors.tone).toBe("At most 10 tone words.");
  });

  it("describes reading ease in words", () => {
    expect(readingEase(61.2)).toBe("plain English");
    expect(readingEase(95)).toBe("very easy");
    expect(readingEase(10)).toBe("very difficult");
  });
});
