import { useCallback, useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../api/ApiContext";
import { queryKeys } from "../../api/queries";
import type { GenerateRequest, Generation, StreamedSource } from "../../api/types";

export type RunState = "idle" | "streaming" | "done" | "failed" | "cancelled";

/** One streamed generation as it goes: its sources first, then its text, then the stored draft. */
export interface GenerationRun {
  state: RunState;
  request: GenerateRequest | null;
  sources: StreamedSource[];
  text: string;
  generation: Generation | null;
  error: unknown;
}

export type RunOutcome = { ok: true; generation: Generation } | { ok: false; error: unknown } | { ok: false; cancelled: true };

const idle: GenerationRun = { state: "idle", request: null, sources: [], text: "", generation: null, error: null };

/**
 * Streams generations (`POST /api/generate` with `stream: true`); `cancel` aborts the request.
 * Starting another aborts the one running; leaving the page aborts too.
 */
export function useGenerationRun() {
  const api = useApi();
  const client = useQueryClient();
  const [run, setRun] = useState<GenerationRun>(idle);
  const current = useRef<AbortController | null>(null);

  useEffect(() => () => current.current?.abort(), []);

  const start = useCallback(
    async (request: GenerateRequest): Promise<RunOutcome> => {
      current.current?.abort();
      const abort = new AbortController();
      current.current = abort;
      const update = (change: (r: GenerationRun) => GenerationRun) => {
        if (current.current === abort) setRun(change);
      };
      setRun({ ...idle, state: "streaming", request });
      try {
        const generation = await api.generateStream(
          request,
          {
            onSources: (sources) => update((r) => ({ ...r, sources })),
            onDelta: (piece) => update((r) => ({ ...r, text: r.text + piece })),
          },
          { signal: abort.signal },
        );
        client.setQueryData(queryKeys.generation(generation.id), generation);
        void client.invalidateQueries({ queryKey: queryKeys.generations });
        void client.invalidateQueries({ queryKey: ["organizations", "usage"] });
        update((r) => ({ ...r, state: "done", generation }));
        return { ok: true, generation };
      } catch (error) {
        if (abort.signal.aborted) {
          update((r) => ({ ...r, state: "cancelled" }));
          return { ok: false, cancelled: true };
        }
        update((r) => ({ ...r, state: "failed", error }));
        return { ok: false, error };
      }
    },
    [api, client],
  );

  const cancel = useCallback(() => current.current?.abort(), []);

  return { ...run, start, cancel };
}

export type GenerationRunControls = ReturnType<typeof useGenerationRun>;
