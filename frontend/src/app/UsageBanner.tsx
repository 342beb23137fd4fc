import { Link, useLocation } from "react-router";
import { useUsage } from "../api/queries";
import { usageWarnings } from "../usage/warnings";
import "./UsageBanner.css";

/** App-wide notice when any usage metric is at 80% of its limit or beyond. */
export function UsageBanner() {
  const usage = useUsage();
  const { pathname } = useLocation();
  if (!usage.data) return null; // Loading or failed: the dashboard reports usage errors.
  const warnings = usageWarnings(usage.data);
  if (warnings.length === 0) return null;
  const level = warnings.some((w) => w.level === "limit_reached") ? "limit_reached" : "warning";
  return (
    <section className={`usage-banner usage-banner-${level}`} aria-label="Usage warnings">
      <ul>
        {warnings.map((warning) => (
          <li key={warning.metric} className={`usage-banner-item level-${warning.level}`}>
            <span className={`badge badge-${warning.level}`}>
              {warning.level === "limit_reached" ? "Limit reached" : "Nearing limit"}
            </span>{" "}
            {warning.message}
          </li>
        ))}
      </ul>
      {pathname !== "/" ? (
        <Link className="usage-banner-link" to="/">
          View usage
        </Link>
      ) : null}
    </section>
  );
}
