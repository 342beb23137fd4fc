//! The content library: items an organization owns (crawled pages, manual texts, imports),
//! deduplicated by content hash and counted against `max_content_items` atomically. Every
//! stored or edited item is re-chunked, and its vector work queued, in the same transaction.

pub mod chunking;
pub mod chunks;
pub mod library;
pub mod outbox;

pub use outbox::{DrainBudget, DrainReport, drain_outbox};

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::ApiError,
    tenancy::Tenant,
    usage::{self, Metric},
};

/// Where an item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Stored by a crawl.
    Crawl,
    /// Added by a member.
    Manual,
    /// Imported from a single-tenant install.
    Import,
}

/// An item to store.
#[derive(Clone, Debug)]
pub struct NewContent {
    /// Origin of the item.
    pub source: Source,
    /// The crawl storing it, if any.
    pub crawl_id: Option<Uuid>,
    /// Canonical URL, if it has one; a URL already in the library is updated in place.
    pub url: Option<String>,
    /// Title (required; derived from the URL or text when the page has none).
    pub title: String,
    /// Meta description.
    pub description: Option<String>,
    /// BCP 47 language tag, when known.
    pub language: Option<String>,
    /// The body as markdown.
    pub markdown: String,
}

/// A stored item.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ContentItem {
    /// Who added it (internal user id); `None` for system work.
    #[serde(skip)]
    pub created_by: Option<Uuid>,
    /// Id.
    pub id: Uuid,
    /// Origin.
    pub source: Source,
    /// Crawl that last stored it.
    pub crawl_id: Option<Uuid>,
    /// Source URL.
    pub url: Option<String>,
    /// Title.
    pub title: String,
    /// Meta description.
    pub description: Option<String>,
    /// Language tag.
    pub language: Option<String>,
    /// Body as markdown.
    #[serde(skip)]
    pub markdown: String,
    /// Words in the body.
    pub word_count: i32,
    /// sha256 of the normalized body, hex.
    pub content_hash: String,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What [`store`] did.
#[derive(Debug)]
pub enum Stored {
    /// A new item.
    Created(ContentItem),
    /// The item at this URL changed and was updated.
    Updated(ContentItem),
    /// The item at this URL is unchanged.
    Unchanged(ContentItem),
    /// Another item already has this content; nothing was stored.
    Duplicate {
        /// The existing item.
        existing_id: Uuid,
    },
}

/// Why an item could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The organization holds `limit` items already.
    #[error("the library holds its limit of {limit} content items; delete items or ask for a higher limit")]
    LimitReached {
        /// max_content_items.
        limit: i32,
    },
    /// The input was not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<ContentError> for ApiError {
    fn from(err: ContentError) -> Self {
        match err {
            ContentError::LimitReached { .. } => ApiError::forbidden("content_limit_reached", err.to_string()),
            ContentError::Invalid(detail) => ApiError::bad_request("invalid_content", detail),
            ContentError::Database(db) => db.into(),
        }
    }
}

/// Largest markdown body kept per item (bytes); longer bodies are refused by callers.
pub const MAX_MARKDOWN_BYTES: usize = 2 * 1024 * 1024;

