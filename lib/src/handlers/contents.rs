//! The content library: `GET/POST /api/contents`, `GET/PATCH/DELETE /api/contents/{id}`.

use axum::{
    extract::{Query, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit::{self, AuditEvent},
    content::{
        self, ContentItem, NewContent, Source, Stored,
        chunks::{self, StoredChunk},
        library::{self, Edit, EditOutcome, Filter, Sort},
    },
    crawl,
    error::ApiError,
    http::{
        App,
        extract::{Admitted, InTenant, ResourceId},
        json::ApiJson,
    },
    pagination::{self, PageQuery},
    tenancy::Tenant,
};

/// Query of the list.
#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    crawl_id: Option<String>,
    source: Option<String>,
    q: Option<String>,
    sort: Option<String>,
}

#[derive(Serialize)]
struct ItemView {
    #[serde(flatten)]
    item: ContentItem,
}

/// The caller's library, newest first (or `sort=oldest`), filtered by crawl, source or text.
pub async fn list_contents(
    InTenant(mut tenant): InTenant,
    Query(q): Query<ListQuery>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor };
    let (limit, after) = (page.limit()?, page.after()?);
    let filter = Filter {
        crawl_id: q
            .crawl_id
            .as_deref()
            .map(|c| {
                Uuid::parse_str(c).map_err(|_| ApiError::bad_request("invalid_crawl_id", "crawl_id is not a UUID"))
            })
            .transpose()?,
        source: match q.source.as_deref() {
            None => None,
            Some("crawl") => Some(Source::Crawl),
            Some("manual") => Some(Source::Manual),
            Some("import") => Some(Source::Import),
            Some(_) => return Err(ApiError::bad_request("invalid_source", "source must be crawl, manual or import")),
        },
        text: match q.q {
            Some(t) if t.chars().count() > 200 => {
                return Err(ApiError::bad_request("invalid_query", "q is longer than 200 characters"));
            }
            Some(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            _ => None,
        },
    };
    let sort = match q.sort.as_deref() {
        None | Some("newest") => Sort::Newest,
        Some("oldest") => Sort::Oldest,
        Some(_) => return Err(ApiError::bad_request("invalid_sort", "sort must be newest or oldest")),
    };
    let rows = library::list(&mut tenant, &filter, sort, after, limit + 1).await?;
    tenant.commit().await?;
    Ok(ApiJson(pagination::page(rows, limit, |i| (i.created_at, i.id), |item| ItemView { item })))
}

#[derive(Serialize)]
struct ItemDetail {
    #[serde(flatten)]
    item: ContentItem,
    markdown: String,
    chunks: Vec<StoredChunk>,
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found("the content item"))
}

/// One item with its markdown and chunks; 404 for another organization's.
pub async fn get_content(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let id = parse_id(&id)?;
    let item = content::get(&mut tenant, id).await?.ok_or_else(|| ApiError::not_found("the content item"))?;
    let chunks = chunks::list(&mut tenant, id).await?;
    tenant.commit().await?;
    Ok(ApiJson(ItemDetail { markdown: item.markdown.clone(), item, chunks }))
}

/// Body of `POST /api/contents`: a manual text, or a URL fetched once.
#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum NewItem {
    /// A text written or pasted by a member.
    Text {
        /// Title.
        title: String,
        /// Markdown body.
        text: String,
        /// BCP 47 language tag, when known.
        #[serde(default)]
        language: Option<String>,
    },
    /// A page to fetch through the crawler's SSRF-safe fetcher.
    Url {
        /// Absolute http(s) URL.
        url: String,
    },
}

/// Adds a manual item (201); 409 `duplicate_content` when the text is already in the
/// library, 403 `content_limit_reached` at the limit. A URL is fetched before the tenant
/// transaction opens: a slow site must not hold one of the pool's connections.
pub async fn create_content(
    State(app): State<App>,
    member: Admitted,
    ApiJson(body): ApiJson<NewItem>,
) -> Result<(StatusCode, ApiJson<impl Serialize>), ApiError> {
    let new = match body {
        NewItem::Text { title, text, language } => {
            if text.trim().is_empty() {
                return Err(ApiError::bad_request("invalid_content", "the text is empty"));
            }
            check_title(&title)?;
            if language
                .as_ref()
                .is_some_and(|l| l.len() > 35 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            {
                return Err(ApiError::bad_request(
                    "invalid_content",
                    "language must be a BCP 47 tag such as en or pt-BR",
                ));
            }
            NewContent {
                source: Source::Manual,
                crawl_id: None,
                url: None,
                title,
                description: None,
                language,
                markdown: text,
            }
        }
        NewItem::Url { url } => {
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && url.len() <= 2048)
                .ok_or_else(|| {
                    ApiError::bad_request("invalid_url", "url must be an absolute http(s) URL up to 2048 characters")
                })?;
            // Once, through the crawler's SSRF-safe fetcher and extractor (no robots or scope:
            // a member asked for this one page).
            let page = crawl::fetch_and_extract(app.crawler.fetcher(), parsed.as_str()).await.map_err(fetch_error)?;
            NewContent {
                source: Source::Manual,
                crawl_id: None,
                url: Some(page.canonical_url.to_string()),
                title: page.title,
                description: page.description,
                language: page.language,
                markdown: page.markdown,
            }
        }
    };
    let mut tenant = member.tenant(&app).await?;
    let stored = content::store(&mut tenant, new).await?;
    let item = match stored {
        Stored::Created(item) => item,
        Stored::Duplicate { existing_id }
        | Stored::Updated(ContentItem { id: existing_id, .. })
        | Stored::Unchanged(ContentItem { id: existing_id, .. }) => {
            return Err(duplicate(existing_id));
        }
    };
    audit::record(&mut tenant, AuditEvent::on("content.created", "content", item.id).with(json!({"source": "manual"})))
        .await?;
    let chunks = chunks::list(&mut tenant, item.id).await?;
    tenant.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(ItemDetail { markdown: item.markdown.clone(), item, chunks })))
}

