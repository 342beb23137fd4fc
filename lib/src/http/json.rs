//! `ApiJson`: the JSON body extractor and responder whose failures are problem documents.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::ApiError;

/// A JSON request or response body. As an extractor it requires `application/json`, honours
/// the body cap (413) and names the offending field in a 400.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(_)
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::new(rejection.status(), "payload_too_large", "the request body is too large")
            }
            other => ApiError::bad_request("unreadable_body", format!("the request body could not be read: {other}")),
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a JSON document, naming the path of the first offending field.
///
/// Strings holding U+0000 are refused: Postgres stores neither it in `text` nor `\u0000` in
/// `jsonb`, so such a value would otherwise fail deep in a handler as a 500.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if has_escaped_nul(bytes) {
        return Err(ApiError::bad_request("invalid_body", "invalid JSON body: strings may not contain \\u0000"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let detail = if path == "." || path.is_empty() {
            format!("invalid JSON body: {inner}")
        } else {
            format!("invalid JSON body at `{path}`: {inner}")
        };
        ApiError::bad_request("invalid_body", detail)
    })
}

/// Whether a JSON text has a `\u0000` escape. A raw NUL is already invalid JSON, and a
/// backslash can only occur inside strings, so skipping each escaped character is enough.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(err) => ApiError::internal(err).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_escape_is_refused_and_an_escaped_backslash_before_u0000_is_not_one() {
        let err = parse::<serde_json::Value>(br#"{"a": ["x\u0000"]}"#).unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "invalid_body"));
        assert!(parse::<serde_json::Value>(br#"{"a": "\\u0000"}"#).is_ok());
        assert!(parse::<serde_json::Value>(br#"{"a": "\u00001"}"#).is_err());
        assert!(parse::<serde_json::Value>(br#"{"a": "\u0001"}"#).is_ok());
    }
}
