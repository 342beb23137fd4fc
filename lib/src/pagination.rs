//! Keyset pagination shared by every list: `?limit=&cursor=` in, `{items, next_cursor}` out.
//! Cursors are opaque to clients (base64 of the last row's sort key) and validated on the way in.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ApiError;

/// Largest page a client may ask for.
pub const MAX_LIMIT: i64 = 100;
/// Page size when the client does not say.
pub const DEFAULT_LIMIT: i64 = 50;

/// Query parameters of a list request.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Items per page, 1 to 100.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated limit.
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::bad_request("invalid_limit", format!("limit must be between 1 and {MAX_LIMIT}"))),
        }
    }

    /// The decoded (time, id) position after which the page starts.
    pub fn after(&self) -> Result<Option<(OffsetDateTime, Uuid)>, ApiError> {
        self.cursor.as_deref().map(decode).transpose()
    }
}

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Encodes a (time, id) sort key as a cursor.
pub fn encode(at: OffsetDateTime, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", at.unix_timestamp_nanos(), id))
}

fn decode(cursor: &str) -> Result<(OffsetDateTime, Uuid), ApiError> {
    let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is not one this API issued");
    if cursor.len() > 200 {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = std::str::from_utf8(&raw).map_err(|_| invalid())?;
    let (nanos, id) = text.split_once(':').ok_or_else(invalid)?;
    let at = nanos
        .parse::<i128>()
        .ok()
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .ok_or_else(invalid)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| invalid())?))
}

/// Builds a page from rows fetched with `limit + 1`: the extra row only says there is more.
pub fn page<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> (OffsetDateTime, Uuid),
    item: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next_cursor = if more {
        rows.last().map(|r| {
            let (at, id) = key(r);
            encode(at, id)
        })
    } else {
        None
    };
    Page { items: rows.into_iter().map(item).collect(), next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let id = Uuid::new_v4();
        let q = PageQuery { limit: None, cursor: Some(encode(at, id)) };
        assert_eq!(q.after().unwrap(), Some((at, id)));
        for bad in ["", "!!!", "bm90LWEtY3Vyc29y", &"A".repeat(500)] {
            let q = PageQuery { limit: None, cursor: Some(bad.to_owned()) };
            assert_eq!(q.after().unwrap_err().code(), "invalid_cursor", "{bad}");
        }
    }

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        for (limit, ok) in
            [(None, true), (Some(1), true), (Some(100), true), (Some(0), false), (Some(101), false), (Some(-5), false)]
        {
            assert_eq!(PageQuery { limit, cursor: None }.limit().is_ok(), ok, "{limit:?}");
        }
    }
}
