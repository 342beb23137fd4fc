import { Link } from "react-router";
import { PageHeader } from "../../components/PageHeader";

export function NotFoundPage() {
  return (
    <div className="page page-narrow">
      <PageHeader title="Page not found" />
      <div className="card">
        <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
        <Link className="button button-primary" to="/">
          Go to the dashboard
        </Link>
      </div>
    </div>
  );
}
