// What a user can do when the organization reaches a limit: delete items, wait for the month
// to turn, or ask one of the organization's admins (by name where the members list has one).

import type { OrganizationMember, Role } from "../api/types";
import { formatNumber } from "../format";

/** The limited actions the app offers a button for. */
export type LimitedMetric = "crawls" | "content_items";

export interface LimitContext {
  /** The limit, when the usage report has been read. */
  limit?: number | null;
  /** The usage report's month, `YYYY-MM`. */
  period?: string;
  /** The organization's admins, from the members list (empty while unknown). */
  admins: Pick<OrganizationMember, "user_id" | "name" | "email">[];
  /** The signed-in user, when known. */
  me?: { id: string; role: Role };
}

const dayFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** The first day of the month after `period` (`YYYY-MM`, UTC), when monthly counts start again. */
export function monthTurn(period: string): Date | null {
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]), 1)) : null;
}

/** An admin as people know them: name and email, or whichever there is, or the user id. */
export function adminLabel(admin: Pick<OrganizationMember, "user_id" | "name" | "email">): string {
  if (admin.name && admin.email) return `${admin.name} (${admin.email})`;
  return admin.name ?? admin.email ?? admin.user_id;
}

/** The admins to ask, the user left out, at most three named. */
function whomToAsk(context: LimitContext): string {
  const others = context.admins.filter((a) => a.user_id !== context.me?.id).map(adminLabel);
  if (others.length === 0) {
    return context.me?.role === "admin"
      ? "or, as the organization's admin, ask VoiceForge for a higher limit"
      : "or ask an admin of your organization about a higher limit";
  }
  const named = others.length > 3 ? `${others.slice(0, 3).join(", ")} and ${others.length - 3} more` : joinAnd(others);
  return `or ask an admin of your organization (${named}) about a higher limit`;
}

function joinAnd(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** What the user can do once `metric` is at its limit; never points at anyone they cannot reach. */
export function limitReachedAdvice(metric: LimitedMetric, context: LimitContext): string {
  const limit = typeof context.limit === "number" ? formatNumber(context.limit) : null;
  const ask = whomToAsk(context);
  if (metric === "crawls") {
    const turn = context.period ? monthTurn(context.period) : null;
    const started = limit ? `all ${limit} of this month's crawls` : "all of this month's crawls";
    const again = turn ? `on ${dayFormat.format(turn)}` : "when the month turns";
    return `This organization has started ${started}. You can start crawls again ${again}, ${ask}.`;
  }
  const holds = limit ? `all ${limit} items it may hold` : "all the items it may hold";
  const yours = context.me?.role === "member" ? "items you added and" : "items you";
  return `The library holds ${holds}. Delete ${yours} no longer need to make room, ${ask}.`;
}
