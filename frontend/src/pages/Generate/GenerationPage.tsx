import { Link, useNavigate, useParams } from "react-router";
import { useGenerate, useGeneration } from "../../api/queries";
import { PageHeader } from "../../components/PageHeader";
import { ErrorState, LoadingState } from "../../components/StateViews";
import { DraftView } from "./DraftView";
import "./generate.css";

/** One past draft by id (404 for another organization's, shown as the API says it). */
export function GenerationPage() {
  const { id = "" } = useParams();
  const generation = useGeneration(id);
  const generate = useGenerate();
  const navigate = useNavigate();

  let body;
  if (generation.isPending) {
    body = <LoadingState label="Loading the draft…" />;
  } else if (!generation.data) {
    body = <ErrorState error={generation.error} title="Could not load this draft" onRetry={() => void generation.refetch()} />;
  } else {
    const { template, inputs } = generation.data;
    const regenerate = () =>
      template.id &&
      generate.mutate(
        { template_id: template.id, inputs },
        { onSuccess: (made) => void navigate(`/generations/${made.id}`) },
      );
    body = (
      <>
        {generate.isError ? <ErrorState error={generate.error} title="Could not regenerate the draft" /> : null}
        <DraftView
          key={generation.data.id}
          generation={generation.data}
          headingLevel={2}
          regenerate={{ onClick: regenerate, pending: generate.isPending }}
        />
      </>
    );
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
