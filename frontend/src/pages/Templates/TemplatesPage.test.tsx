import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type VoiceForgeApi } from "../../api/client";
import type { Template } from "../../api/types";
import { currentOrganization, fakeApi, problem, template } from "../../test/fixtures";
import { renderWithApi } from "../../test/render";
import { TemplatesPage } from "./TemplatesPage";

const never = <T,>() => new Promise<T>(() => {});
const page = (items: Template[], next_cursor: string | null = null) => ({ items, next_cursor });
const admin = async () => currentOrganization({ role: "admin", user: { id: "user_alice" } });
const member = async () => currentOrganization({ role: "member", user: { id: "user_mo" } });

const builtin = template({
  id: "t_builtin",
  name: "Marketing email",
  builtin: "email",
  created_by: null,
});
const mine = template({
  id: "t_mine",
  name: "Launch post",
  kind: "social_post",
  instructions: "Announce {{product}}.",
  fields: [{ name: "product", label: "Product", required: true, max_length: 100 }],
  created_by: "user_mo",
});
const theirs = template({ id: "t_theirs", name: "Alice's ad", kind: "ad", created_by: "user_alice" });

function renderTemplates(overrides: Partial<VoiceForgeApi>) {
  return renderWithApi(<TemplatesPage />, { api: fakeApi(overrides), route: "/templates" });
}

const card = (name: string) => screen.getByRole("listitem", { name });

