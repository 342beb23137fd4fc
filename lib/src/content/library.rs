//! Browsing and editing the library: filtered, keyset-paginated lists and edits that
//! re-chunk the item.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    COLUMNS, ContentError, ContentItem, LIST_COLUMNS, MAX_MARKDOWN_BYTES, Source, chunks, content_hash, word_count,
};
use crate::tenancy::Tenant;

/// Order of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Newest first (default).
    Newest,
    /// Oldest first.
    Oldest,
}

/// Filters of a list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Items stored by this crawl.
    pub crawl_id: Option<Uuid>,
    /// Items of this origin.
    pub source: Option<Source>,
    /// Items whose title or URL contains this text (case-insensitive).
    pub text: Option<String>,
}

/// One page of the tenant's items after the `after` keyset position, `limit` rows, without
/// their markdown.
pub async fn list(
    tenant: &mut Tenant,
    filter: &Filter,
    sort: Sort,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<ContentItem>, sqlx::Error> {
    let org_id = tenant.org().id;
    let (cmp, order) = match sort {
        Sort::Newest => ("<", "DESC"),
        Sort::Oldest => (">", "ASC"),
    };
    let pattern = filter.text.as_ref().map(|t| {
        let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM contents
          WHERE org_id = $1
            AND ($2::timestamptz IS NULL OR (created_at, id) {cmp} ($2, $3))
            AND ($4::uuid IS NULL OR crawl_id = $4)
            AND ($5::text IS NULL OR source = $5)
            AND ($6::text IS NULL OR title ILIKE $6 OR url ILIKE $6)
          ORDER BY created_at {order}, id {order}
          LIMIT $7"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(filter.crawl_id)
        .bind(filter.source)
        .bind(pattern)
        .bind(limit)
        .fetch_all(tenant.conn())
        .await
}

/// Changes to an item.
#[derive(Clone, Debug, Default)]
pub struct Edit {
    /// New title.
    pub title: Option<String>,
    /// New markdown body.
    pub markdown: Option<String>,
}

/// Why an edit failed.
#[derive(Debug)]
pub enum EditOutcome {
    /// The edited item.
    Edited(Box<ContentItem>),
    /// No such item in this organization.
    NotFound,
    /// Another item already has the new text.
    Duplicate {
        /// That item.
        existing_id: Uuid,
    },
}

/// Edits an item; a changed body is re-chunked (its vectors re-queued).
pub async fn edit(tenant: &mut Tenant, id: Uuid, edit: Edit) -> Result<EditOutcome, ContentError> {
    let org_id = tenant.org().id;
    let Some(current) = super::get(tenant, id).await? else { return Ok(EditOutcome::NotFound) };
    let title = match edit.title {
        Some(t) if t.trim().is_empty() => return Err(ContentError::Invalid("the title is empty".into())),
        Some(t) => t.trim().chars().take(1024).collect(),
        None => current.title.clone(),
    };
    let markdown = edit.markdown.unwrap_or_else(|| current.markdown.clone());
    if markdown.len() > MAX_MARKDOWN_BYTES {
        return Err(ContentError::Invalid(format!("the text is larger than {MAX_MARKDOWN_BYTES} bytes")));
    }
    let hash = content_hash(&markdown);
    let changed_text = hash != current.content_hash;
    if changed_text {
        let other: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM contents WHERE org_id = $1 AND content_hash = $2 AND id <> $3")
                .bind(org_id)
                .bind(&hash)
                .bind(id)
                .fetch_optional(tenant.conn())
                .await?;
        if let Some(existing_id) = other {
            return Ok(EditOutcome::Duplicate { existing_id });
        }
    }
    let sql = format!(
        "UPDATE contents SET title = $3, markdown = $4, word_count = $5, content_hash = $6, updated_at = now()
          WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    let item: ContentItem = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(id)
        .bind(&title)
        .bind(&markdown)
        .bind(word_count(&markdown))
        .bind(&hash)
        .fetch_one(tenant.conn())
        .await?;
    if changed_text {
        chunks::replace(tenant, id, &super::chunking::chunk(&item.markdown), item.language.as_deref()).await?;
    }
    Ok(EditOutcome::Edited(Box::new(item)))
}
