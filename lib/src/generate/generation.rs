//! A generation from start to stored: prepare (template, inputs, voice, guide, sources,
//! prompt) inside the tenant's transaction, draft outside it (the provider call may take a
//! while), then finish (citations, voice check) and store with usage and audit.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    Retriever, Source,
    guide::{self, StyleGuide, VoiceCheck},
    prompt::{self, PromptParts},
    providers::{Completion, Prompt, ProviderError},
    templates::{self, Template, TemplateError},
    voice::{self, VoiceProfile},
};
use crate::{
    audit::{self, AuditEvent},
    tenancy::Tenant,
    usage::{self, Metric},
};

/// Sources retrieved when the request does not say (`k`), and the most it may ask for.
pub const DEFAULT_K: usize = 6;
/// Upper bound of `k`.
pub const MAX_K: usize = 20;

/// Why a generation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The template does not exist in this organization.
    #[error("template was not found")]
    TemplateNotFound,
    /// The inputs do not fit the template.
    #[error(transparent)]
    Inputs(#[from] TemplateError),
    /// The library has nothing to ground a draft in.
    #[error(
        "the library is empty: add your content first (crawl your website or add pages to the library), then generate"
    )]
    LibraryEmpty,
    /// A request field is out of bounds.
    #[error("{0}")]
    Invalid(String),
    /// The provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// Retrieval or the database failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for GenerateError {
    fn from(err: sqlx::Error) -> Self {
        GenerateError::Internal(err.into())
    }
}

/// What a client asks for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// The template.
    pub template_id: Uuid,
    /// Field name → value.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Sources to retrieve (1–20, default 6).
    pub k: Option<usize>,
    /// Ground the draft only in these content items.
    pub content_ids: Option<Vec<Uuid>>,
    /// Stream the draft as server-sent events.
    #[serde(default)]
    pub stream: bool,
}

/// Everything a draft is made from, gathered in the tenant's transaction.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The template.
    pub template: Template,
    /// Validated inputs.
    pub inputs: BTreeMap<String, String>,
    /// Numbered sources (`[1]` is the first).
    pub sources: Vec<Source>,
    /// The measured voice.
    pub profile: Option<VoiceProfile>,
    /// The style guide.
    pub guide: StyleGuide,
    /// Words aimed at.
    pub target_words: u32,
    /// The prompt for a hosted model.
    pub prompt: Prompt,
}

/// Loads and checks everything, retrieves the sources and builds the prompt.
pub async fn prepare(
    tenant: &mut Tenant,
    retriever: &impl Retriever,
    req: &GenerateRequest,
) -> Result<Prepared, GenerateError> {
    let k = req.k.unwrap_or(DEFAULT_K);
    if !(1..=MAX_K).contains(&k) {
        return Err(GenerateError::Invalid(format!("k: must be 1 to {MAX_K}")));
    }
    if req.inputs.len() > 50 {
        return Err(GenerateError::Invalid("inputs: at most 50 fields".into()));
    }
    if req.content_ids.as_ref().is_some_and(|ids| ids.is_empty() || ids.len() > 100) {
        return Err(GenerateError::Invalid("content_ids: 1 to 100 ids when given".into()));
    }
    let template = templates::get(tenant, req.template_id).await?.ok_or(GenerateError::TemplateNotFound)?;
    templates::check_inputs(&template, &req.inputs)?;
    let inputs: BTreeMap<String, String> = req
        .inputs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();

    let org_id = tenant.org().id;
    let items: i64 = sqlx::query_scalar("SELECT count(*) FROM contents WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(tenant.conn())
        .await?;
    if items == 0 {
        return Err(GenerateError::LibraryEmpty);
    }
    let profile = voice::profile(tenant).await?.map(|p| p.profile);
    let guide = guide::get(tenant).await?.guide;
    let query = {
        let mut q: Vec<&str> = inputs.values().map(String::as_str).collect();
        if q.is_empty() {
            q.push(&template.description);
        }
        q.join(" ")
    };
    let sources = retriever.retrieve(tenant, &query, k, req.content_ids.as_deref()).await?;
    if sources.is_empty() {
        return Err(GenerateError::LibraryEmpty);
    }
    let target_words = template.target_length.map_or_else(|| template.kind.default_length(), |n| n as u32);
    let org_name = tenant.org().name.clone();
    let prompt = prompt::build(&PromptParts {
        org_name: &org_name,
        template: &template,
        inputs: &inputs,
        profile: profile.as_ref(),
        guide: &guide,
        sources: &sources,
        target_words,
    });
    Ok(Prepared { template, inputs, sources, profile, guide, target_words, prompt })
}

/// The offline draft of a prepared generation.
pub fn extractive(p: &Prepared) -> Completion {
    Completion {
        text: super::extractive::compose(
            &p.template,
            &p.inputs,
            &p.sources,
            &p.guide,
            p.profile.as_ref(),
            p.target_words,
        ),
        model: super::extractive::MODEL.into(),
        input_tokens: 0,
        output_tokens: 0,
    }
}

/// A source as shown with a generation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceRef {
    /// Its number in the prompt (`[n]`).
    pub n: usize,
    /// The content item.
    pub content_id: Uuid,
    /// The passage, when the source was a chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_id: Option<Uuid>,
    /// Its title.
    pub title: String,
    /// The headings above the passage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// Its URL.
    pub url: Option<String>,
    /// The passage given to the model (first 500 characters).
    pub excerpt: String,
}

