import { describe, expect, it } from "vitest";
import { metric } from "../../test/fixtures";
import { activityEnd, activitySeries, chartableMetrics, dateWindow, niceMax } from "./activity";

describe("activityEnd", () => {
  it("is today for the current month, as the API counts it", () => {
    expect(activityEnd("2026-11", new Date("2026-11-29T07:00:00Z"))).toBe("2026-11-29");
  });

  it("is the period's last day for a past month", () => {
    expect(activityEnd("2026-10", new Date("2026-11-29T07:00:00Z"))).toBe("2026-10-31");
    expect(activityEnd("2024-02", new Date("2026-11-29T07:00:00Z"))).toBe("2024-02-29");
  });
});

describe("dateWindow", () => {
  it("lists 30 days ending on the end date, across a month boundary", () => {
    const days = dateWindow("2026-11-05");
    expect(days).toHaveLength(30);
    expect(days[0]).toBe("2026-10-07");
    expect(days.at(-1)).toBe("2026-11-05");
  });
});

describe("activitySeries", () => {
  const daily = [
    { date: "2026-11-28", metric: "crawls", value: 2 },
    { date: "2026-11-28", metric: "api_calls", value: 40 },
    { date: "2026-11-01", metric: "crawls", value: 1 },
    { date: "2026-09-01", metric: "crawls", value: 99 },
  ];

  it("fills days without figures with 0 and keeps one metric", () => {
    const series = activitySeries(daily, "crawls", "2026-11-29");
    expect(series.days).toHaveLength(30);
    expect(series.days.find((d) => d.date === "2026-11-28")?.value).toBe(2);
    expect(series.days.find((d) => d.date === "2026-11-01")?.value).toBe(1);
    expect(series.days.filter((d) => d.value === 0)).toHaveLength(28);
    expect(series.total).toBe(3);
    expect(series.max).toBe(2);
  });

  it("counts only figures inside the window", () => {
    expect(activitySeries(daily, "crawls", "2026-11-29").total).toBe(3);
    expect(activitySeries(daily, "crawls", "2026-09-15").total).toBe(99);
  });

  it("is all zeros for a metric with no figures", () => {
    const series = activitySeries([], "crawls", "2026-11-29");
    expect(series.total).toBe(0);
    expect(series.max).toBe(0);
    expect(series.days.every((d) => d.value === 0)).toBe(true);
  });
});

describe("chartableMetrics", () => {
  it("offers only metrics with figures, API calls and crawls first", () => {
    const daily = [
      { date: "2026-11-28", metric: "tokens", value: 900 },
      { date: "2026-11-28", metric: "crawls", value: 1 },
      { date: "2026-11-28", metric: "api_calls", value: 4 },
      { date: "2026-11-28", metric: "mystery", value: 4 },
    ];
    expect(chartableMetrics(daily, [metric({ metric: "users" })])).toEqual(["api_calls", "crawls", "tokens", "mystery"]);
    expect(chartableMetrics([])).toEqual([]);
  });
});

describe("niceMax", () => {
  it("rounds up to 1, 2 or 5 times a power of ten", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(11)).toBe(20);
    expect(niceMax(420)).toBe(500);
  });
});
