//! The local embedding model: all-MiniLM-L6-v2 (384 dimensions) on candle, read from
//! `VOICEFORGE_MODEL_DIR` (`scripts/model` fetches it). The bundled tokenizer pads every
//! input to 128 tokens; we pad to the batch's longest instead, truncate at 256, mean-pool
//! over the attention mask and L2-normalize, as sentence-transformers does.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::{BoxFuture, EmbedError, Embedder, Embeddings, InputKind};

/// The model's name, recorded with its vectors.
pub const MODEL: &str = "all-MiniLM-L6-v2";
/// Its dimension.
pub const DIMENSIONS: usize = 384;
/// Longest input in word pieces; the rest is cut off.
pub const MAX_TOKENS: usize = 256;
/// Texts per model call when a batch is spread over the cores.
pub const MICRO_BATCH: usize = 16;

/// The loaded model and tokenizer.
pub struct LocalModel {
    model: BertModel,
    tokenizer: Tokenizer,
}

impl LocalModel {
    /// Loads the three model files from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let missing = |what: &str, err: &dyn std::fmt::Display| {
            EmbedError::Model(format!(
                "the local embedding model is missing or unreadable in {} ({what}: {err}); \
                 fetch it with `scripts/model` (or set VOICEFORGE_MODEL_DIR)",
                dir.display()
            ))
        };
        let config = std::fs::read_to_string(dir.join("config.json")).map_err(|e| missing("config.json", &e))?;
        let config: Config = serde_json::from_str(&config).map_err(|e| missing("config.json", &e))?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| missing("tokenizer.json", &e))?;
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| missing("tokenizer.json", &e))?;
        let weights = std::fs::read(dir.join("model.safetensors")).map_err(|e| missing("model.safetensors", &e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| missing("model.safetensors", &e))?;
        let model = BertModel::load(vb, &config).map_err(|e| missing("model.safetensors", &e))?;
        Ok(Self { model, tokenizer })
    }

    /// Embeds texts on every core: sorted by length (so each model call pads little), cut into
    /// batches of [`MICRO_BATCH`], run by one thread per core; vectors come back in input
    /// order.
    pub fn embed_parallel(&self, texts: &[String]) -> Result<Embeddings, EmbedError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if texts.len() <= MICRO_BATCH || threads == 1 {
            return self.embed(texts);
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let batches: Vec<&[usize]> = order.chunks(MICRO_BATCH).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done: Mutex<Vec<(usize, Result<Embeddings, EmbedError>)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads.min(batches.len()) {
                scope.spawn(|| {
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(batch) = batches.get(b) else { break };
                        let part: Vec<String> = batch.iter().map(|&i| texts[i].clone()).collect();
                        let result = self.embed(&part);
                        done.lock().unwrap_or_else(|p| p.into_inner()).push((b, result));
                    }
                });
            }
        });
        let mut vectors = vec![Vec::new(); texts.len()];
        let mut tokens = 0;
        for (b, result) in done.into_inner().unwrap_or_else(|p| p.into_inner()) {
            let e = result?;
            tokens += e.tokens;
            for (&i, v) in batches[b].iter().zip(e.vectors) {
                vectors[i] = v;
            }
        }
        Ok(Embeddings { vectors, tokens })
    }

    /// Embeds a batch in one model call: unit-length vectors and the word pieces counted.
    pub fn embed(&self, texts: &[String]) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        let fail = |e: &dyn std::fmt::Display| EmbedError::Model(format!("running the local model: {e}"));
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| fail(&e))?;
        let rows = encodings.len();
        let len = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows * len);
        let mut mask = Vec::with_capacity(rows * len);
        let mut tokens = 0u64;
        for e in &encodings {
            ids.extend(e.get_ids().iter().copied());
            mask.extend(e.get_attention_mask().iter().copied());
            tokens += e.get_attention_mask().iter().map(|&m| u64::from(m)).sum::<u64>();
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let device = &Device::Cpu;
            let ids = Tensor::from_vec(ids, (rows, len), device)?;
            let mask = Tensor::from_vec(mask, (rows, len), device)?;
            let type_ids = ids.zeros_like()?;
            let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?; // (rows, len, 384)
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (rows, len, 1)
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (rows, 384)
            let counts = mask.sum(1)?.clamp(1e-9, f32::MAX)?; // (rows, 1)
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
            mean.broadcast_div(&norms)?.to_vec2::<f32>()
        };
        let vectors = run().map_err(|e| fail(&e))?;
        Ok(Embeddings { vectors, tokens })
    }
}