/// A `[n]` marker of the draft, resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// The marker's number.
    pub n: usize,
    /// The content item it points to.
    pub content_id: Uuid,
    /// The passage it points to, when the source was a chunk (the library item opens there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_id: Option<Uuid>,
    /// Its title.
    pub title: String,
    /// Its URL.
    pub url: Option<String>,
}

/// Removes `[n]` markers that name no source and lists the sources the rest cite.
pub fn resolve_citations(text: &str, sources: &[Source]) -> (String, Vec<Citation>) {
    let mut out = String::with_capacity(text.len());
    let mut cited = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=3).contains(&digits) && after[digits..].starts_with(']') && !after[digits + 1..].starts_with('(') {
            let n: usize = after[..digits].parse().unwrap_or(0);
            if (1..=sources.len()).contains(&n) {
                out.push_str(&rest[open..open + digits + 2]);
                cited.insert(n);
            } else if out.ends_with(' ') && after[digits + 1..].starts_with(['.', ',', '!', '?', ';', ':', ' ']) {
                out.pop();
            }
            rest = &after[digits + 1..];
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    let citations = cited
        .into_iter()
        .map(|n| {
            let s = &sources[n - 1];
            Citation { n, content_id: s.content_id, chunk_id: s.chunk_id, title: s.title.clone(), url: s.url.clone() }
        })
        .collect();
    (out, citations)
}

/// Token usage of a generation.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Completion tokens.
    pub output_tokens: u32,
    /// Both.
    pub total_tokens: u32,
}

/// The template a generation was made from (a snapshot; `id` is null once it is deleted).
#[derive(Clone, Debug, Serialize)]
pub struct TemplateRef {
    /// Id, while the template exists.
    pub id: Option<Uuid>,
    /// Name at generation time.
    pub name: String,
    /// Kind at generation time.
    pub kind: String,
}

