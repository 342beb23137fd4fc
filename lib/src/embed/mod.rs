//! Embeddings: the [`Embedder`] trait and its providers, chosen by settings: an
//! OpenAI-compatible `/v1/embeddings` server, Pinecone Inference, or the local
//! all-MiniLM-L6-v2 model (feature `local-embeddings`).

#[cfg(feature = "local-embeddings")]
pub mod local;
pub mod openai;
pub mod pinecone;
pub mod retry;

use std::{future::Future, pin::Pin, sync::Arc};

use anyhow::{Context, bail};

use crate::config::{EmbeddingProvider, Settings};

/// A boxed future, so the traits stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a text is embedded as: some models embed queries and passages differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A chunk to be found.
    Passage,
    /// A search query.
    Query,
}

/// Vectors for a batch of texts, in input order, with the tokens the provider counted.
#[derive(Clone, Debug, Default)]
pub struct Embeddings {
    /// One unit-length vector per input.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens consumed (for usage metering).
    pub tokens: u64,
}

/// Why embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The provider refused or failed after retries; worth retrying later.
    #[error("embedding provider failed: {0}")]
    Provider(String),
    /// The local model could not be loaded or run.
    #[error("{0}")]
    Model(String),
}

/// Turns texts into vectors of a fixed dimension.
pub trait Embedder: Send + Sync {
    /// The model's name, recorded with the vectors.
    fn model(&self) -> &str;
    /// Length of every vector.
    fn dimensions(&self) -> usize;
    /// Largest batch one call accepts; callers split longer lists.
    fn max_batch(&self) -> usize;
    /// Embeds `texts` (at most [`Embedder::max_batch`]).
    fn embed<'a>(&'a self, texts: &'a [String], kind: InputKind) -> BoxFuture<'a, Result<Embeddings, EmbedError>>;
    /// Makes sure the embedder can work (loads a local model); a clear error when not.
    fn ready(&self) -> Result<(), EmbedError> {
        Ok(())
    }
}

/// Embeds any number of texts, batch by batch.
pub async fn embed_all(embedder: &dyn Embedder, texts: &[String], kind: InputKind) -> Result<Embeddings, EmbedError> {
    let mut out = Embeddings::default();
    for batch in texts.chunks(embedder.max_batch().max(1)) {
        let e = embedder.embed(batch, kind).await?;
        if e.vectors.len() != batch.len() || e.vectors.iter().any(|v| v.len() != embedder.dimensions()) {
            return Err(EmbedError::Provider(format!(
                "expected {} vectors of {} dimensions, got {}",
                batch.len(),
                embedder.dimensions(),
                e.vectors.len()
            )));
        }
        out.vectors.extend(e.vectors);
        out.tokens += e.tokens;
    }
    Ok(out)
}

/// Scales a vector to unit length (cosine similarity becomes a dot product).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The embedder the settings choose; `None` when embeddings are turned off.
pub fn from_settings(settings: &Settings, http: &reqwest::Client) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let e = &settings.embedding;
    Ok(match e.provider {
        EmbeddingProvider::None => None,
        EmbeddingProvider::Local => {
            #[cfg(feature = "local-embeddings")]
            {
                Some(Arc::new(local::LocalEmbedder::new(e.model_dir.clone())))
            }
            #[cfg(not(feature = "local-embeddings"))]
            {
                bail!(
                    "EMBEDDING_PROVIDER=local needs the `local-embeddings` feature, which this build lacks; \
                     choose openai or pinecone"
                )
            }
        }
        EmbeddingProvider::OpenAi => {
            let key = e.openai_api_key.clone().context("EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY")?;
            Some(Arc::new(openai::OpenAiEmbedder::new(
                http.clone(),
                &e.openai_base_url,
                key,
                e.model.clone().unwrap_or_else(|| openai::DEFAULT_MODEL.to_owned()),
                e.dimensions.unwrap_or(openai::DEFAULT_DIMENSIONS),
            )?))
        }
        EmbeddingProvider::Pinecone => {
            let key =
                settings.pinecone.api_key.clone().context("EMBEDDING_PROVIDER=pinecone needs PINECONE_API_KEY")?;
            let dimensions = e.dimensions.unwrap_or(pinecone::DEFAULT_DIMENSIONS);
            if !pinecone::DIMENSIONS.contains(&dimensions) {
                bail!("llama-text-embed-v2 offers {:?} dimensions, not {dimensions}", pinecone::DIMENSIONS);
            }
            Some(Arc::new(pinecone::PineconeEmbedder::new(
                http.clone(),
                &settings.pinecone.api_url,
                key,
                settings.pinecone.api_version.clone(),
                e.model.clone().unwrap_or_else(|| pinecone::DEFAULT_MODEL.to_owned()),
                dimensions,
            )?))
        }
    })
}
