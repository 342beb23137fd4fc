import { fireEvent, screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type VoiceForgeApi } from "../../api/client";
import { contentDetail, fakeApi, problem } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { ContentDetailPage } from "./ContentDetailPage";

function renderDetail(api: VoiceForgeApi, route = "/library/ct1") {
  return renderWithApi(
    <Routes>
      <Route path="/library" element={<p>library list</p>} />
      <Route path="/library/:id" element={<ContentDetailPage />} />
    </Routes>,
    { api, route },
  );
}

describe("ContentDetailPage", () => {
  it("opens at the passage a citation points to (#chunk-<id>) and marks it", async () => {
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    const api = fakeApi({
      getContent: async () =>
        contentDetail({
          id: "ct1",
          chunks: [
            { id: "a", position: 0, heading: "Refunds", text: "Return within 30 days.", token_count: 6, embedding_state: "embedded" },
            { id: "b", position: 1, heading: "Exceptions", text: "Sale items are final.", token_count: 5, embedding_state: "embedded" },
          ],
        }),
    });
    renderDetail(api, "/library/ct1#chunk-b");

    const cited = await screen.findByText("cited passage");
    const passage = cited.closest("li")!;
    expect(passage.id).toBe("chunk-b");
    expect(passage.textContent).toContain("Sale items are final.");
    expect(passage.getAttribute("aria-current")).toBe("location");
    expect(document.activeElement).toBe(passage);
    expect(scrolled).toHaveBeenCalledTimes(1);
    expect(screen.getAllByText("cited passage")).toHaveLength(1);
  });

  it("shows the item and its chunks in order", async () => {
    const api = fakeApi({
      getContent: async () =>
        contentDetail({
          id: "ct1",
          title: "Refund policy",
          chunks: [
            { id: "b", position: 1, heading: "Exceptions", text: "Sale items are final.", token_count: 5, embedding_state: "pending" },
            { id: "a", position: 0, heading: "Refunds", text: "Return within 30 days.", token_count: 6, embedding_state: "embedded" },
          ],
        }),
    });
    renderDetail(api);

    expect(await screen.findByRole("heading", { level: 1, name: "Refund policy" })).toBeTruthy();
    const items = screen.getAllByRole("listitem");
    expect(items[0]?.textContent).toContain("Return within 30 days.");
    expect(items[0]?.textContent).toContain("searchable by meaning");
    expect(items[1]?.textContent).toContain("embedding pending");
    expect(screen.getByRole("heading", { name: "Chunks (2)" })).toBeTruthy();
  });

  it("asks before deleting, can be kept, and deletes on confirmation", async () => {
    const deleteContent = vi.fn(async () => undefined);
    renderDetail(fakeApi({ getContent: async () => contentDetail({ id: "ct1" }), deleteContent }));

    fireEvent.click(await screen.findByRole("button", { name: "Delete…" }));
    const confirm = screen.getByRole("button", { name: "Delete permanently" });
    expect(document.activeElement).toBe(confirm);
    fireEvent.click(screen.getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("button", { name: "Delete permanently" })).toBeNull();
    expect(deleteContent).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Delete…" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete permanently" }));
    expect(await screen.findByText("library list")).toBeTruthy();
    expect(deleteContent).toHaveBeenCalledWith("ct1");
  });

  it("shows why a delete was refused", async () => {
    renderDetail(
      fakeApi({
        getContent: async () => contentDetail({ id: "ct1" }),
        deleteContent: async () => {
          throw new ApiError(problem({ status: 403, code: "admin_required", detail: "only admins or the member who added it can delete it" }));
        },
      }),
    );
    fireEvent.click(await screen.findByRole("button", { name: "Delete…" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete permanently" }));
    expect((await screen.findByRole("alert")).textContent).toContain("only admins or the member who added it");
  });

  it("says an unknown or another organization's item is not in the library, with no retry", async () => {
    renderDetail(
      fakeApi({
        getContent: async () => {
          throw new ApiError(problem({ status: 404, code: "not_found", detail: "the content item was not found" }));
        },
      }),
    );
    expect(await screen.findByText("This item is not in your library.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Back to the library" }).getAttribute("href")).toBe("/library");
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("offers a retry when the item could not be loaded", async () => {
    renderDetail(
      fakeApi({
        getContent: async () => {
          throw new ApiError(problem({ status: 503, code: "database_unavailable", detail: "Try again soon." }));
        },
      }),
    );
    expect((await screen.findByRole("alert")).textContent).toContain("Try again soon.");
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });
});
