//! Hosted LLM providers over HTTP: OpenAI-compatible chat completions and Anthropic
//! Messages, each with timeouts, retries with backoff on 429 / 5xx / connection failures, and
//! server-sent-event streaming.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::{LlmKind, LlmSettings};

/// Anthropic API version sent in `anthropic-version`.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// What the model is asked.
#[derive(Clone, Debug)]
pub struct Prompt {
    /// System prompt: role, voice, style guide, rules.
    pub system: String,
    /// User message: the task, the inputs and the numbered sources.
    pub user: String,
}

/// What the model answered.
#[derive(Clone, Debug, Default)]
pub struct Completion {
    /// The draft.
    pub text: String,
    /// The model that answered (as the provider names it).
    pub model: String,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Completion tokens.
    pub output_tokens: u32,
}

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Unreachable, timed out, rate-limited or failing after retries; try again later.
    #[error("{0}")]
    Unavailable(String),
    /// The provider refused the request (bad key, bad request, policy).
    #[error("{0}")]
    Rejected(String),
}

/// A configured hosted provider.
#[derive(Clone, Debug)]
pub struct Provider {
    settings: LlmSettings,
}

impl Provider {
    /// The provider of these settings.
    pub fn new(settings: LlmSettings) -> Self {
        Self { settings }
    }

    /// `openai` or `anthropic`.
    pub fn name(&self) -> &'static str {
        match self.settings.kind {
            LlmKind::OpenAi => "openai",
            LlmKind::Anthropic => "anthropic",
        }
    }

    /// The configured model.
    pub fn model(&self) -> &str {
        &self.settings.model
    }

    fn endpoint(&self) -> String {
        match self.settings.kind {
            LlmKind::OpenAi => format!("{}/chat/completions", self.settings.base_url),
            LlmKind::Anthropic => format!("{}/v1/messages", self.settings.base_url),
        }
    }

    fn body(&self, prompt: &Prompt, stream: bool) -> Value {
        let s = &self.settings;
        match s.kind {
            LlmKind::OpenAi => {
                let mut body = json!({
                    "model": s.model,
                    "messages": [
                        {"role": "system", "content": prompt.system},
                        {"role": "user", "content": prompt.user},
                    ],
                    "max_completion_tokens": s.max_output_tokens,
                    "stream": stream,
                });
                if stream {
                    body["stream_options"] = json!({"include_usage": true});
                }
                body
            }
            LlmKind::Anthropic => json!({
                "model": s.model,
                "max_tokens": s.max_output_tokens,
                "system": prompt.system,
                "messages": [{"role": "user", "content": prompt.user}],
                "stream": stream,
            }),
        }
    }

    /// Sends the request, retrying 408, 429, 5xx and connection failures with exponential
    /// backoff (or the server's `Retry-After`, up to 10 s).
    async fn send(
        &self,
        http: &reqwest::Client,
        prompt: &Prompt,
        stream: bool,
    ) -> Result<reqwest::Response, ProviderError> {
        let s = &self.settings;
        let body = self.body(prompt, stream);
        let mut attempt = 0;
        loop {
            let mut req = http
                .post(self.endpoint())
                .timeout(if stream { s.stream_timeout } else { s.timeout })
                .header("content-type", "application/json")
                .json(&body);
            req = match s.kind {
                LlmKind::OpenAi => req.bearer_auth(s.api_key.expose()),
                LlmKind::Anthropic => {
                    req.header("x-api-key", s.api_key.expose()).header("anthropic-version", ANTHROPIC_VERSION)
                }
            };
            if stream {
                req = req.header("accept", "text/event-stream");
            }
            let (retryable, wait, error) = match req.send().await {
                Ok(res) if res.status().is_success() => return Ok(res),
                Ok(res) => {
                    let status = res.status();
                    let retry_after = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|secs| Duration::from_secs(secs.min(10)));
                    let text = res.text().await.unwrap_or_default();
                    let message = error_message(&text);
                    let retryable = matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error();
                    let detail = format!("{} answered {}: {message}", self.name(), status.as_u16());
                    let error =
                        if retryable { ProviderError::Unavailable(detail) } else { ProviderError::Rejected(detail) };
                    (retryable, retry_after, error)
                }
                Err(err) => {
                    let what = if err.is_timeout() { "timed out" } else { "could not be reached" };
                    (true, None, ProviderError::Unavailable(format!("{} {what}", self.name())))
                }
            };
            if !retryable || attempt >= s.max_retries {
                if attempt > 0
                    && let ProviderError::Unavailable(d) = error
                {
                    return Err(ProviderError::Unavailable(format!("{d} (after {} attempts)", attempt + 1)));
                }
                return Err(error);
            }
            let backoff = s.retry_base.saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(10));
            tokio::time::sleep(wait.unwrap_or(backoff)).await;
            attempt += 1;
        }
    }

    /// One completion, whole.
    pub async fn complete(&self, http: &reqwest::Client, prompt: &Prompt) -> Result<Completion, ProviderError> {
        let res = self.send(http, prompt, false).await?;
        let body: Value = res
            .json()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("{} sent an unreadable answer: {e}", self.name())))?;
        let u32_at = |v: &Value| v.as_u64().unwrap_or(0).min(u64::from(u32::MAX)) as u32;
        let model = body["model"].as_str().unwrap_or(&self.settings.model).to_owned();
        let completion = match self.settings.kind {
            LlmKind::OpenAi => Completion {
                text: body["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_owned(),
                model,
                input_tokens: u32_at(&body["usage"]["prompt_tokens"]),
                output_tokens: u32_at(&body["usage"]["completion_tokens"]),
            },
            LlmKind::Anthropic => Completion {
                text: body["content"]
                    .as_array()
                    .map(|blocks| {
                        blocks.iter().filter(|b| b["type"] == "text").filter_map(|b| b["text"].as_str()).collect()
                    })
                    .unwrap_or_default(),
                model,
                input_tokens: u32_at(&body["usage"]["input_tokens"]),
                output_tokens: u32_at(&body["usage"]["output_tokens"]),
            },
        };
        if completion.text.trim().is_empty() {
            return Err(ProviderError::Rejected(format!("{} returned an empty draft", self.name())));
        }
        Ok(completion)
    }

    /// One completion, streamed: each piece of text goes to `deltas` as it arrives; the whole
    /// completion (with usage) is returned at the end.
    pub async fn stream(
        &self,
        http: &reqwest::Client,
        prompt: &Prompt,
        deltas: &mpsc::Sender<String>,
    ) -> Result<Completion, ProviderError> {
        let mut res = self.send(http, prompt, true).await?;
        let mut parser = SseParser::default();
        let mut out = Completion { model: self.settings.model.clone(), ..Default::default() };
        let broken = |e: reqwest::Error| ProviderError::Unavailable(format!("{} stream broke off: {e}", self.name()));
        while let Some(chunk) = res.chunk().await.map_err(broken)? {
            for event in parser.push(&chunk) {
                if event.data == "[DONE]" {
                    continue;
                }
                let Ok(data) = serde_json::from_str::<Value>(&event.data) else { continue };
                if let Some(piece) = self.apply(&data, &mut out)? {
                    out.text.push_str(&piece);
                    // A client that went away does not stop the generation being stored.
                    let _ = deltas.send(piece).await;
                }
            }
        }
        if out.text.trim().is_empty() {
            return Err(ProviderError::Unavailable(format!("{} stream ended without a draft", self.name())));
        }
        Ok(out)
    }

    /// Folds one stream event into the completion; returns the text it adds.
    fn apply(&self, data: &Value, out: &mut Completion) -> Result<Option<String>, ProviderError> {
        let u32_at = |v: &Value| v.as_u64().map(|n| n.min(u64::from(u32::MAX)) as u32);
        if data.get("error").is_some_and(|e| !e.is_null()) {
            let message =
                data["error"]["message"].as_str().unwrap_or("error event").chars().take(300).collect::<String>();
            return Err(ProviderError::Unavailable(format!("{} stream failed: {message}", self.name())));
        }
        match self.settings.kind {
            LlmKind::OpenAi => {
                if let Some(m) = data["model"].as_str() {
                    out.model = m.to_owned();
                }
                if let Some(n) = u32_at(&data["usage"]["prompt_tokens"]) {
                    out.input_tokens = n;
                }
                if let Some(n) = u32_at(&data["usage"]["completion_tokens"]) {
                    out.output_tokens = n;
                }
                Ok(data["choices"][0]["delta"]["content"].as_str().filter(|s| !s.is_empty()).map(str::to_owned))
            }
            LlmKind::Anthropic => match data["type"].as_str() {
                Some("message_start") => {
                    if let Some(m) = data["message"]["model"].as_str() {
                        out.model = m.to_owned();
                    }
                    out.input_tokens = u32_at(&data["message"]["usage"]["input_tokens"]).unwrap_or(0);
                    out.output_tokens = u32_at(&data["message"]["usage"]["output_tokens"]).unwrap_or(0);
                    Ok(None)
                }
                Some("content_block_delta") if data["delta"]["type"] == "text_delta" => {
                    Ok(data["delta"]["text"].as_str().map(str::to_owned))
                }
                Some("message_delta") => {
                    if let Some(n) = u32_at(&data["usage"]["output_tokens"]) {
                        out.output_tokens = n;
                    }
                    if let Some(n) = u32_at(&data["usage"]["input_tokens"]) {
                        out.input_tokens = n;
                    }
                    Ok(None)
                }
                _ => Ok(None),
            },
        }
    }
}

