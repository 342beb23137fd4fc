// Display formatting in the reader's locale.

const numberFormat = new Intl.NumberFormat();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const monthFormat = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

export function formatNumber(value: number): string {
  return numberFormat.format(value);
}

/** Rounded down, so a meter never reads "80%" or "100%" before it crosses that threshold. */
export function formatPercent(value: number): string {
  if (value > 0 && value < 1) return "<1%";
  return `${Math.floor(value)}%`;
}

/** An RFC 3339 timestamp as a date; the raw text if it does not parse. */
export function formatDate(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : dateFormat.format(time);
}

/** An RFC 3339 timestamp as date and time; the raw text if it does not parse. */
export function formatDateTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : dateTimeFormat.format(time);
}

/** `2026-11` → "November 2026". */
export function formatPeriod(period: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  if (!match) return period;
  return monthFormat.format(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
}

/** The current month and the `count - 1` before it, newest first, as `YYYY-MM`. */
export function recentPeriods(count: number, now: Date = new Date()): string[] {
  const periods: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    periods.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return periods;
}

/**
 * A remaining duration in words: "less than a minute left", "about 4 minutes left", "about
 * 2 hours left". Rounded, because an estimate that reads "13 minutes 41 seconds" promises more
 * than it knows.
 */
export function formatTimeLeft(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 50) return "less than a minute left";
  const minutes = Math.round(seconds / 60);
  if (minutes <= 1) return "about a minute left";
  if (minutes < 55) return `about ${minutes} minutes left`;
  const hours = Math.round(seconds / 3600);
  if (hours <= 1) return "about an hour left";
  if (hours < 36) return `about ${hours} hours left`;
  const days = Math.round(seconds / 86_400);
  return `about ${days} days left`;
}
