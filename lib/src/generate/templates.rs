//! Marketing templates: instructions with `{{field}}` placeholders, declared input fields, and
//! the built-in set every organization is given (seeded once per built-in, on first listing).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::tenancy::Tenant;

/// What a template produces; the extractive composer follows its structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A long-form article with sections.
    BlogPost,
    /// A marketing email with a subject line.
    Email,
    /// A short post for a social network.
    SocialPost,
    /// A headline and a line or two of ad copy.
    Ad,
    /// A landing page: headline, benefits, call to action.
    LandingPage,
    /// Anything else.
    Custom,
}

impl Kind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BlogPost => "blog_post",
            Kind::Email => "email",
            Kind::SocialPost => "social_post",
            Kind::Ad => "ad",
            Kind::LandingPage => "landing_page",
            Kind::Custom => "custom",
        }
    }

    /// Words aimed at when the template sets no target length.
    pub fn default_length(self) -> u32 {
        match self {
            Kind::BlogPost => 600,
            Kind::Email => 180,
            Kind::SocialPost => 50,
            Kind::Ad => 35,
            Kind::LandingPage => 300,
            Kind::Custom => 200,
        }
    }
}

/// A declared input of a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Placeholder name: a lowercase letter, then up to 39 of `a-z 0-9 _`.
    pub name: String,
    /// Label shown in forms; defaults to the name.
    #[serde(default)]
    pub label: String,
    /// Whether generation refuses to run without it.
    #[serde(default)]
    pub required: bool,
    /// Longest accepted value, in characters (1–10,000; default 2,000).
    #[serde(default = "default_max_length")]
    pub max_length: u32,
}

fn default_max_length() -> u32 {
    2000
}

