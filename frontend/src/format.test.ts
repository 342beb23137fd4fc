import { describe, expect, it } from "vitest";
import { formatTimeLeft } from "./format";

describe("formatTimeLeft", () => {
  it("rounds an estimate to words a reader can use", () => {
    expect(formatTimeLeft(0)).toBe("less than a minute left");
    expect(formatTimeLeft(12)).toBe("less than a minute left");
    expect(formatTimeLeft(75)).toBe("about a minute left");
    expect(formatTimeLeft(240)).toBe("about 4 minutes left");
    expect(formatTimeLeft(854)).toBe("about 14 minutes left");
    expect(formatTimeLeft(3300)).toBe("about an hour left");
    expect(formatTimeLeft(3 * 3600 + 600)).toBe("about 3 hours left");
    expect(formatTimeLeft(3 * 86_400)).toBe("about 3 days left");
  });

  it("says nothing for a value that is not a duration", () => {
    expect(formatTimeLeft(-1)).toBe("");
    expect(formatTimeLeft(Number.NaN)).toBe("");
  });
});
