import { describe, expect, it } from "vitest";
import { metric, usageReport } from "../test/fixtures";
import { levelForPercent, metricLevel, usagePercent, usageWarnings } from "./warnings";

describe("usage thresholds", () => {
  it.each([
    [0, "ok"],
    [79.99, "ok"],
    [80, "warning"],
    [99.99, "warning"],
    [100, "limit_reached"],
    [250, "limit_reached"],
  ] as const)("%s percent is %s", (percent, level) => {
    expect(levelForPercent(percent)).toBe(level);
  });

  it("treats an unlimited metric as ok whatever its use", () => {
    const unlimited = metric({ metric: "tokens", used: 1_000_000, limit: null, percent: null });
    expect(usagePercent(unlimited)).toBeNull();
    expect(metricLevel(unlimited)).toBe("ok");
  });

  it("computes the percent from used and limit, not the server's rounded percent", () => {
    // 799/1000 is 79.9%: the server might round it to 80, but it is not yet a warning.
    const almost = metric({ metric: "content_items", used: 799, limit: 1000, percent: 80 });
    expect(usagePercent(almost)).toBeCloseTo(79.9);
    expect(metricLevel(almost)).toBe("ok");
    expect(metricLevel({ ...almost, used: 800 })).toBe("warning");
    expect(metricLevel({ ...almost, used: 1000 })).toBe("limit_reached");
    expect(metricLevel({ ...almost, used: 1200 })).toBe("limit_reached");
  });

  it("counts a zero limit as reached", () => {
    expect(metricLevel(metric({ metric: "crawls", used: 0, limit: 0 }))).toBe("limit_reached");
  });
});

describe("usageWarnings", () => {
  it("lists metrics at 80% and 100%, limits reached first", () => {
    const warnings = usageWarnings(usageReport());
    expect(warnings.map((w) => [w.metric, w.level])).toEqual([
      ["crawls", "limit_reached"],
      ["content_items", "warning"],
    ]);
    expect(warnings[0]?.message).toBe("Crawls this month: limit reached (10 of 10 used).");
    expect(warnings[1]?.message).toBe("Content items: 80% of the limit used (800 of 1,000).");
  });

  it("prefers the server's message and keeps one warning per metric, the most severe", () => {
    const warnings = usageWarnings(
      usageReport({
        warnings: [
          { metric: "content_items", level: "warning", message: "You have used 80% of your content items." },
          { metric: "crawls", level: "warning", message: "Stale warning." },
        ],
      }),
    );
    expect(warnings).toEqual([
      { metric: "crawls", level: "limit_reached", message: "Crawls this month: limit reached (10 of 10 used)." },
      { metric: "content_items", level: "warning", message: "You have used 80% of your content items." },
    ]);
  });

  it("keeps server warnings for metrics it does not list", () => {
    const warnings = usageWarnings({
      metrics: [],
      warnings: [{ metric: "seats", level: "limit_reached", message: "All seats are taken." }],
    });
    expect(warnings).toEqual([{ metric: "seats", level: "limit_reached", message: "All seats are taken." }]);
  });

  it("is empty when everything is under 80%", () => {
    const report = usageReport({
      metrics: [metric({ metric: "users", used: 3, limit: 5 }), metric({ metric: "tokens", used: 9_999 })],
    });
    expect(usageWarnings(report)).toEqual([]);
  });
});
