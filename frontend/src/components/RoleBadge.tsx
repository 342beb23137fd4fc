import type { Role } from "../api/types";

export function RoleBadge({ role }: { role: Role }) {
  return <span className={`badge badge-role-${role}`}>{role === "admin" ? "Admin" : "Member"}</span>;
}
