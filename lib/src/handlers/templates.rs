//! Marketing templates: `GET/POST /api/templates`, `GET/PATCH/DELETE /api/templates/{id}`.
//! Members create; only the creator or an admin edits or deletes. Built-ins are seeded into
//! the org on first listing and can be copied (`copy_of`) or edited by admins.

use axum::{extract::Query, http::StatusCode, response::IntoResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    audit::{self, AuditEvent},
    auth::Role,
    error::ApiError,
    generate::templates::{self, Field, Kind, Template, TemplateDraft, TemplateError},
    http::{
        extract::{InTenant, ResourceId},
        json::ApiJson,
    },
    pagination::{self, Page, PageQuery},
    tenancy::Tenant,
};

impl From<TemplateError> for ApiError {
    fn from(err: TemplateError) -> Self {
        match err {
            TemplateError::Invalid(code, detail) => ApiError::bad_request(code, detail),
            TemplateError::NameTaken(_) => ApiError::conflict("template_name_taken", err.to_string()),
            TemplateError::Database(db) => db.into(),
        }
    }
}

/// Body of `POST /api/templates`: a new template, or a copy of `copy_of` with any field
/// overridden.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    copy_of: Option<Uuid>,
    name: Option<String>,
    kind: Option<Kind>,
    description: Option<String>,
    instructions: Option<String>,
    fields: Option<Vec<Field>>,
    target_length: Option<i32>,
    tone: Option<String>,
}

/// Body of `PATCH /api/templates/{id}`: the fields to change (`null` clears the optional
/// `target_length` and `tone`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTemplate {
    name: Option<String>,
    kind: Option<Kind>,
    description: Option<String>,
    instructions: Option<String>,
    fields: Option<Vec<Field>>,
    #[serde(default, deserialize_with = "present")]
    target_length: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    tone: Option<Option<String>>,
}

/// Distinguishes a field sent as `null` (Some(None)) from one left out (None).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found("template"))
}

async fn find(tenant: &mut Tenant, id: &str) -> Result<Template, ApiError> {
    templates::get(tenant, parse_id(id)?).await?.ok_or_else(|| ApiError::not_found("template"))
}

fn may_edit(tenant: &Tenant, template: &Template) -> Result<(), ApiError> {
    if tenant.role() == Role::Admin || (template.created_by.is_some() && template.created_by == tenant.user_id()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("not_template_owner", "only the template's creator or an admin can change it"))
    }
}

/// The org's templates (built-ins seeded on first call), oldest first, paginated.
pub async fn list_templates(
    InTenant(mut tenant): InTenant,
    Query(q): Query<PageQuery>,
) -> Result<ApiJson<Page<Template>>, ApiError> {
    let (limit, after) = (q.limit()?, q.after()?);
    templates::seed_builtins(&mut tenant).await?;
    let rows = templates::list(&mut tenant, after, limit + 1).await?;
    tenant.commit().await?;
    Ok(ApiJson(pagination::page(rows, limit, |t| (t.created_at, t.id), |t| t)))
}

/// Creates a template (or a copy of one); any member may.
pub async fn create_template(
    InTenant(mut tenant): InTenant,
    ApiJson(body): ApiJson<CreateTemplate>,
) -> Result<impl IntoResponse, ApiError> {
    let mut draft = match body.copy_of {
        Some(id) => {
            let source = templates::get(&mut tenant, id).await?.ok_or_else(|| ApiError::not_found("template"))?;
            let mut d = source.to_draft();
            d.name = format!("{} (copy)", source.name).chars().take(100).collect();
            d
        }
        None => TemplateDraft::default(),
    };
    if let Some(v) = body.name {
        draft.name = v;
    }
    if body.kind.is_some() {
        draft.kind = body.kind;
    }
    if let Some(v) = body.description {
        draft.description = v;
    }
    if let Some(v) = body.instructions {
        draft.instructions = v;
    }
    if let Some(v) = body.fields {
        draft.fields = v;
    }
    if body.target_length.is_some() {
        draft.target_length = body.target_length;
    }
    if body.tone.is_some() {
        draft.tone = body.tone;
    }
    let created = templates::create(&mut tenant, templates::validate(draft)?).await?;
    let details = serde_json::json!({"name": created.name, "kind": created.kind, "copy_of": body.copy_of});
    audit::record(&mut tenant, AuditEvent::on("template.created", "template", created.id).with(details)).await?;
    tenant.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// One template of the org.
pub async fn get_template(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
) -> Result<ApiJson<Template>, ApiError> {
    let template = find(&mut tenant, &id).await?;
    tenant.commit().await?;
    Ok(ApiJson(template))
}

/// Changes a template: its creator or an admin.
pub async fn patch_template(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
    ApiJson(body): ApiJson<PatchTemplate>,
) -> Result<ApiJson<Template>, ApiError> {
    let current = find(&mut tenant, &id).await?;
    may_edit(&tenant, &current)?;
    let mut d = current.to_draft();
    if let Some(v) = body.name {
        d.name = v;
    }
    if body.kind.is_some() {
        d.kind = body.kind;
    }
    if let Some(v) = body.description {
        d.description = v;
    }
    if let Some(v) = body.instructions {
        d.instructions = v;
    }
    if let Some(v) = body.fields {
        d.fields = v;
    }
    if let Some(v) = body.target_length {
        d.target_length = v;
    }
    if let Some(v) = body.tone {
        d.tone = v;
    }
    let updated = templates::update(&mut tenant, current.id, templates::validate(d)?).await?;
    let details = serde_json::json!({"name": updated.name});
    audit::record(&mut tenant, AuditEvent::on("template.updated", "template", updated.id).with(details)).await?;
    tenant.commit().await?;
    Ok(ApiJson(updated))
}

/// Deletes a template: its creator or an admin. Generations made from it remain.
pub async fn delete_template(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
) -> Result<StatusCode, ApiError> {
    let current = find(&mut tenant, &id).await?;
    may_edit(&tenant, &current)?;
    templates::delete(&mut tenant, current.id).await?;
    let details = serde_json::json!({"name": current.name});
    audit::record(&mut tenant, AuditEvent::on("template.deleted", "template", current.id).with(details)).await?;
    tenant.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
