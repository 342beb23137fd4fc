//! Pinecone Inference: `POST {api}/embed` with `llama-text-embed-v2`, `{model, parameters:
//! {input_type, truncate, dimension}, inputs: [{text}]}` → `{data: [{values}], usage:
//! {total_tokens}}`.

use serde::{Deserialize, Serialize};

use super::{
    BoxFuture, EmbedError, Embedder, Embeddings, InputKind, normalize,
    retry::{self, Backoff},
};
use crate::config::Secret;

/// The hosted model.
pub const DEFAULT_MODEL: &str = "llama-text-embed-v2";
/// Dimensions llama-text-embed-v2 offers.
pub const DIMENSIONS: [usize; 5] = [384, 512, 768, 1024, 2048];
/// Its default dimension.
pub const DEFAULT_DIMENSIONS: usize = 1024;

/// A Pinecone Inference client.
pub struct PineconeEmbedder {
    http: reqwest::Client,
    url: String,
    key: Secret,
    api_version: String,
    model: String,
    dimensions: usize,
    backoff: Backoff,
}

impl PineconeEmbedder {
    /// A client for `api_url` (`https://api.pinecone.io`).
    pub fn new(
        http: reqwest::Client,
        api_url: &str,
        key: Secret,
        api_version: String,
        model: String,
        dimensions: usize,
    ) -> anyhow::Result<Self> {
        let url = format!("{}/embed", api_url.trim_end_matches('/'));
        url::Url::parse(&url).map_err(|e| anyhow::anyhow!("PINECONE_API_URL is not a URL: {e}"))?;
        Ok(Self { http, url, key, api_version, model, dimensions, backoff: Backoff::default() })
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
    parameters: Parameters,
    inputs: Vec<Input<'a>>,
}

#[derive(Serialize)]
struct Parameters {
    input_type: &'static str,
    truncate: &'static str,
    dimension: usize,
}

#[derive(Serialize)]
struct Input<'a> {
    text: &'a str,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Item {
    values: Vec<f32>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    total_tokens: u64,
}

impl Embedder for PineconeEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn max_batch(&self) -> usize {
        96
    }

    fn embed<'a>(&'a self, texts: &'a [String], kind: InputKind) -> BoxFuture<'a, Result<Embeddings, EmbedError>> {
        Box::pin(async move {
            let body = Request {
                model: &self.model,
                parameters: Parameters {
                    input_type: if kind == InputKind::Query { "query" } else { "passage" },
                    truncate: "END",
                    dimension: self.dimensions,
                },
                inputs: texts.iter().map(|t| Input { text: t }).collect(),
            };
            let bytes = retry::send(self.backoff, "Pinecone embed", || {
                self.http
                    .post(&self.url)
                    .header("Api-Key", self.key.expose())
                    .header("X-Pinecone-Api-Version", &self.api_version)
                    .json(&body)
            })
            .await
            .map_err(|e| EmbedError::Provider(e.to_string()))?;
            let parsed: Response = serde_json::from_slice(&bytes)
                .map_err(|e| EmbedError::Provider(format!("Pinecone embed: unexpected response: {e}")))?;
            let mut vectors: Vec<Vec<f32>> = parsed.data.into_iter().map(|d| d.values).collect();
            vectors.iter_mut().for_each(|v| normalize(v));
            Ok(Embeddings { vectors, tokens: parsed.usage.map_or(0, |u| u.total_tokens) })
        })
    }
}
