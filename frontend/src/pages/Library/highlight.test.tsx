import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { HighlightedText, highlightPieces } from "./highlight";

/** The pieces as a compact string: marked runs in [brackets]. */
const show = (text: string, highlights: readonly unknown[] | null | undefined) =>
  highlightPieces(text, highlights)
    .map((p) => (p.marked ? `[${p.text}]` : p.text))
    .join("");

describe("highlightPieces", () => {
  it("marks [start, end) ranges and keeps the text between them", () => {
    expect(show("Customers may return items within 30 days.", [[14, 20], [27, 33]])).toBe(
      "Customers may [return] items [within] 30 days.",
    );
    expect(show("return it", [[0, 6]])).toBe("[return] it");
    expect(show("it returns", [[3, 10]])).toBe("it [returns]");
  });

  it("leaves the text whole without highlights", () => {
    expect(highlightPieces("plain", [])).toEqual([{ text: "plain", marked: false }]);
    expect(highlightPieces("plain", null)).toEqual([{ text: "plain", marked: false }]);
    expect(highlightPieces("", [[0, 3]])).toEqual([{ text: "", marked: false }]);
  });

  it("counts offsets in UTF-16 code units, as the API sends them, so emoji before a word keep it aligned", () => {
    // From the API: "😀" is two code units, so "return" starts at 34, not 33.
    const snippet = "Returns 1 Policy Customers 😀 may return any item within 30 days.";
    expect(snippet.indexOf("return")).toBe(34);
    expect(show(snippet, [[0, 7], [34, 40]])).toBe("[Returns] 1 Policy Customers 😀 may [return] any item within 30 days.");
    // A family emoji is three surrogate pairs joined by two zero-width joiners: 8 code units.
    const family = "café 👩‍👩‍👧 naïve";
    expect(family.indexOf("naïve")).toBe(14);
    expect(show(family, [[0, 4], [14, 19]])).toBe("[café] 👩‍👩‍👧 [naïve]");
  });

  it("never splits an emoji: an edge inside a surrogate pair takes the whole character", () => {
    const text = "a😀b";
    expect(show(text, [[2, 4]])).toBe("a[😀b]");
    expect(show(text, [[0, 2]])).toBe("[a😀]b");
    const pieces = highlightPieces(text, [[2, 3]]);
    expect(pieces.every((p) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(p.text))).toBe(true);
  });

  it("merges overlapping, nested, touching and repeated ranges, in any order", () => {
    expect(show("abcdefghij", [[5, 8], [0, 3], [2, 4]])).toBe("[abcd]e[fgh]ij");
    expect(show("abcdefghij", [[1, 9], [2, 3]])).toBe("a[bcdefghi]j");
    expect(show("abcdefghij", [[1, 3], [3, 5]])).toBe("a[bcde]fghij");
    expect(show("abcdefghij", [[1, 3], [1, 3]])).toBe("a[bc]defghij");
  });

  it("clamps ranges that run past either end and drops empty, reversed and malformed ones", () => {
    expect(show("abcdef", [[-5, 2], [4, 99]])).toBe("[ab]cd[ef]");
    expect(show("abcdef", [[10, 20], [3, 3], [4, 2], [-3, -1]])).toBe("abcdef");
    expect(show("abcdef", [[Number.NaN, 2], ["1", "3"], [1], null, "x", { 0: 1, 1: 2 }, [0, Infinity]])).toBe("[abcdef]");
    expect(show("abcdef", [[1.5, 2.2]])).toBe("a[bc]def");
  });
});

describe("HighlightedText", () => {
  it("puts the matched words in <mark> and renders markup in the snippet as text", () => {
    const { container } = render(
      <p>
        <HighlightedText text={'Use <b>bold</b> & "quotes" 😀 here'} highlights={[[4, 7], [30, 34], [4, 6]]} />
      </p>,
    );
    const marks = [...container.querySelectorAll("mark")].map((m) => m.textContent);
    expect(marks).toEqual(["<b>", "here"]);
    expect(container.querySelector("b")).toBeNull();
    expect(container.textContent).toBe('Use <b>bold</b> & "quotes" 😀 here');
  });
});