/// A stored generation.
#[derive(Clone, Debug, Serialize)]
pub struct Generation {
    /// Id.
    pub id: Uuid,
    /// Template.
    pub template: TemplateRef,
    /// Inputs given.
    pub inputs: BTreeMap<String, String>,
    /// The draft, with `[n]` markers.
    pub output: String,
    /// The sources the draft cites.
    pub citations: Vec<Citation>,
    /// Every source given to the model.
    pub sources: Vec<SourceRef>,
    /// The voice check of the draft.
    pub voice: VoiceCheck,
    /// `openai`, `anthropic` or `extractive`.
    pub provider: String,
    /// The model (`voiceforge-extractive` for offline drafts).
    pub model: String,
    /// Tokens used.
    pub usage: TokenUsage,
    /// Clerk id of the member who asked.
    pub created_by: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Checks the draft, resolves its citations, and stores it with usage (a generation and its
/// tokens) and an audit event, in the tenant's transaction.
pub async fn store(
    tenant: &mut Tenant,
    p: &Prepared,
    completion: Completion,
    provider: &str,
) -> Result<Generation, sqlx::Error> {
    let (output, citations) = resolve_citations(&completion.text, &p.sources);
    let check = guide::check(&output, &p.guide, p.profile.as_ref());
    let sources: Vec<SourceRef> = p
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| SourceRef {
            n: i + 1,
            content_id: s.content_id,
            chunk_id: s.chunk_id,
            title: s.title.clone(),
            heading: s.heading.clone(),
            url: s.url.clone(),
            excerpt: s.text.chars().take(500).collect(),
        })
        .collect();
    let model: String = completion.model.chars().take(128).collect();
    let (org_id, user) = (tenant.org().id, tenant.user_id());
    let (id, created_at): (Uuid, OffsetDateTime) = sqlx::query_as(
        "INSERT INTO generations (org_id, template_id, template_name, template_kind, inputs, output, sources, citations,
                                  provider, model, input_tokens, output_tokens, voice_score, voice_check, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING id, created_at",
    )
    .bind(org_id)
    .bind(p.template.id)
    .bind(&p.template.name)
    .bind(p.template.kind.as_str())
    .bind(sqlx::types::Json(&p.inputs))
    .bind(&output)
    .bind(sqlx::types::Json(&sources))
    .bind(sqlx::types::Json(&citations))
    .bind(provider)
    .bind(&model)
    .bind(completion.input_tokens.min(i32::MAX as u32) as i32)
    .bind(completion.output_tokens.min(i32::MAX as u32) as i32)
    .bind(check.score as i32)
    .bind(sqlx::types::Json(&check))
    .bind(user)
    .fetch_one(tenant.conn())
    .await?;
    let total = completion.input_tokens.saturating_add(completion.output_tokens);
    usage::record(tenant, Metric::Generations, 1).await?;
    if total > 0 {
        usage::record(tenant, Metric::Tokens, i64::from(total)).await?;
    }
    audit::record(
        tenant,
        AuditEvent::on("generation.created", "generation", id).with(serde_json::json!({
            "template_id": p.template.id, "provider": provider, "model": model, "tokens": total,
            "voice_score": check.score,
        })),
    )
    .await?;
    Ok(Generation {
        id,
        template: TemplateRef {
            id: Some(p.template.id),
            name: p.template.name.clone(),
            kind: p.template.kind.as_str().into(),
        },
        inputs: p.inputs.clone(),
        output,
        citations,
        sources,
        voice: check,
        provider: provider.into(),
        model,
        usage: TokenUsage {
            input_tokens: completion.input_tokens,
            output_tokens: completion.output_tokens,
            total_tokens: total,
        },
        created_by: tenant.clerk_user_id().map(str::to_owned),
        created_at,
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    template_id: Option<Uuid>,
    template_name: String,
    template_kind: String,
    inputs: sqlx::types::Json<BTreeMap<String, String>>,
    output: String,
    sources: sqlx::types::Json<Vec<SourceRef>>,
    citations: sqlx::types::Json<Vec<Citation>>,
    provider: String,
    model: String,
    input_tokens: i32,
    output_tokens: i32,
    voice_check: sqlx::types::Json<VoiceCheck>,
    created_by: Option<String>,
    created_at: OffsetDateTime,
}

impl From<Row> for Generation {
    fn from(r: Row) -> Self {
        let (i, o) = (r.input_tokens.max(0) as u32, r.output_tokens.max(0) as u32);
        Generation {
            id: r.id,
            template: TemplateRef { id: r.template_id, name: r.template_name, kind: r.template_kind },
            inputs: r.inputs.0,
            output: r.output,
            citations: r.citations.0,
            sources: r.sources.0,
            voice: r.voice_check.0,
            provider: r.provider,
            model: r.model,
            usage: TokenUsage { input_tokens: i, output_tokens: o, total_tokens: i.saturating_add(o) },
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

const SELECT: &str = "SELECT g.id, g.template_id, g.template_name, g.template_kind, g.inputs, g.output, g.sources,
    g.citations, g.provider, g.model, g.input_tokens, g.output_tokens, g.voice_check, u.clerk_user_id AS created_by,
    g.created_at
  FROM generations g LEFT JOIN users u ON u.id = g.created_by WHERE g.org_id = $1";

/// One generation of the tenant's org.
pub async fn get(tenant: &mut Tenant, id: Uuid) -> Result<Option<Generation>, sqlx::Error> {
    let org_id = tenant.org().id;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} AND g.id = $2")))
        .bind(org_id)
        .bind(id)
        .fetch_optional(tenant.conn())
        .await?;
    Ok(row.map(Generation::from))
}

/// The tenant's generations, newest first, after the keyset position.
pub async fn list(
    tenant: &mut Tenant,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<Generation>, sqlx::Error> {
    let org_id = tenant.org().id;
    let sql = format!(
        "{SELECT} AND ($2::timestamptz IS NULL OR (g.created_at, g.id) < ($2, $3))
         ORDER BY g.created_at DESC, g.id DESC LIMIT $4"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(tenant.conn())
        .await?;
    Ok(rows.into_iter().map(Generation::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_beyond_the_sources_are_removed_and_the_rest_resolved() {
        let id = Uuid::new_v4();
        let sources = vec![Source {
            content_id: id,
            title: "A".into(),
            url: Some("https://a.test".into()),
            score: 1.0,
            ..Source::default()
        }];
        let (text, cites) =
            resolve_citations("Fact [1]. Made up [7]. Both [1][2]. See [link](x) and [12](y) [a].", &sources);
        assert_eq!(text, "Fact [1]. Made up. Both [1]. See [link](x) and [12](y) [a].");
        assert_eq!(
            cites,
            vec![Citation {
                n: 1,
                content_id: id,
                chunk_id: None,
                title: "A".into(),
                url: Some("https://a.test".into())
            }]
        );
    }
}