/// Loaded models by folder, shared by every embedder of the process.
static MODELS: Mutex<Option<HashMap<PathBuf, Arc<LocalModel>>>> = Mutex::new(None);

/// The model in `dir`, loaded once per process.
pub fn shared_model(dir: &Path) -> Result<Arc<LocalModel>, EmbedError> {
    let mut models = MODELS.lock().unwrap_or_else(|p| p.into_inner());
    let models = models.get_or_insert_with(HashMap::new);
    if let Some(model) = models.get(dir) {
        return Ok(model.clone());
    }
    let model = Arc::new(LocalModel::load(dir)?);
    models.insert(dir.to_owned(), model.clone());
    Ok(model)
}

/// The local model as an [`Embedder`]; loads on first use (or on [`Embedder::ready`]).
pub struct LocalEmbedder {
    dir: PathBuf,
}

impl LocalEmbedder {
    /// An embedder reading the model from `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl Embedder for LocalEmbedder {
    fn model(&self) -> &str {
        MODEL
    }

    fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    fn max_batch(&self) -> usize {
        64
    }

    fn ready(&self) -> Result<(), EmbedError> {
        shared_model(&self.dir).map(|_| ())
    }

    fn embed<'a>(&'a self, texts: &'a [String], _kind: InputKind) -> BoxFuture<'a, Result<Embeddings, EmbedError>> {
        let dir = self.dir.clone();
        let texts = texts.to_vec();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || shared_model(&dir)?.embed_parallel(&texts))
                .await
                .map_err(|e| EmbedError::Model(format!("the embedding task failed: {e}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_dir() -> PathBuf {
        std::env::var_os("VOICEFORGE_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.voiceforge/models/all-MiniLM-L6-v2"))
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn minilm_matches_the_reference_similarities_whatever_the_batch_padding() {
        let model = shared_model(&model_dir()).unwrap_or_else(|e| panic!("{e}"));
        let texts: Vec<String> = [
            "The cat sits on the mat.",
            "A kitten is resting on a rug.",
            "Quarterly revenue grew by twelve percent compared to last year.",
        ]
        .map(String::from)
        .to_vec();
        let batch = model.embed(&texts).unwrap();
        assert_eq!(batch.vectors.len(), 3);
        assert!(batch.vectors.iter().all(|v| v.len() == DIMENSIONS));
        let related = cos(&batch.vectors[0], &batch.vectors[1]);
        let unrelated = cos(&batch.vectors[0], &batch.vectors[2]);
        assert!((related - 0.641).abs() < 0.01, "cat/kitten cosine {related}");
        assert!(unrelated.abs() < 0.1, "unrelated cosine {unrelated}");
        // Alone (no padding) the vector is the same as in the padded batch.
        let alone = model.embed(&texts[..1]).unwrap();
        assert!(cos(&alone.vectors[0], &batch.vectors[0]) > 0.9999);
        assert!(batch.tokens > 20);
    }

    #[test]
    fn spreading_a_batch_over_the_cores_keeps_each_text_with_its_own_vector() {
        let model = shared_model(&model_dir()).unwrap_or_else(|e| panic!("{e}"));
        let texts: Vec<String> = (0..40)
            .map(|i| format!("Sentence {i} about {}.", "a topic of varying length ".repeat(i % 7 + 1)))
            .collect();
        let spread = model.embed_parallel(&texts).unwrap();
        assert_eq!(spread.vectors.len(), texts.len());
        for (i, text) in texts.iter().enumerate().step_by(7) {
            let alone = model.embed(std::slice::from_ref(text)).unwrap();
            assert!(cos(&alone.vectors[0], &spread.vectors[i]) > 0.9999, "text {i} got another text's vector");
        }
        assert_eq!(spread.tokens, model.embed(&texts).unwrap().tokens);
    }
}
