import { useCurrentOrganization, useOrganizationMembers } from "../../api/queries";
import type { OrganizationMember, Seats } from "../../api/types";
import { MeterBar } from "../../components/MeterBar";
import { PageHeader } from "../../components/PageHeader";
import { RoleBadge } from "../../components/RoleBadge";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDate, formatNumber } from "../../format";
import { levelForPercent } from "../../usage/warnings";
import "./team.css";

export function TeamPage() {
  const current = useCurrentOrganization();
  const members = useOrganizationMembers();
  const isAdmin = current.data?.role === "admin";
  const viewerId = current.data?.user.id;

  let body;
  if (members.isPending) {
    body = <LoadingState label="Loading members…" />;
  } else if (!members.data) {
    body = (
      <ErrorState error={members.error} title="Could not load members" onRetry={() => void members.refetch()} />
    );
  } else {
    const pages = members.data.pages;
    const rows = pages.flatMap((page) => page.items);
    const seats = pages[pages.length - 1]?.seats ?? pages[0]?.seats;
    const overLimit = rows.filter((m) => m.over_limit).length;
    body = (
      <>
        {seats ? <SeatSummary seats={seats} /> : null}
        {isAdmin && overLimit > 0 ? (
          <div className="notice notice-warning" role="note">
            {overLimit === 1 ? "1 member is" : `${overLimit} members are`} beyond the organization&apos;s
            seat limit{seats ? ` of ${formatNumber(seats.limit)}` : ""} and marked below. Remove members
            who no longer need access, or raise the limit, to give them a seat.
          </div>
        ) : null}
        {rows.length === 0 ? (
          <EmptyState title="No members yet.">Members appear here once they sign in to this organization.</EmptyState>
        ) : (
          <MembersTable members={rows} markOverLimit={isAdmin} viewerId={viewerId} />
        )}
        {members.isFetchNextPageError ? (
          <ErrorState error={members.error} title="Could not load more members" />
        ) : null}
        {members.hasNextPage ? (
          <button
            type="button"
            className="button button-secondary"
            disabled={members.isFetchingNextPage}
            onClick={() => void members.fetchNextPage()}
          >
            {members.isFetchingNextPage ? "Loading…" : "Load more members"}
          </button>
        ) : null}
      </>
    );
  }

  return (
    <div className="page">
      <PageHeader title="Team" subtitle={current.data ? `Members of ${current.data.organization.name}` : undefined} />
      {body}
    </div>
  );
}

function SeatSummary({ seats }: { seats: Seats }) {
  const percent = seats.limit > 0 ? (seats.used / seats.limit) * 100 : 100;
  const level = levelForPercent(percent);
  const text = `${formatNumber(seats.used)} of ${formatNumber(seats.limit)} seats used`;
  return (
    <section className={`card seat-summary level-${level}`} aria-label="Seats">
      <p className="seat-summary-text">
        <strong>{formatNumber(seats.used)}</strong> of {formatNumber(seats.limit)} seats used
      </p>
      <MeterBar label="Seats used" percent={percent} level={level} valueText={text} />
    </section>
  );
}

function MembersTable({
  members,
  markOverLimit,
  viewerId,
}: {
  members: OrganizationMember[];
  markOverLimit: boolean;
  viewerId: string | undefined;
}) {
  return (
    <div className="table-wrap">
      <table className="table members-table">
        <caption className="sr-only">Organization members</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => {
            const flagged = markOverLimit && member.over_limit;
            return (
              <tr key={member.user_id} className={flagged ? "row-over-limit" : undefined}>
                <th scope="row" className="member-cell">
                  <span className="member-name">
                    {member.name ?? member.email ?? member.user_id}
                    {member.user_id === viewerId ? <span className="badge badge-you">You</span> : null}
                    {flagged ? <span className="badge badge-limit_reached">Over seat limit</span> : null}
                  </span>
                  {member.name && member.email ? <span className="member-meta">{member.email}</span> : null}
                  <span className="member-meta">
                    <code>{member.user_id}</code>
                  </span>
                </th>
                <td>
                  <RoleBadge role={member.role} />
                </td>
                <td>
                  <time dateTime={member.joined_at}>{formatDate(member.joined_at)}</time>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