/// A page that could not be fetched for `{url}`: the member's input (400) or the site (502).
fn fetch_error(err: crawl::FetchPageError) -> ApiError {
    use crawl::FetchPageError as E;
    match &err {
        E::InvalidUrl(_) => ApiError::bad_request("invalid_url", err.to_string()),
        E::Fetch(fetch) if fetch.kind() == "ssrf_blocked" => ApiError::bad_request("ssrf_blocked", err.to_string()),
        E::NotHtml(_) => ApiError::bad_request("not_html", err.to_string()),
        E::Empty => ApiError::bad_request("empty_content", err.to_string()),
        E::TooComplex(_) => ApiError::bad_request("page_too_complex", err.to_string()),
        E::Fetch(_) | E::Status(_) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "fetch_failed", format!("fetching the page failed: {err}"))
        }
    }
}

fn duplicate(existing_id: Uuid) -> ApiError {
    ApiError::conflict("duplicate_content", format!("the library already holds this text as item {existing_id}"))
}

/// Body of `PATCH /api/contents/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditItem {
    title: Option<String>,
    text: Option<String>,
}

/// Edits title and/or text; a new text is re-chunked and re-embedded.
pub async fn update_content(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
    body: Result<ApiJson<EditItem>, ApiError>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let id = parse_id(&id)?;
    // Another organization's item is a 404 whatever the body holds.
    let item = content::get(&mut tenant, id).await?.ok_or_else(|| ApiError::not_found("the content item"))?;
    may_change(&tenant, item.created_by, "edit")?;
    let ApiJson(body) = body?;
    if body.title.is_none() && body.text.is_none() {
        return Err(ApiError::bad_request("invalid_content", "send a title, a text or both"));
    }
    if let Some(title) = &body.title {
        check_title(title)?;
    }
    if body.text.as_ref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ApiError::bad_request("invalid_content", "the text is empty"));
    }
    let fields: Vec<&str> =
        [body.title.as_ref().map(|_| "title"), body.text.as_ref().map(|_| "text")].into_iter().flatten().collect();
    let item = match library::edit(&mut tenant, id, Edit { title: body.title, markdown: body.text }).await? {
        EditOutcome::Edited(item) => *item,
        EditOutcome::NotFound => return Err(ApiError::not_found("the content item")),
        EditOutcome::Duplicate { existing_id } => return Err(duplicate(existing_id)),
    };
    audit::record(&mut tenant, AuditEvent::on("content.updated", "content", id).with(json!({"fields": fields})))
        .await?;
    let chunks = chunks::list(&mut tenant, id).await?;
    tenant.commit().await?;
    Ok(ApiJson(ItemDetail { markdown: item.markdown.clone(), item, chunks }))
}

/// Deletes an item, its chunks and (through the outbox) its vectors: admins, or the member
/// who added it.
pub async fn delete_content(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let item = content::get(&mut tenant, id).await?.ok_or_else(|| ApiError::not_found("the content item"))?;
    may_change(&tenant, item.created_by, "delete")?;
    content::delete(&mut tenant, id).await?;
    audit::record(&mut tenant, AuditEvent::on("content.deleted", "content", id).with(json!({"title": item.title})))
        .await?;
    tenant.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Editing and deleting an item are for admins and for the member who added it.
fn may_change(tenant: &Tenant, created_by: Option<Uuid>, verb: &str) -> Result<(), ApiError> {
    if tenant.require_admin().is_ok() || (created_by.is_some() && created_by == tenant.user_id()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("admin_required", format!("only admins or the member who added an item can {verb} it")))
    }
}

/// A title a member sends: the contract's 1 to 1,024 characters, refused rather than cut
/// (the crawler, which reads titles from pages, cuts them instead).
fn check_title(title: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() {
        return Err(ApiError::bad_request("invalid_content", "the title is empty"));
    }
    if title.chars().count() > 1024 {
        return Err(ApiError::bad_request("invalid_content", "the title is longer than 1,024 characters"));
    }
    Ok(())
}