/// The provider's own message from an error body (`{"error": {"message"}}` in both APIs),
/// bounded; the raw body otherwise.
fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message =
        parsed.as_ref().and_then(|v| v["error"]["message"].as_str().or_else(|| v["message"].as_str())).unwrap_or(body);
    let message: String = message.chars().take(300).collect();
    if message.trim().is_empty() { "no details".into() } else { message }
}

/// One server-sent event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` field, when present.
    pub event: Option<String>,
    /// `data:` lines joined by newlines.
    pub data: String,
}

/// Incremental server-sent-events parser: feed it chunks as they arrive.
#[derive(Default)]
pub struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    /// Adds a chunk and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buf.extend(chunk.iter().filter(|b| **b != b'\r'));
        let mut events = Vec::new();
        while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
            let raw: Vec<u8> = self.buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&raw);
            let (mut event, mut data) = (None, Vec::new());
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                }
            }
            if !data.is_empty() {
                events.push(SseEvent { event, data: data.join("\n") });
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_survive_chunk_boundaries_and_crlf() {
        let mut p = SseParser::default();
        assert!(p.push(b"event: message_start\r\ndata: {\"a\"").is_empty());
        let events = p.push(b":1}\r\n\r\n: comment\n\ndata: [DONE]\n\n");
        assert_eq!(events[0], SseEvent { event: Some("message_start".into()), data: "{\"a\":1}".into() });
        assert_eq!(events[1].data, "[DONE]");
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn error_bodies_yield_the_providers_message() {
        assert_eq!(
            error_message(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            "Overloaded"
        );
        assert_eq!(
            error_message(r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error"}}"#),
            "Incorrect API key"
        );
        assert_eq!(error_message(""), "no details");
    }
}
