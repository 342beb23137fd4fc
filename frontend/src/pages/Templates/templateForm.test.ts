import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { problem, template } from "../../test/fixtures";
import { derivedFields, emptyTemplateForm, errorsFromProblem, formFromTemplate, parseTemplateForm, placeholderNames } from "./templateForm";

describe("placeholderNames", () => {
  it("lists each placeholder once, in order of first use, spaces inside braces allowed", () => {
    expect(placeholderNames("{{b}} and {{ a }} then {{b}}")).toEqual({ names: ["b", "a"] });
  });

  it("says what is wrong with an unclosed or invalid placeholder, as the API would refuse it", () => {
    expect(placeholderNames("Hi {{name").error).toMatch(/never closed/);
    expect(placeholderNames("Hi {{Name}}").error).toMatch(/\{\{Name\}\} is not a placeholder/);
    expect(placeholderNames("Hi {{1x}}").error).toMatch(/not a placeholder/);
  });
});

describe("derivedFields", () => {
  it("keeps a declared field the instructions no longer use, marked unused", () => {
    const values = formFromTemplate(template({ id: "t", instructions: "About {{topic}}." }));
    expect(derivedFields(values).map((f) => [f.name, f.used, f.label])).toEqual([
      ["topic", true, "Topic"],
      ["audience", false, "Audience"],
    ]);
  });
});

describe("parseTemplateForm", () => {
  it("checks bounds like the API", () => {
    const parsed = parseTemplateForm({ ...emptyTemplateForm, name: "x", instructions: "Go", targetLength: "5", tone: "t".repeat(201) });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors.targetLength).toMatch(/10 to 5,000/);
      expect(parsed.errors.tone).toMatch(/200/);
    }
  });
});

describe("errorsFromProblem", () => {
  const err = (code: string, detail: string, status = 400) => new ApiError(problem({ status, code, detail }));

  it("places top-level, indexed and name problems beside their control", () => {
    expect(errorsFromProblem(err("invalid_template", "target_length: must be 10 to 5000 words"), [])).toEqual({
      targetLength: "must be 10 to 5000 words",
    });
    expect(errorsFromProblem(err("invalid_template", "fields[1].max_length: must be 1 to 10000"), ["a", "b"])).toEqual({
      "field.b.maxLength": "must be 1 to 10000",
    });
    expect(
      errorsFromProblem(err("unknown_placeholder", "instructions: placeholder `{{x}}` is not a declared field"), []),
    ).toEqual({ instructions: "placeholder `{{x}}` is not a declared field" });
    expect(errorsFromProblem(err("template_name_taken", "a template named \"A\" already exists", 409), [])?.name).toMatch(
      /Choose another name/,
    );
  });

  it("leaves problems that name no control to the form-level error", () => {
    expect(errorsFromProblem(err("rate_limited", "slow down", 429), [])).toBeNull();
    expect(errorsFromProblem(err("invalid_body", "expected a string"), [])).toBeNull();
  });
});