describe("TemplatesPage", () => {
  it("shows a loading state while the templates load", async () => {
    renderTemplates({ getCurrentOrganization: admin, listTemplates: never });
    expect(await screen.findByText("Loading templates…")).toBeTruthy();
  });

  it("says so when there are no templates", async () => {
    renderTemplates({ getCurrentOrganization: admin, listTemplates: async () => page([]) });
    expect(await screen.findByText("No templates.")).toBeTruthy();
  });

  it("shows the API's detail when the list fails, and retries", async () => {
    const listTemplates = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(problem({ status: 503, code: "database_unavailable", detail: "the database is down; retry" })))
      .mockResolvedValueOnce(page([builtin]));
    renderTemplates({ getCurrentOrganization: admin, listTemplates });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("the database is down; retry");
    fireEvent.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("heading", { name: "Marketing email" })).toBeTruthy();
  });

  it("lists built-ins and the organization's own with kind, fields and a link to generate", async () => {
    renderTemplates({ getCurrentOrganization: admin, listTemplates: async () => page([builtin, mine]) });
    await screen.findByRole("heading", { name: "Marketing email" });

    const email = card("Marketing email");
    expect(within(email).getByText("Built-in")).toBeTruthy();
    expect(within(email).getByText("Email")).toBeTruthy();
    const fields = within(email).getByRole("list", { name: "Fields of Marketing email" });
    expect(within(fields).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Topic · required", "Audience"]);
    expect(within(email).getByText(/Provided by VoiceForge/)).toBeTruthy();
    expect(within(email).getByRole("link", { name: "Generate with Marketing email" }).getAttribute("href")).toBe(
      "/generate?template=t_builtin",
    );
    expect(within(card("Launch post")).getByText("Social post")).toBeTruthy();
  });

  it("lets an admin edit and delete every template, built-ins included", async () => {
    renderTemplates({ getCurrentOrganization: admin, listTemplates: async () => page([builtin, mine]) });
    await screen.findByRole("heading", { name: "Marketing email" });
    for (const name of ["Marketing email", "Launch post"]) {
      expect(within(card(name)).getByRole("button", { name: `Edit ${name}` })).toBeTruthy();
      expect(within(card(name)).getByRole("button", { name: `Delete… ${name}` })).toBeTruthy();
    }
  });

  it("lets a member change only their own templates, and copy any", async () => {
    renderTemplates({ getCurrentOrganization: member, listTemplates: async () => page([builtin, mine, theirs]) });
    await screen.findByRole("heading", { name: "Marketing email" });

    const email = card("Marketing email");
    expect(within(email).queryByRole("button", { name: /Edit/ })).toBeNull();
    expect(within(email).queryByRole("button", { name: /Delete/ })).toBeNull();
    expect(within(email).getByRole("button", { name: "Copy Marketing email" })).toBeTruthy();
    expect(within(email).getByText(/Only admins edit built-ins; copy it/)).toBeTruthy();

    const ad = card("Alice's ad");
    expect(within(ad).queryByRole("button", { name: /Edit/ })).toBeNull();
    expect(within(ad).getByText(/Only its creator or an admin can change it/)).toBeTruthy();

    const launch = card("Launch post");
    expect(within(launch).getByText(/Created by you/)).toBeTruthy();
    expect(within(launch).getByRole("button", { name: "Edit Launch post" })).toBeTruthy();
    expect(within(launch).getByRole("button", { name: "Delete… Launch post" })).toBeTruthy();
  });

  it("creates a template whose fields come from the instructions' placeholders", async () => {
    const createTemplate = vi.fn(async () => template({ id: "t_new", name: "Webinar invite" }));
    renderTemplates({ getCurrentOrganization: member, listTemplates: async () => page([]), createTemplate });
    fireEvent.click(await screen.findByRole("button", { name: "New template" }));

    const form = screen.getByRole("form", { name: "New template" });
    expect(document.activeElement).toBe(within(form).getByLabelText("Name"));
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: " Webinar invite " } });
    fireEvent.change(within(form).getByLabelText("Kind"), { target: { value: "email" } });
    fireEvent.change(within(form).getByLabelText("Instructions"), {
      target: { value: "Invite {{audience}} to a webinar on {{ topic }}. Mention {{audience}} twice." },
    });
    const rows = within(form).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getByRole("rowheader").textContent)).toEqual(["{{audience}}", "{{topic}}"]);
    fireEvent.change(within(form).getByLabelText("Label of topic"), { target: { value: "Webinar topic" } });
    fireEvent.click(within(form).getByLabelText("topic is required"));
    fireEvent.change(within(form).getByLabelText("Maximum characters of topic"), { target: { value: "200" } });
    fireEvent.click(within(form).getByRole("button", { name: "Create template" }));

    await vi.waitFor(() => expect(createTemplate).toHaveBeenCalled());
    expect(createTemplate).toHaveBeenCalledWith({
      name: "Webinar invite",
      kind: "email",
      description: "",
      instructions: "Invite {{audience}} to a webinar on {{ topic }}. Mention {{audience}} twice.",
      fields: [
        { name: "audience", label: "", required: false, max_length: 2000 },
        { name: "topic", label: "Webinar topic", required: true, max_length: 200 },
      ],
      target_length: null,
      tone: null,
    });
    await vi.waitFor(() => expect(screen.queryByRole("form", { name: "New template" })).toBeNull());
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "New template" }));
  });

  it("checks the form before sending and focuses the first wrong control", async () => {
    const createTemplate = vi.fn();
    renderTemplates({ getCurrentOrganization: admin, listTemplates: async () => page([]), createTemplate });
    fireEvent.click(await screen.findByRole("button", { name: "New template" }));
    const form = screen.getByRole("form", { name: "New template" });
    fireEvent.change(within(form).getByLabelText("Instructions"), { target: { value: "About {{Topic}}" } });
    fireEvent.click(within(form).getByRole("button", { name: "Create template" }));

    expect(within(form).getByText("Give the template a name.")).toBeTruthy();
    expect(within(form).getByText(/\{\{Topic\}\} is not a placeholder/)).toBeTruthy();
    expect(document.activeElement).toBe(within(form).getByLabelText("Name"));
    expect(createTemplate).not.toHaveBeenCalled();
  });

  it("shows the API's validation problems beside the field they name", async () => {
    const createTemplate = vi
      .fn()
      .mockRejectedValueOnce(
        new ApiError(problem({ status: 409, code: "template_name_taken", detail: 'a template named "Promo" already exists in this organization' })),
      )
      .mockRejectedValueOnce(new ApiError(problem({ status: 400, code: "invalid_template", detail: "fields[0].label: at most 100 characters" })));
    renderTemplates({ getCurrentOrganization: admin, listTemplates: async () => page([]), createTemplate });
    fireEvent.click(await screen.findByRole("button", { name: "New template" }));
    const form = screen.getByRole("form", { name: "New template" });
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "Promo" } });
    fireEvent.change(within(form).getByLabelText("Instructions"), { target: { value: "Promote {{offer}}." } });

    fireEvent.click(within(form).getByRole("button", { name: "Create template" }));
    expect(await within(form).findByText(/already exists in this organization\. Choose another name\./)).toBeTruthy();
    expect(within(form).getByLabelText("Name").getAttribute("aria-invalid")).toBe("true");

    fireEvent.click(within(form).getByRole("button", { name: "Create template" }));
    expect(await within(form).findByText("at most 100 characters")).toBeTruthy();
    expect(within(form).getByLabelText("Label of offer").getAttribute("aria-invalid")).toBe("true");
    expect(within(form).queryByRole("alert")).toBeNull();
  });

  it("edits a template with a patch of every field, clearing length and tone", async () => {
    const updateTemplate = vi.fn(async () => mine);
    renderTemplates({ getCurrentOrganization: member, listTemplates: async () => page([mine]), updateTemplate });
    fireEvent.click(await screen.findByRole("button", { name: "Edit Launch post" }));
    const form = screen.getByRole("form", { name: "Edit “Launch post”" });
    expect((within(form).getByLabelText("Label of product") as HTMLInputElement).value).toBe("Product");
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "Launch post v2" } });
    fireEvent.click(within(form).getByRole("button", { name: "Save changes" }));

    await vi.waitFor(() => expect(updateTemplate).toHaveBeenCalled());
    expect(updateTemplate).toHaveBeenCalledWith(
      "t_mine",
      expect.objectContaining({
        name: "Launch post v2",
        kind: "social_post",
        fields: [{ name: "product", label: "Product", required: true, max_length: 100 }],
        target_length: null,
        tone: null,
      }),
    );
  });

  it("copies a template and opens the copy for editing", async () => {
    const copy = template({ id: "t_copy", name: "Marketing email (copy)", created_by: "user_mo" });
    const createTemplate = vi.fn(async () => copy);
    renderTemplates({ getCurrentOrganization: member, listTemplates: async () => page([builtin]), createTemplate });
    fireEvent.click(await screen.findByRole("button", { name: "Copy Marketing email" }));

    expect(await screen.findByRole("form", { name: "Edit “Marketing email (copy)”" })).toBeTruthy();
    expect(screen.getByText(/Copied\. This copy is yours/)).toBeTruthy();
    expect(createTemplate).toHaveBeenCalledWith({ copy_of: "t_builtin" });
  });

  it("asks before deleting, and shows why a delete was refused", async () => {
    const deleteTemplate = vi
      .fn()
      .mockRejectedValueOnce(
        new ApiError(problem({ status: 403, code: "not_template_owner", detail: "only the template's creator or an admin can change it" })),
      )
      .mockResolvedValueOnce(undefined);
    renderTemplates({ getCurrentOrganization: admin, listTemplates: async () => page([builtin]), deleteTemplate });
    fireEvent.click(await screen.findByRole("button", { name: "Delete… Marketing email" }));

    const confirm = screen.getByRole("group", { name: "Confirm deleting Marketing email" });
    expect(confirm.textContent).toContain("a deleted built-in does not come back");
    expect(document.activeElement).toBe(within(confirm).getByRole("button", { name: "Delete template" }));
    fireEvent.click(within(confirm).getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("group", { name: /Confirm deleting/ })).toBeNull();
    expect(deleteTemplate).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Delete… Marketing email" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete template" }));
    expect((await screen.findByRole("alert")).textContent).toContain("only the template's creator or an admin");
    fireEvent.click(screen.getByRole("button", { name: "Delete template" }));
    await vi.waitFor(() => expect(deleteTemplate).toHaveBeenCalledTimes(2));
    expect(deleteTemplate).toHaveBeenLastCalledWith("t_builtin");
  });
});
