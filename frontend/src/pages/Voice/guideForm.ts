// The style guide editor's model: lists as people type them (tone by commas, banned words by
// line, examples by blank line), the API's bounds checked before sending, and the API's
// `invalid_guide` detail ("tone[2]: …") placed beside its section.

import { fieldProblem } from "../../api/problemField";
import type { StyleGuide } from "../../api/types";

export interface GuideFormValues {
  tone: string;
  preferredTerms: { term: string; replacement: string }[];
  bannedWords: string;
  doExamples: string;
  dontExamples: string;
}

export type GuideSection = "tone" | "preferredTerms" | "bannedWords" | "doExamples" | "dontExamples";
export type GuideErrors = Partial<Record<GuideSection, string>>;

const SECTION_OF: Record<string, GuideSection> = {
  tone: "tone",
  preferred_terms: "preferredTerms",
  banned_words: "bannedWords",
  do_examples: "doExamples",
  dont_examples: "dontExamples",
};

export function formFromGuide(guide: StyleGuide): GuideFormValues {
  return {
    tone: guide.tone.join(", "),
    preferredTerms: guide.preferred_terms.map((p) => ({ ...p })),
    bannedWords: guide.banned_words.join("\n"),
    doExamples: guide.do_examples.join("\n\n"),
    dontExamples: guide.dont_examples.join("\n\n"),
  };
}

const clean = (items: string[]) => items.map((s) => s.trim()).filter((s) => s !== "");
const splitExamples = (text: string) => clean(text.split(/\n\s*\n/));
const chars = (s: string) => [...s].length;

function checkList(items: string[], maxItems: number, maxChars: number, noun: string): string | undefined {
  if (items.length > maxItems) return `At most ${maxItems} ${noun}.`;
  const long = items.find((s) => chars(s) > maxChars);
  return long ? `“${long.slice(0, 30)}${chars(long) > 30 ? "…" : ""}” is over ${maxChars} characters.` : undefined;
}

/** The guide to send, or what each section breaks (bounds from docs/API.md). */
export function parseGuideForm(values: GuideFormValues): { ok: true; guide: StyleGuide } | { ok: false; errors: GuideErrors } {
  const guide: StyleGuide = {
    tone: clean(values.tone.split(/[,\n]/)),
    preferred_terms: values.preferredTerms
      .map((p) => ({ term: p.term.trim(), replacement: p.replacement.trim() }))
      .filter((p) => p.term !== "" || p.replacement !== ""),
    banned_words: clean(values.bannedWords.split("\n")),
    do_examples: splitExamples(values.doExamples),
    dont_examples: splitExamples(values.dontExamples),
  };
  const errors: GuideErrors = {};
  const tone = checkList(guide.tone, 10, 40, "tone words");
  if (tone) errors.tone = tone;
  if (guide.preferred_terms.length > 100) errors.preferredTerms = "At most 100 preferred terms.";
  else if (guide.preferred_terms.some((p) => p.term === "" || p.replacement === "")) {
    errors.preferredTerms = "Each preferred term needs both the word to avoid and its replacement.";
  } else if (guide.preferred_terms.some((p) => chars(p.term) > 60 || chars(p.replacement) > 60)) {
    errors.preferredTerms = "Terms and replacements are at most 60 characters.";
  }
  const banned = checkList(guide.banned_words, 200, 60, "banned words");
  if (banned) errors.bannedWords = banned;
  const dos = checkList(guide.do_examples, 20, 1000, "examples");
  if (dos) errors.doExamples = dos;
  const donts = checkList(guide.dont_examples, 20, 1000, "examples");
  if (donts) errors.dontExamples = donts;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, guide };
}

/** `invalid_guide` names its entry (`preferred_terms[1].term: …`); place it by section. */
export function guideErrorsFromProblem(error: unknown): GuideErrors | null {
  const problem = fieldProblem(error);
  if (!problem) return null;
  const section = SECTION_OF[problem.path.replace(/[[.].*$/, "")];
  if (!section) return null;
  const entry = /\[(\d+)\]/.exec(problem.path);
  return { [section]: entry ? `Entry ${Number(entry[1]) + 1}: ${problem.message}` : problem.message };
}
