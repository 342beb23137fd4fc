//! OpenAI-compatible `POST {base}/embeddings` (OpenAI, Azure OpenAI's v1 API, Ollama, vLLM):
//! `{model, input: [..], dimensions?, encoding_format: "float"}` → `{data: [{index,
//! embedding}], usage: {prompt_tokens, total_tokens}}`.

use serde::{Deserialize, Serialize};

use super::{
    BoxFuture, EmbedError, Embedder, Embeddings, InputKind, normalize,
    retry::{self, Backoff},
};
use crate::config::Secret;

/// Model used when `EMBEDDING_MODEL` is unset.
pub const DEFAULT_MODEL: &str = "text-embedding-3-small";
/// Dimension requested when `EMBEDDING_DIMENSIONS` is unset (text-embedding-3 shortens).
pub const DEFAULT_DIMENSIONS: usize = 1536;

/// An OpenAI-compatible embeddings client.
pub struct OpenAiEmbedder {
    http: reqwest::Client,
    url: String,
    key: Secret,
    model: String,
    dimensions: usize,
    backoff: Backoff,
}

impl OpenAiEmbedder {
    /// A client for `base_url` (e.g. `https://api.openai.com/v1`).
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        key: Secret,
        model: String,
        dimensions: usize,
    ) -> anyhow::Result<Self> {
        let url = format!("{}/embeddings", base_url.trim_end_matches('/'));
        url::Url::parse(&url).map_err(|e| anyhow::anyhow!("OPENAI_BASE_URL is not a URL: {e}"))?;
        Ok(Self { http, url, key, model, dimensions, backoff: Backoff::default() })
    }

    /// Changes the retry policy (tests use short pauses).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
    dimensions: usize,
    encoding_format: &'static str,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    total_tokens: u64,
}

impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn max_batch(&self) -> usize {
        // OpenAI accepts up to 2048 inputs; smaller batches keep requests well under limits.
        128
    }

    fn embed<'a>(&'a self, texts: &'a [String], _kind: InputKind) -> BoxFuture<'a, Result<Embeddings, EmbedError>> {
        Box::pin(async move {
            let body =
                Request { model: &self.model, input: texts, dimensions: self.dimensions, encoding_format: "float" };
            let bytes = retry::send(self.backoff, "OpenAI embeddings", || {
                self.http.post(&self.url).bearer_auth(self.key.expose()).json(&body)
            })
            .await
            .map_err(|e| EmbedError::Provider(e.to_string()))?;
            let parsed: Response = serde_json::from_slice(&bytes)
                .map_err(|e| EmbedError::Provider(format!("OpenAI embeddings: unexpected response: {e}")))?;
            let mut vectors = vec![Vec::new(); texts.len()];
            for item in parsed.data {
                let slot = vectors.get_mut(item.index).ok_or_else(|| {
                    EmbedError::Provider(format!("OpenAI embeddings: index {} out of range", item.index))
                })?;
                *slot = item.embedding;
            }
            vectors.iter_mut().for_each(|v| normalize(v));
            Ok(Embeddings { vectors, tokens: parsed.usage.map_or(0, |u| u.total_tokens) })
        })
    }
}
