//! Generation: marketing templates, the measured brand voice and style guide, retrieval of
//! the org's own sources, prompts, LLM providers (and the offline extractive composer), and
//! the stored generations with their citations.

pub mod extractive;
pub mod generation;
pub mod guide;
pub mod prompt;
pub mod providers;
pub mod retrieve;
pub mod templates;
pub mod voice;

pub use retrieve::{FullTextRetriever, HybridRetriever, Retriever, Source};
