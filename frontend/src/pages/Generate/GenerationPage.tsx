import { Link, useParams } from "react-router";
import { useGeneration } from "../../api/queries";
import { PageHeader } from "../../components/PageHeader";
import { ErrorState, LoadingState } from "../../components/StateViews";
import { DraftView } from "./DraftView";
import "./generate.css";

/** One past draft by id (404 for another organization's, shown as the API says it). */
export function GenerationPage() {
  const { id = "" } = useParams();
  const generation = useGeneration(id);

  let body;
  if (generation.isPending) {
    body = <LoadingState label="Loading the draft…" />;
  } else if (!generation.data) {
    body = <ErrorState error={generation.error} title="Could not load this draft" onRetry={() => void generation.refetch()} />;
  } else {
    body = <DraftView generation={generation.data} headingLevel={2} />;
  }
  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/generate">← Generate</Link>
      </p>
      <PageHeader title="Draft" />
      {body}
    </div>
  );
}