/// A stored template.
#[derive(Clone, Debug, Serialize)]
pub struct Template {
    /// Id.
    pub id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// What it produces.
    pub kind: Kind,
    /// What it is for.
    pub description: String,
    /// Instructions for the writer, with `{{field}}` placeholders.
    pub instructions: String,
    /// Declared inputs.
    pub fields: Vec<Field>,
    /// Words aimed at.
    pub target_length: Option<i32>,
    /// Tone that overrides the style guide's for this template.
    pub tone: Option<String>,
    /// The built-in this template was seeded from, if any.
    pub builtin: Option<String>,
    /// Internal id of the member who created it (none for built-ins).
    #[serde(skip)]
    pub created_by: Option<Uuid>,
    /// Clerk id of that member.
    #[serde(rename = "created_by")]
    pub created_by_clerk: Option<String>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    kind: Kind,
    description: String,
    instructions: String,
    fields: sqlx::types::Json<Vec<Field>>,
    target_length: Option<i32>,
    tone: Option<String>,
    builtin_key: Option<String>,
    created_by: Option<Uuid>,
    created_by_clerk: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<Row> for Template {
    fn from(r: Row) -> Self {
        Template {
            id: r.id,
            name: r.name,
            kind: r.kind,
            description: r.description,
            instructions: r.instructions,
            fields: r.fields.0,
            target_length: r.target_length,
            tone: r.tone,
            builtin: r.builtin_key,
            created_by: r.created_by,
            created_by_clerk: r.created_by_clerk,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A template as written by a client, before validation.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TemplateDraft {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: Option<Kind>,
    /// Description.
    pub description: String,
    /// Instructions with placeholders.
    pub instructions: String,
    /// Declared inputs.
    pub fields: Vec<Field>,
    /// Words aimed at (10–5,000).
    pub target_length: Option<i32>,
    /// Tone override.
    pub tone: Option<String>,
}

/// Why a template or its inputs were refused.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A field of the template is invalid; `.0` is a stable code, `.1` names the field.
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Another template of the org has this name.
    #[error("a template named {0:?} already exists in this organization")]
    NameTaken(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(code: &'static str, detail: impl Into<String>) -> TemplateError {
    TemplateError::Invalid(code, detail.into())
}

/// A `{{name}}` occurrence in instructions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// The field name inside the braces (trimmed).
    pub name: String,
    /// Byte range of the whole `{{…}}`.
    pub range: std::ops::Range<usize>,
}

/// Written before `{{` to make it literal text (`\{{` renders as `{{`), as in Handlebars.
pub const ESCAPE: char = '\\';

/// `text` with every `{{` escaped, so it renders literally and declares no placeholder.
pub fn escape(text: &str) -> String {
    text.replace("{{", "\\{{")
}

/// Finds every `{{ name }}` in `text`, skipping escaped `\{{`. An opening `{{` without a
/// closing `}}`, or a name that is not a valid field name, is an error naming it.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, TemplateError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find("{{").map(|i| i + at) {
        if text[..open].ends_with(ESCAPE) {
            at = open + 2;
            continue;
        }
        let Some(close) = text[open + 2..].find("}}").map(|i| i + open + 2) else {
            return Err(invalid("invalid_placeholder", "instructions: a `{{` is never closed with `}}`"));
        };
        let name = text[open + 2..close].trim();
        if !valid_field_name(name) {
            let shown: String = name.chars().take(40).collect();
            return Err(invalid(
                "invalid_placeholder",
                format!(
                    "instructions: `{{{{{shown}}}}}` is not a placeholder; names are lowercase letters, digits and _"
                ),
            ));
        }
        out.push(Placeholder { name: name.to_owned(), range: open..close + 2 });
        at = close + 2;
    }
    Ok(out)
}

fn valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 40
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A validated template, ready to store.
#[derive(Clone, Debug)]
pub struct ValidTemplate(TemplateDraft, Kind);

/// Checks a draft: lengths, field declarations, and that every placeholder is declared.
/// Lengths count the text as sent, before blanks around it are trimmed.
pub fn validate(mut draft: TemplateDraft) -> Result<ValidTemplate, TemplateError> {
    let chars = |s: &str| s.chars().count();
    let name_chars = chars(&draft.name);
    draft.name = draft.name.trim().to_owned();
    if draft.name.is_empty() || name_chars > 100 {
        return Err(invalid("invalid_template", "name: must be 1 to 100 characters"));
    }
    let kind = draft.kind.ok_or_else(|| invalid("invalid_template", "kind: is required"))?;
    if chars(&draft.description) > 1000 {
        return Err(invalid("invalid_template", "description: must be at most 1000 characters"));
    }
    if draft.instructions.trim().is_empty() || chars(&draft.instructions) > 8000 {
        return Err(invalid("invalid_template", "instructions: must be 1 to 8000 characters"));
    }
    if draft.fields.len() > 20 {
        return Err(invalid("invalid_template", "fields: at most 20 fields"));
    }
    let mut names = BTreeSet::new();
    for (i, field) in draft.fields.iter_mut().enumerate() {
        if !valid_field_name(&field.name) {
            return Err(invalid(
                "invalid_template",
                format!("fields[{i}].name: use a lowercase letter then up to 39 of a-z, 0-9, _"),
            ));
        }
        if !names.insert(field.name.clone()) {
            return Err(invalid("invalid_template", format!("fields[{i}].name: `{}` is declared twice", field.name)));
        }
        if chars(&field.label) > 100 {
            return Err(invalid("invalid_template", format!("fields[{i}].label: at most 100 characters")));
        }
        if !(1..=10_000).contains(&field.max_length) {
            return Err(invalid("invalid_template", format!("fields[{i}].max_length: must be 1 to 10000")));
        }
        field.label = field.label.trim().to_owned();
        if field.label.is_empty() {
            field.label = field.name.replace('_', " ");
        }
    }
    for p in placeholders(&draft.instructions)? {
        if !names.contains(&p.name) {
            return Err(invalid(
                "unknown_placeholder",
                format!("instructions: placeholder `{{{{{}}}}}` is not a declared field", p.name),
            ));
        }
    }
    if let Some(n) = draft.target_length
        && !(10..=5000).contains(&n)
    {
        return Err(invalid("invalid_template", "target_length: must be 10 to 5000 words"));
    }
    if draft.tone.as_deref().is_some_and(|t| chars(t) > 200) {
        return Err(invalid("invalid_template", "tone: at most 200 characters"));
    }
    draft.tone = draft.tone.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    Ok(ValidTemplate(draft, kind))
}

/// Checks generation inputs against the template's fields: no unknown input, every required
/// one present and non-blank, none over its length. Errors name the field.
pub fn check_inputs(template: &Template, inputs: &BTreeMap<String, String>) -> Result<(), TemplateError> {
    for name in inputs.keys() {
        if !template.fields.iter().any(|f| &f.name == name) {
            let shown: String = name.chars().take(40).collect();
            return Err(invalid("unknown_input", format!("inputs.{shown}: the template has no such field")));
        }
    }
    for field in &template.fields {
        let value = inputs.get(&field.name).map(|v| v.trim()).unwrap_or("");
        if field.required && value.is_empty() {
            return Err(invalid("missing_input", format!("inputs.{}: {} is required", field.name, field.label)));
        }
        if value.chars().count() > field.max_length as usize {
            return Err(invalid(
                "input_too_long",
                format!("inputs.{}: at most {} characters", field.name, field.max_length),
            ));
        }
    }
    Ok(())
}

/// The instructions with each placeholder replaced by its input and each escaped `\{{`
/// written as `{{`. A placeholder left blank takes its label with it ("Key points to
/// cover: {{key_points}}" disappears whole, "for {{audience}}" loses its "for"), so no
/// dangling words reach the model.
pub fn render(template: &Template, inputs: &BTreeMap<String, String>) -> String {
    let unescape = |s: &str| s.replace("\\{{", "{{");
    let Ok(found) = placeholders(&template.instructions) else { return template.instructions.clone() };
    let mut out = String::with_capacity(template.instructions.len());
    let mut at = 0;
    for p in found {
        out.push_str(&unescape(&template.instructions[at..p.range.start]));
        at = p.range.end;
        let value = inputs.get(&p.name).map(|v| v.trim()).unwrap_or("");
        if !value.is_empty() {
            out.push_str(value);
            continue;
        }
        if drop_label(&mut out) && template.instructions[at..].starts_with('\n') {
            at += 1; // the label had the line to itself
        }
        // "for {{x}}." → "." rather than " ."
        if template.instructions[at..].trim_start().starts_with(['.', ',', ';', ':', '!', '?'])
            || at == template.instructions.len()
        {
            out.truncate(out.trim_end().len());
        }
    }
    out.push_str(&unescape(&template.instructions[at..]));
    while out.contains(" \n") {
        out = out.replace(" \n", "\n");
    }
    out
}

/// Words that only introduce what follows them.
const CONNECTIVES: &[&str] = &["for", "to", "about", "with", "on", "in", "by", "of", "and", "or", "including", "like"];

/// Removes what introduces a blank placeholder from the end of `out`: a label ending in `:`
/// back to the start of its sentence or line, else one connective word. Returns whether a
/// label that started its line went.
fn drop_label(out: &mut String) -> bool {
    let trimmed = out.trim_end();
    if trimmed.ends_with(':') {
        let start = trimmed.rfind(['.', '!', '?', '\n']).map_or(0, |i| i + 1);
        let whole_line = start == 0 || trimmed[..start].ends_with('\n');
        out.truncate(start);
        if !whole_line {
            out.push(' ');
        }
        return whole_line;
    }
    let word_start = trimmed.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    if CONNECTIVES.contains(&trimmed[word_start..].to_lowercase().as_str()) {
        let keep = trimmed[..word_start].trim_end().len();
        out.truncate(keep);
        out.push(' ');
    }
    false
}

const COLUMNS: &str = "t.id, t.name, t.kind, t.description, t.instructions, t.fields, t.target_length, t.tone,
    t.builtin_key, t.created_by, u.clerk_user_id AS created_by_clerk, t.created_at, t.updated_at";

fn select(filter: &str) -> String {
    format!(
        "SELECT {COLUMNS} FROM marketing_templates t LEFT JOIN users u ON u.id = t.created_by WHERE t.org_id = $1 {filter}"
    )
}

fn map_unique(err: sqlx::Error, name: &str) -> TemplateError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("marketing_templates_name_unique") => {
            TemplateError::NameTaken(name.to_owned())
        }
        _ => TemplateError::Database(err),
    }
}

