//! Work that continues after the response: under Vercel through `AppState::wait_until`
//! (the function stays alive until it ends or reaches its max duration), elsewhere on the
//! Tokio runtime.

use std::{future::Future, pin::Pin, sync::Arc};

use axum::{extract::FromRequestParts, http::request::Parts};

/// A boxed unit of background work.
pub type Work = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Hands work to the runtime's background mechanism. As an extractor it never fails: without
/// the Vercel adapter's handle in the request it spawns on Tokio.
#[derive(Clone, Default)]
pub struct Background(Option<Arc<dyn Fn(Work) + Send + Sync>>);

impl Background {
    /// A handle that passes work to `submit` (the Vercel adapter wraps `wait_until`).
    pub fn new(submit: impl Fn(Work) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(submit)))
    }

    /// Runs `work` after (or while) the response is sent.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        match &self.0 {
            Some(submit) => submit(Box::pin(work)),
            None => {
                tokio::spawn(work);
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Background {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Background>().cloned().unwrap_or_default())
    }
}