/// sha256 (hex) of the markdown with runs of whitespace folded, so reflowed text is the same.
pub fn content_hash(markdown: &str) -> String {
    let normalized = markdown.split_whitespace().collect::<Vec<_>>().join(" ");
    Sha256::digest(normalized.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Words in a text (whitespace-separated runs containing a letter or digit).
pub fn word_count(text: &str) -> i32 {
    text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count().min(i32::MAX as usize) as i32
}

/// The columns of a [`ContentItem`], with `$markdown` read for its body.
macro_rules! content_columns {
    ($markdown:literal) => {
        concat!(
            "id, created_by, source, crawl_id, url, title, description, language, ",
            $markdown,
            ", word_count, content_hash, created_at, updated_at"
        )
    };
}

/// A whole [`ContentItem`].
pub(crate) const COLUMNS: &str = content_columns!("markdown");
/// A [`ContentItem`] for lists, which never show bodies: the markdown is left unread (empty),
/// not read and dropped, as real pages are tens of kilobytes each.
pub(crate) const LIST_COLUMNS: &str = content_columns!("''::text AS markdown");

/// Stores an item in the tenant's library: updates the item at the same URL, refuses a
/// duplicate of another item's content, and counts a new item against the limit in the same
/// statement that reserves it, so concurrent adds never overshoot.
pub async fn store(tenant: &mut Tenant, new: NewContent) -> Result<Stored, ContentError> {
    store_with(tenant, new, None).await
}

/// As [`store`], with the markdown's chunks already cut by [`chunking::chunk`]: chunking is
/// most of a page's CPU work, and the crawler does it off the async runtime and before the
/// transaction that stores its pages.
pub async fn store_chunked(
    tenant: &mut Tenant,
    new: NewContent,
    chunks: Vec<chunking::Chunk>,
) -> Result<Stored, ContentError> {
    store_with(tenant, new, Some(chunks)).await
}

async fn store_with(
    tenant: &mut Tenant,
    new: NewContent,
    cut: Option<Vec<chunking::Chunk>>,
) -> Result<Stored, ContentError> {
    if new.markdown.len() > MAX_MARKDOWN_BYTES {
        return Err(ContentError::Invalid(format!("the text is larger than {MAX_MARKDOWN_BYTES} bytes")));
    }
    if new.title.trim().is_empty() {
        return Err(ContentError::Invalid("the title is empty".into()));
    }
    let org_id = tenant.org().id;
    let hash = content_hash(&new.markdown);
    let words = word_count(&new.markdown);
    let title: String = new.title.trim().chars().take(1024).collect();
    let description = new.description.map(|d| d.chars().take(4096).collect::<String>());

    let same_hash: Option<(Uuid, Option<String>)> =
        sqlx::query_as("SELECT id, url FROM contents WHERE org_id = $1 AND content_hash = $2")
            .bind(org_id)
            .bind(&hash)
            .fetch_optional(tenant.conn())
            .await?;

    if let Some(url) = &new.url {
        let at_url: Option<(Uuid, String)> =
            sqlx::query_as("SELECT id, content_hash FROM contents WHERE org_id = $1 AND url = $2")
                .bind(org_id)
                .bind(url)
                .fetch_optional(tenant.conn())
                .await?;
        if let Some((id, old_hash)) = at_url {
            if old_hash == hash {
                return Ok(Stored::Unchanged(get(tenant, id).await?.ok_or(sqlx::Error::RowNotFound)?));
            }
            if let Some((existing_id, _)) = same_hash {
                return Ok(Stored::Duplicate { existing_id });
            }
            let sql = format!(
                "UPDATE contents SET title = $3, description = $4, language = $5, markdown = $6, word_count = $7,
                        content_hash = $8, crawl_id = coalesce($9, crawl_id), updated_at = now()
                  WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
            );
            let item = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(id)
                .bind(&title)
                .bind(&description)
                .bind(&new.language)
                .bind(&new.markdown)
                .bind(words)
                .bind(&hash)
                .bind(new.crawl_id)
                .fetch_one(tenant.conn())
                .await?;
            let cut = cut.unwrap_or_else(|| chunking::chunk(&new.markdown));
            chunks::replace(tenant, id, &cut, new.language.as_deref()).await?;
            return Ok(Stored::Updated(item));
        }
    }
    if let Some((existing_id, _)) = same_hash {
        return Ok(Stored::Duplicate { existing_id });
    }

    let limit = tenant.org().limits.max_content_items;
    if !usage::try_consume(tenant.conn(), org_id, Metric::ContentItems, 1, i64::from(limit)).await? {
        return Err(ContentError::LimitReached { limit });
    }
    let sql = format!(
        "INSERT INTO contents (org_id, source, crawl_id, url, title, description, language, markdown, word_count,
                               content_hash, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    );
    let inserted: Option<ContentItem> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(new.source)
        .bind(new.crawl_id)
        .bind(&new.url)
        .bind(&title)
        .bind(&description)
        .bind(&new.language)
        .bind(&new.markdown)
        .bind(words)
        .bind(&hash)
        .bind(tenant.user_id())
        .fetch_optional(tenant.conn())
        .await?;
    let Some(item) = inserted else {
        // A concurrent store committed the same content or URL first: give the slot back.
        usage::release(tenant.conn(), org_id, Metric::ContentItems, 1).await?;
        let existing_id: Uuid =
            sqlx::query_scalar("SELECT id FROM contents WHERE org_id = $1 AND (content_hash = $2 OR url = $3) LIMIT 1")
                .bind(org_id)
                .bind(&hash)
                .bind(&new.url)
                .fetch_one(tenant.conn())
                .await?;
        return Ok(Stored::Duplicate { existing_id });
    };
    usage::record_event(tenant, Metric::ContentItems, 1).await?;
    let cut = cut.unwrap_or_else(|| chunking::chunk(&item.markdown));
    chunks::replace(tenant, item.id, &cut, item.language.as_deref()).await?;
    Ok(Stored::Created(item))
}

/// One item of the tenant's library.
pub async fn get(tenant: &mut Tenant, id: Uuid) -> Result<Option<ContentItem>, sqlx::Error> {
    let org_id = tenant.org().id;
    let sql = format!("SELECT {COLUMNS} FROM contents WHERE org_id = $1 AND id = $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(tenant.conn()).await
}

/// Deletes an item and its chunks (their vectors queued for deletion) and gives its slot
/// back to the limit. Returns whether it existed.
pub async fn delete(tenant: &mut Tenant, id: Uuid) -> Result<bool, sqlx::Error> {
    let org_id = tenant.org().id;
    chunks::remove(tenant, id).await?;
    let deleted = sqlx::query("DELETE FROM contents WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(tenant.conn())
        .await?
        .rows_affected();
    if deleted > 0 {
        usage::release(tenant.conn(), org_id, Metric::ContentItems, 1).await?;
        usage::record_event(tenant, Metric::ContentItems, -1).await?;
    }
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_ignore_reflowed_whitespace_but_not_words() {
        assert_eq!(content_hash("Hello  world\n\nagain"), content_hash("Hello world again"));
        assert_ne!(content_hash("Hello world"), content_hash("Hello there"));
        assert_eq!(content_hash("").len(), 64);
    }

    #[test]
    fn words_are_runs_with_letters_or_digits() {
        assert_eq!(word_count("# Title\n\nOne two - three, 4 --- ***"), 5);
        assert_eq!(word_count(""), 0);
    }
}