/// Seeds the built-ins this organization has not been given yet (each once, ever); a name
/// the org already uses is skipped. Clock time keeps them listed in the built-in order.
pub async fn seed_builtins(tenant: &mut Tenant) -> Result<(), sqlx::Error> {
    let org_id = tenant.org().id;
    for b in BUILTINS {
        let fresh: Option<String> = sqlx::query_scalar(
            "INSERT INTO template_seeds (org_id, builtin_key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING builtin_key",
        )
        .bind(org_id)
        .bind(b.key)
        .fetch_optional(tenant.conn())
        .await?;
        if fresh.is_none() {
            continue;
        }
        sqlx::query(
            "INSERT INTO marketing_templates (org_id, name, kind, description, instructions, fields, target_length, builtin_key,
                                              created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp(), clock_timestamp()) ON CONFLICT DO NOTHING",
        )
        .bind(org_id)
        .bind(b.name)
        .bind(b.kind)
        .bind(b.description)
        .bind(b.instructions)
        .bind(sqlx::types::Json(b.fields()))
        .bind(b.target_length)
        .bind(b.key)
        .execute(tenant.conn())
        .await?;
    }
    Ok(())
}

/// Templates of the tenant's org by creation time, after the keyset position.
pub async fn list(
    tenant: &mut Tenant,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<Template>, sqlx::Error> {
    let org_id = tenant.org().id;
    let sql =
        select("AND ($2::timestamptz IS NULL OR (t.created_at, t.id) > ($2, $3)) ORDER BY t.created_at, t.id LIMIT $4");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(tenant.conn())
        .await?;
    Ok(rows.into_iter().map(Template::from).collect())
}

/// One template of the tenant's org.
pub async fn get(tenant: &mut Tenant, id: Uuid) -> Result<Option<Template>, sqlx::Error> {
    let org_id = tenant.org().id;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(select("AND t.id = $2")))
        .bind(org_id)
        .bind(id)
        .fetch_optional(tenant.conn())
        .await?;
    Ok(row.map(Template::from))
}

