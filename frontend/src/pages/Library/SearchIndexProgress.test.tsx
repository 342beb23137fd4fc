import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, type VoiceForgeApi } from "../../api/client";
import { SEARCH_STATUS_POLL_MS, useSearchStatus } from "../../api/queries";
import { fakeApi, problem, searchIndexStatus } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { SearchIndexProgress } from "./SearchIndexProgress";

const indexing = searchIndexStatus({
  mode: "hybrid",
  passages: 15746,
  embedded: 6020,
  pending: 9726,
  searchable_share: 0.382,
  passages_per_second: 11.4,
  eta_seconds: 854,
});

function renderProgress(getSearchStatus: VoiceForgeApi["getSearchStatus"]) {
  return renderWithApi(<SearchIndexProgress />, { api: fakeApi({ getSearchStatus }) });
}

/** Says when the shared status query has its answer, so "shows nothing" is not checked too early. */
function Loaded() {
  return useSearchStatus().data ? <p>status loaded</p> : null;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("SearchIndexProgress", () => {
  it("shows passages searchable by meaning as an accessible bar, with the share and the time left", async () => {
    renderProgress(vi.fn(async () => indexing));
    const bar = await screen.findByRole("progressbar", { name: "Passages searchable by meaning" });
    expect(bar.getAttribute("aria-valuemin")).toBe("0");
    expect(bar.getAttribute("aria-valuemax")).toBe("15746");
    expect(bar.getAttribute("aria-valuenow")).toBe("6020");
    expect(bar.getAttribute("aria-valuetext")).toBe("6,020 of 15,746 passages (38%), about 14 minutes left");
    const region = screen.getByRole("region", { name: "Search index" });
    expect(region.textContent).toContain("6,020 of 15,746 passages searchable by meaning (38%)");
    expect(region.textContent).toContain("about 14 minutes left");
    expect(region.textContent).toContain("Search by words already covers all 15,746 passages.");
  });

  it("promises no time while nothing is being embedded, and starts from zero before the first vector", async () => {
    renderProgress(
      vi.fn(async () =>
        searchIndexStatus({ mode: "full_text", passages: 12, embedded: 0, pending: 12, searchable_share: 0, passages_per_second: null, eta_seconds: null }),
      ),
    );
    const bar = await screen.findByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("0");
    expect(bar.getAttribute("aria-valuetext")).toBe("0 of 12 passages (0%)");
    const region = screen.getByRole("region", { name: "Search index" });
    expect(region.textContent).not.toMatch(/left|minute/);
    expect(region.textContent).toContain("Search by words already covers all 12 passages.");
  });

  it("never reads 100% while a passage is still pending", async () => {
    renderProgress(vi.fn(async () => searchIndexStatus({ passages: 1000, embedded: 999, pending: 1, searchable_share: 0.999 })));
    expect((await screen.findByRole("progressbar")).getAttribute("aria-valuetext")).toBe("999 of 1,000 passages (99%)");
  });

  it("shows nothing for a complete index, an empty library, or a deployment without an embedder", async () => {
    for (const status of [
      searchIndexStatus(),
      searchIndexStatus({ mode: "full_text", passages: 0, embedded: 0, pending: 0, searchable_share: 1 }),
      searchIndexStatus({ mode: "full_text", embeddings_enabled: false, passages: 40, embedded: 0, pending: 0, searchable_share: 0 }),
      // Even should a server without an embedder count passages as pending: no bar that never fills.
      searchIndexStatus({ mode: "full_text", embeddings_enabled: false, passages: 40, embedded: 0, pending: 40, searchable_share: 0 }),
    ]) {
      const { unmount } = renderWithApi(
        <>
          <div data-testid="progress">
            <SearchIndexProgress />
          </div>
          <Loaded />
        </>,
        { api: fakeApi({ getSearchStatus: async () => status }) },
      );
      await screen.findByText("status loaded");
      expect(screen.getByTestId("progress").textContent).toBe("");
      expect(screen.queryByRole("progressbar")).toBeNull();
      unmount();
    }
  });

  it("polls while passages are pending, says when the index is complete, then stops asking", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const getSearchStatus = vi
      .fn()
      .mockResolvedValueOnce(searchIndexStatus({ passages: 8, embedded: 2, pending: 6, searchable_share: 0.25, eta_seconds: 30, passages_per_second: 0.2 }))
      .mockResolvedValueOnce(searchIndexStatus({ passages: 8, embedded: 6, pending: 2, searchable_share: 0.75, eta_seconds: 10, passages_per_second: 0.2 }))
      .mockResolvedValue(searchIndexStatus({ passages: 8, embedded: 8, pending: 0, searchable_share: 1 }));
    renderProgress(getSearchStatus);

    const bar = await screen.findByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("2");
    expect(screen.getByText("less than a minute left")).toBeTruthy();

    await vi.advanceTimersByTimeAsync(SEARCH_STATUS_POLL_MS);
    await vi.waitFor(() => expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("6"));

    await vi.advanceTimersByTimeAsync(SEARCH_STATUS_POLL_MS);
    const done = await screen.findByRole("status");
    expect(done.textContent).toBe("Search index complete: all 8 passages are searchable by meaning and by words.");
    expect(screen.queryByRole("progressbar")).toBeNull();

    const calls = getSearchStatus.mock.calls.length;
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(SEARCH_STATUS_POLL_MS * 3);
    expect(getSearchStatus).toHaveBeenCalledTimes(calls);
  });

  it("shows the status's problem and asks again on request", async () => {
    const getSearchStatus = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(problem({ status: 503, code: "database_unavailable", detail: "The database is busy." })))
      .mockResolvedValueOnce(indexing);
    renderProgress(getSearchStatus);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not check the search index");
    expect(alert.textContent).toContain("The database is busy.");
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("progressbar")).toBeTruthy();
  });
});
