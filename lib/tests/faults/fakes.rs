//! Normal answers of the hosted services the fault server stands in front of: an
//! OpenAI-compatible embeddings endpoint and chat completions endpoint.

use std::sync::Arc;

use axum::{Json, http::StatusCode, response::IntoResponse};
use serde_json::{Value, json};

use crate::fault_server::Handler;

/// Dimensions of the fake embedder (one pgvector indexes).
pub const DIMENSIONS: usize = 384;
/// Tokens the fake embedder counts per input.
pub const TOKENS_PER_INPUT: usize = 7;

/// A deterministic vector for `text`.
pub fn vector_for(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; DIMENSIONS];
    for (i, b) in text.bytes().enumerate() {
        v[(i + b as usize) % DIMENSIONS] += 1.0;
    }
    v
}

/// `POST /v1/embeddings` of an OpenAI-compatible server.
pub fn embeddings() -> Handler {
    Arc::new(|_, path, _, body| {
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return (StatusCode::BAD_REQUEST, "not JSON").into_response();
        };
        if path != "/v1/embeddings" {
            return StatusCode::NOT_FOUND.into_response();
        }
        let inputs: Vec<&str> =
            body["input"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(Value::as_str).collect());
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector_for(t)}))
            .collect();
        let tokens = TOKENS_PER_INPUT * inputs.len();
        Json(json!({"object": "list", "data": data, "model": body["model"],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
        .into_response()
    })
}

/// The texts an embeddings request asked for.
pub fn embedding_inputs(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b["input"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()))
        .unwrap_or_default()
}

/// `POST /v1/chat/completions` answering `text` with token usage.
pub fn chat(text: &'static str) -> Handler {
    Arc::new(move |_, _, _, _| {
        Json(json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}}))
        .into_response()
    })
}