/// Stores a new template created by the acting member.
pub async fn create(tenant: &mut Tenant, valid: ValidTemplate) -> Result<Template, TemplateError> {
    let (org_id, user) = (tenant.org().id, tenant.user_id());
    let ValidTemplate(d, kind) = valid;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO marketing_templates (org_id, name, kind, description, instructions, fields, target_length, tone, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(org_id)
    .bind(&d.name)
    .bind(kind)
    .bind(&d.description)
    .bind(&d.instructions)
    .bind(sqlx::types::Json(&d.fields))
    .bind(d.target_length)
    .bind(&d.tone)
    .bind(user)
    .fetch_one(tenant.conn())
    .await
    .map_err(|e| map_unique(e, &d.name))?;
    get(tenant, id).await?.ok_or(TemplateError::Database(sqlx::Error::RowNotFound))
}

/// Replaces a template's editable fields.
pub async fn update(tenant: &mut Tenant, id: Uuid, valid: ValidTemplate) -> Result<Template, TemplateError> {
    let org_id = tenant.org().id;
    let ValidTemplate(d, kind) = valid;
    sqlx::query(
        "UPDATE marketing_templates SET name = $3, kind = $4, description = $5, instructions = $6, fields = $7,
                target_length = $8, tone = $9, updated_at = now()
          WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(&d.name)
    .bind(kind)
    .bind(&d.description)
    .bind(&d.instructions)
    .bind(sqlx::types::Json(&d.fields))
    .bind(d.target_length)
    .bind(&d.tone)
    .execute(tenant.conn())
    .await
    .map_err(|e| map_unique(e, &d.name))?;
    get(tenant, id).await?.ok_or(TemplateError::Database(sqlx::Error::RowNotFound))
}

/// Deletes a template; generations made from it keep their snapshot.
pub async fn delete(tenant: &mut Tenant, id: Uuid) -> Result<bool, sqlx::Error> {
    let org_id = tenant.org().id;
    let done = sqlx::query("DELETE FROM marketing_templates WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(tenant.conn())
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Template {
    /// The template as a draft, to copy or patch.
    pub fn to_draft(&self) -> TemplateDraft {
        TemplateDraft {
            name: self.name.clone(),
            kind: Some(self.kind),
            description: self.description.clone(),
            instructions: self.instructions.clone(),
            fields: self.fields.clone(),
            target_length: self.target_length,
            tone: self.tone.clone(),
        }
    }
}

/// A built-in template, seeded into every organization.
pub struct Builtin {
    /// Stable key (`builtin` in responses).
    pub key: &'static str,
    /// Name given to the seeded template.
    pub name: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Description.
    pub description: &'static str,
    /// Instructions.
    pub instructions: &'static str,
    /// Fields as (name, label, required, max_length).
    pub fields: &'static [(&'static str, &'static str, bool, u32)],
    /// Words aimed at.
    pub target_length: i32,
}

impl Builtin {
    /// The declared fields.
    pub fn fields(&self) -> Vec<Field> {
        self.fields
            .iter()
            .map(|(name, label, required, max_length)| Field {
                name: (*name).into(),
                label: (*label).into(),
                required: *required,
                max_length: *max_length,
            })
            .collect()
    }
}

/// The built-in set: at least one per kind.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        key: "blog_post",
        name: "Blog post",
        kind: Kind::BlogPost,
        description: "A long-form article on a topic, grounded in your own pages.",
        instructions: "Write a blog post about {{topic}} for {{audience}}. Open with a hook, explain the key points in sections with headings, and close with a call to action. Key points to cover: {{key_points}}",
        fields: &[
            ("topic", "Topic", true, 300),
            ("audience", "Audience", false, 200),
            ("key_points", "Key points", false, 2000),
        ],
        target_length: 600,
    },
    Builtin {
        key: "email",
        name: "Marketing email",
        kind: Kind::Email,
        description: "An email with a subject line, a short body and one call to action.",
        instructions: "Write a marketing email about {{topic}} to {{audience}}. Start with a subject line (`Subject: …`), keep the body short, and end with this call to action: {{call_to_action}}",
        fields: &[
            ("topic", "Topic", true, 300),
            ("audience", "Audience", false, 200),
            ("call_to_action", "Call to action", false, 200),
        ],
        target_length: 180,
    },
    Builtin {
        key: "social_post",
        name: "Social post",
        kind: Kind::SocialPost,
        description: "A short post for LinkedIn, X or similar, with a few hashtags.",
        instructions: "Write a social media post for {{platform}} about {{topic}}. Keep it short and end with two or three relevant hashtags.",
        fields: &[("topic", "Topic", true, 300), ("platform", "Platform", false, 50)],
        target_length: 50,
    },
    Builtin {
        key: "ad",
        name: "Ad copy",
        kind: Kind::Ad,
        description: "A headline and one or two lines of ad copy.",
        instructions: "Write ad copy for {{product}}: a headline of at most eight words, then one or two sentences on its main benefit for {{audience}}.",
        fields: &[("product", "Product or offer", true, 300), ("audience", "Audience", false, 200)],
        target_length: 35,
    },
    Builtin {
        key: "landing_page",
        name: "Landing page",
        kind: Kind::LandingPage,
        description: "A landing page: headline, subheadline, benefits and a call to action.",
        instructions: "Write a landing page for {{offer}}: a headline, a one-sentence subheadline, three to five benefits as a list, and a closing call to action: {{call_to_action}}",
        fields: &[("offer", "Offer", true, 300), ("call_to_action", "Call to action", false, 200)],
        target_length: 300,
    },
    Builtin {
        key: "custom",
        name: "Free-form brief",
        kind: Kind::Custom,
        description: "Anything else: describe what you need.",
        instructions: "{{brief}}",
        fields: &[("brief", "What should be written?", true, 4000)],
        target_length: 200,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(instructions: &str, fields: &[&str]) -> TemplateDraft {
        TemplateDraft {
            name: "T".into(),
            kind: Some(Kind::Email),
            instructions: instructions.into(),
            fields: fields
                .iter()
                .map(|f| Field { name: (*f).into(), label: String::new(), required: false, max_length: 10 })
                .collect(),
            ..Default::default()
        }
    }

    /// A validated draft as the store would hand it back.
    fn stored(d: TemplateDraft, kind: Kind) -> Template {
        Template {
            id: Uuid::nil(),
            name: d.name,
            kind,
            description: d.description,
            instructions: d.instructions,
            fields: d.fields,
            target_length: None,
            tone: None,
            builtin: None,
            created_by: None,
            created_by_clerk: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn code(r: Result<ValidTemplate, TemplateError>) -> (&'static str, String) {
        match r {
            Err(TemplateError::Invalid(code, detail)) => (code, detail),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn placeholders_are_found_with_spaces_and_undeclared_ones_are_named() {
        let found = placeholders("Hi {{ name }}, about {{topic}}.").unwrap();
        assert_eq!(found.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["name", "topic"]);
        assert!(validate(draft("Hi {{ name }}", &["name"])).is_ok());
        let (c, d) = code(validate(draft("Hi {{nme}}", &["name"])));
        assert_eq!(c, "unknown_placeholder");
        assert!(d.contains("{{nme}}"), "{d}");
        assert_eq!(code(validate(draft("Hi {{name", &["name"]))).0, "invalid_placeholder");
        assert_eq!(code(validate(draft("Hi {{Bad Name}}", &[]))).0, "invalid_placeholder");
        assert_eq!(code(validate(draft("x", &["a", "a"]))).1, "fields[1].name: `a` is declared twice");
    }

    #[test]
    fn lengths_count_the_text_as_sent_and_blanks_are_trimmed_after() {
        let mut d = draft("x {{a}}", &["a"]);
        d.name = format!(" {} ", "n".repeat(99));
        assert_eq!(code(validate(d)).1, "name: must be 1 to 100 characters");
        let mut d = draft("x {{a}}", &["a"]);
        d.fields[0].label = format!("{}  ", "l".repeat(99));
        assert_eq!(code(validate(d)).1, "fields[0].label: at most 100 characters");
        let mut d = draft("x {{a}}", &["a"]);
        d.tone = Some(format!("  {}", "t".repeat(199)));
        assert_eq!(code(validate(d)).1, "tone: at most 200 characters");
        let mut d = draft("x {{a}}", &["a"]);
        (d.name, d.tone) = ("  Launch  ".into(), Some("   ".into()));
        let ValidTemplate(d, _) = validate(d).unwrap();
        assert_eq!((d.name.as_str(), d.tone, d.fields[0].label.as_str()), ("Launch", None, "a"));
    }

    #[test]
    fn inputs_are_checked_by_name_and_rendered_into_the_instructions() {
        let mut t = draft("About {{topic}} for {{who}}.", &["topic", "who"]);
        t.fields[0].required = true;
        let ValidTemplate(d, kind) = validate(t).unwrap();
        let tpl = stored(d, kind);
        let inputs = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let err = |i| match check_inputs(&tpl, &i) {
            Err(TemplateError::Invalid(code, detail)) => (code, detail),
            other => panic!("{other:?}"),
        };
        assert_eq!(err(inputs(&[("who", "x")])).0, "missing_input");
        assert_eq!(err(inputs(&[("topic", "  ")])).0, "missing_input");
        assert_eq!(
            err(inputs(&[("topic", "x"), ("extra", "y")])),
            ("unknown_input", "inputs.extra: the template has no such field".into())
        );
        assert_eq!(err(inputs(&[("topic", "12345678901")])).0, "input_too_long");
        let ok = inputs(&[("topic", "pricing")]);
        check_inputs(&tpl, &ok).unwrap();
        assert_eq!(render(&tpl, &ok), "About pricing.");
    }

    #[test]
    fn blank_optional_inputs_take_their_labels_with_them() {
        let ValidTemplate(d, kind) = validate(draft(
            "Write about {{topic}} for {{audience}}. Key points to cover: {{points}}\nTone: {{tone}}\nEnd.",
            &["topic", "audience", "points", "tone"],
        ))
        .unwrap();
        let tpl = stored(d, kind);
        let inputs = [("topic".to_owned(), "pricing".to_owned())].into();
        assert_eq!(render(&tpl, &inputs), "Write about pricing.\nEnd.");
        let all: BTreeMap<String, String> =
            [("topic", "pricing"), ("audience", "CFOs"), ("points", "costs"), ("tone", "calm")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into();
        assert_eq!(render(&tpl, &all), "Write about pricing for CFOs. Key points to cover: costs\nTone: calm\nEnd.");
    }

    #[test]
    fn escaped_braces_are_literal_and_declare_nothing() {
        let text = format!("Use {} and {}, about {{{{topic}}}}", escape("{{ x"), escape("{{a-b}}"));
        assert_eq!(text, "Use \\{{ x and \\{{a-b}}, about {{topic}}");
        let found = placeholders(&text).unwrap();
        assert_eq!(found.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["topic"]);
        let ValidTemplate(d, kind) = validate(draft(&text, &["topic"])).unwrap();
        let tpl = stored(d, kind);
        let inputs = [("topic".to_owned(), "pricing".to_owned())].into();
        assert_eq!(render(&tpl, &inputs), "Use {{ x and {{a-b}}, about pricing");
    }

    #[test]
    fn every_builtin_is_valid_and_every_kind_has_one() {
        for b in BUILTINS {
            let d = TemplateDraft {
                name: b.name.into(),
                kind: Some(b.kind),
                description: b.description.into(),
                instructions: b.instructions.into(),
                fields: b.fields(),
                target_length: Some(b.target_length),
                tone: None,
            };
            validate(d).unwrap_or_else(|e| panic!("{}: {e}", b.key));
        }
        for kind in [Kind::BlogPost, Kind::Email, Kind::SocialPost, Kind::Ad, Kind::LandingPage, Kind::Custom] {
            assert!(BUILTINS.iter().any(|b| b.kind == kind), "{kind:?}");
        }
    }
}
