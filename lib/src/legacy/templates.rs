//! Legacy `marketing_templates` → templates through `generate::templates` validation: fields
//! from the valid placeholders, malformed placeholders escaped, taken names suffixed, equal
//! templates mapped as duplicates.

use std::{collections::HashSet, ops::ControlFlow};

use anyhow::Context;
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Outcome, Progress, Run, TableReport, batch};
use crate::generate::templates::{self as tpl, Field, Kind, TemplateDraft, TemplateError};

/// Rows as JSON, so a missing optional column (`kind`, `description`) reads as absent.
const SELECT: &str =
    "SELECT t.id::bigint AS id, to_jsonb(t) AS row FROM marketing_templates t WHERE t.id > $1 ORDER BY t.id LIMIT $2";

/// Longest template name.
const MAX_NAME: usize = 100;

/// A legacy template row.
#[derive(Debug, Default, Deserialize)]
struct LegacyTemplate {
    name: Option<String>,
    kind: Option<String>,
    description: Option<String>,
    prompt: Option<String>,
}

/// Imports every template row not mapped yet; `Break` when progress asked to stop.
pub(super) async fn import(
    run: &Run<'_>,
    legacy: &mut PgConnection,
    report: &mut TableReport,
    progress: &mut dyn Progress,
) -> anyhow::Result<ControlFlow<()>> {
    let mapped = run.mapped("marketing_templates").await?;
    // Loaded at the first row to import, so a run with nothing new writes nothing.
    let mut library: Option<Library> = None;
    let (mut after, mut done) = (0i64, 0u64);
    loop {
        let rows: Vec<(i64, serde_json::Value)> =
            batch(legacy, SELECT, after).await.context("reading legacy marketing_templates")?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, row) in rows {
            if mapped.contains_key(&id) {
                report.already_imported += 1;
            } else {
                match serde_json::from_value::<LegacyTemplate>(row)
                    .map_err(|e| format!("unreadable row: {e}"))
                    .and_then(|row| draft(id, row))
                {
                    Err(reason) => report.fail(id, reason),
                    Ok((draft, warnings)) => {
                        if library.is_none() {
                            library = Some(Library::load(run).await?);
                        }
                        if let Some(library) = &mut library {
                            library.import(run, id, draft, warnings, report).await?;
                        }
                    }
                }
            }
            done += 1;
            if progress.update("marketing_templates", done, report.total).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// A template of the organization, as far as duplicate and name checks need it.
struct Known {
    id: Option<Uuid>,
    name: String,
    kind: Kind,
    description: String,
    instructions: String,
}

/// The organization's templates as this run leaves them.
struct Library {
    known: Vec<Known>,
    names: HashSet<String>,
}

impl Library {
    /// The org's templates after the built-ins are given, as the first listing would: an
    /// imported template must not take a built-in's name. A dry run rolls the seeding back.
    async fn load(run: &Run<'_>) -> anyhow::Result<Self> {
        let mut known = Vec::new();
        if run.org_id.is_some() {
            let mut tenant = run.tenant().await?;
            tpl::seed_builtins(&mut tenant).await.context("giving the built-in templates")?;
            let mut after = None;
            loop {
                let page = tpl::list(&mut tenant, after, 500).await.context("listing templates")?;
                let Some(last) = page.last() else { break };
                after = Some((last.created_at, last.id));
                known.extend(page.into_iter().map(|t| Known {
                    id: Some(t.id),
                    name: t.name,
                    kind: t.kind,
                    description: t.description,
                    instructions: t.instructions,
                }));
            }
            if !run.options.dry_run {
                tenant.commit().await?;
            }
        } else {
            known.extend(tpl::BUILTINS.iter().map(|b| Known {
                id: None,
                name: b.name.into(),
                kind: b.kind,
                description: b.description.into(),
                instructions: b.instructions.into(),
            }));
        }
        let names = known.iter().map(|k| k.name.clone()).collect();
        Ok(Self { known, names })
    }

    async fn import(
        &mut self,
        run: &Run<'_>,
        id: i64,
        draft: TemplateDraft,
        warnings: Vec<String>,
        report: &mut TableReport,
    ) -> anyhow::Result<()> {
        let kind = draft.kind.unwrap_or(Kind::Custom);
        let same = self.known.iter().find(|k| {
            k.kind == kind
                && k.description == draft.description
                && k.instructions == draft.instructions
                && base_name(&k.name) == draft.name
        });
        if let Some(same) = same {
            if let (Some(existing), false) = (same.id, run.options.dry_run) {
                let mut tenant = run.tenant().await?;
                run.record(&mut tenant, "marketing_templates", id, Outcome::Duplicate, existing).await?;
                tenant.commit().await?;
            }
            report.count(Outcome::Duplicate);
            return Ok(());
        }
        for _ in 0..5 {
            let name = self.free_name(&draft.name);
            let valid = match tpl::validate(TemplateDraft { name: name.clone(), ..draft.clone() }) {
                Ok(valid) => valid,
                Err(TemplateError::Invalid(_, detail)) => {
                    report.fail(id, detail);
                    return Ok(());
                }
                Err(err) => return Err(err).context(format!("validating legacy template {id}")),
            };
            let new_id = if run.options.dry_run {
                None
            } else {
                let mut tenant = run.tenant().await?;
                match tpl::create(&mut tenant, valid).await {
                    Ok(created) => {
                        run.record(&mut tenant, "marketing_templates", id, Outcome::Imported, created.id).await?;
                        tenant.commit().await?;
                        Some(created.id)
                    }
                    // Taken since the library was loaded: the transaction is aborted, so drop
                    // it and try the next free name.
                    Err(TemplateError::NameTaken(_)) => {
                        self.names.insert(name);
                        continue;
                    }
                    Err(TemplateError::Invalid(_, detail)) => {
                        report.fail(id, detail);
                        return Ok(());
                    }
                    Err(err) => return Err(err).context(format!("importing legacy template {id}")),
                }
            };
            for w in warnings {
                report.warn(id, w);
            }
            if name != draft.name {
                report
                    .warn(id, format!("the name {:?} is taken in the organization: imported as {name:?}", draft.name));
            }
            self.names.insert(name.clone());
            self.known.push(Known {
                id: new_id,
                name,
                kind,
                description: draft.description,
                instructions: draft.instructions,
            });
            report.count(Outcome::Imported);
            return Ok(());
        }
        anyhow::bail!(
            "legacy template {id}: no free name after several attempts (templates are being created concurrently)"
        )
    }

    /// `name`, or the first of `name (imported)`, `name (imported 2)`, … not taken.
    fn free_name(&self, name: &str) -> String {
        if !self.names.contains(name) {
            return name.to_owned();
        }
        (1..)
            .map(|n| {
                let suffix = if n == 1 { " (imported)".to_owned() } else { format!(" (imported {n})") };
                let base: String = name.chars().take(MAX_NAME - suffix.chars().count()).collect();
                base.trim_end().to_owned() + &suffix
            })
            .find(|candidate| !self.names.contains(candidate))
            .unwrap_or_default()
    }
}

/// A name without the suffix [`Library::free_name`] adds.
fn base_name(name: &str) -> &str {
    let Some(stem) = name.strip_suffix(')') else { return name };
    match stem.rsplit_once(" (imported") {
        Some((base, n)) if n.is_empty() || (n.starts_with(' ') && n[1..].bytes().all(|b| b.is_ascii_digit())) => base,
        _ => name,
    }
}

/// The draft a legacy row becomes, with warnings for what had to change, or why it cannot
/// be imported.
fn draft(id: i64, row: LegacyTemplate) -> Result<(TemplateDraft, Vec<String>), String> {
    let prompt = row.prompt.unwrap_or_default();
    if prompt.trim().is_empty() {
        return Err("empty prompt: nothing to import".into());
    }
    let scanned = scan(&prompt);
    let mut warnings = scanned.warnings;
    let mut name = row.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if name.is_empty() {
        name = format!("Imported template {id}");
        warnings.push(format!("no name: imported as {name:?}"));
    } else if name.chars().count() > MAX_NAME {
        name = name.chars().take(MAX_NAME).collect::<String>().trim_end().to_owned();
        warnings.push(format!("name longer than {MAX_NAME} characters: shortened to {name:?}"));
    }
    let (kind, kind_warning) = kind(row.kind.as_deref());
    warnings.extend(kind_warning);
    let fields = scanned
        .fields
        .into_iter()
        .map(|name| Field { name, label: String::new(), required: false, max_length: 2000 })
        .collect();
    let draft = TemplateDraft {
        name,
        kind: Some(kind),
        description: row.description.unwrap_or_default().trim().to_owned(),
        instructions: scanned.instructions,
        fields,
        target_length: None,
        tone: None,
    };
    Ok((draft, warnings))
}

/// A legacy kind; unknown ones become `custom` with a warning.
fn kind(legacy: Option<&str>) -> (Kind, Option<String>) {
    let key = legacy.unwrap_or_default().trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let kind = match key.as_str() {
        "blog_post" | "blog" | "blogpost" | "article" => Kind::BlogPost,
        "email" | "e_mail" | "newsletter" => Kind::Email,
        "social_post" | "social" | "tweet" | "linkedin" => Kind::SocialPost,
        "ad" | "ads" | "ad_copy" => Kind::Ad,
        "landing_page" | "landing" => Kind::LandingPage,
        "custom" | "" => Kind::Custom,
        _ => return (Kind::Custom, Some(format!("unknown kind {:?}: imported as custom", legacy.unwrap_or_default()))),
    };
    (kind, None)
}

/// A legacy prompt rewritten for the template renderer.
#[derive(Debug, PartialEq, Eq)]
struct Scanned {
    /// The prompt with every malformed `{{` escaped.
    instructions: String,
    /// Names of the valid placeholders, first use first.
    fields: Vec<String>,
    /// One per malformed placeholder or stray `}}`.
    warnings: Vec<String>,
}

/// Finds the valid `{{ name }}` placeholders of a legacy prompt and escapes every other `{{`
/// (unclosed, empty, a bad name) so it renders literally. A `}}` outside a placeholder is
/// already literal and only reported.
fn scan(text: &str) -> Scanned {
    let mut out = Scanned { instructions: String::with_capacity(text.len()), fields: Vec::new(), warnings: Vec::new() };
    let shown = |s: &str| s.chars().take(40).collect::<String>();
    let literal = |s: &str, out: &mut Scanned| {
        for _ in s.matches("}}") {
            out.warnings.push("a stray `}}` outside any placeholder is kept as text".into());
        }
        out.instructions.push_str(s);
    };
    let mut at = 0;
    while let Some(open) = text[at..].find("{{").map(|i| i + at) {
        literal(&text[at..open], &mut out);
        let inner = &text[open + 2..];
        let close = inner.find("}}");
        let next_open = inner.find("{{");
        match close {
            Some(c) if next_open.is_none_or(|o| o > c) => {
                let whole = &text[open..open + 2 + c + 2];
                let name = inner[..c].trim();
                if valid_name(name) {
                    if text[..open].ends_with(tpl::ESCAPE) {
                        out.warnings.push(format!("`{whole}` follows a backslash, which now makes it literal text"));
                    }
                    if !out.fields.iter().any(|f| f == name) {
                        out.fields.push(name.to_owned());
                    }
                    out.instructions.push_str(whole);
                } else {
                    let why = if name.is_empty() { "is empty" } else { "is not a valid placeholder name" };
                    out.warnings.push(format!("`{}` {why}: kept as literal text", shown(whole)));
                    out.instructions.push_str(&tpl::escape(whole));
                }
                at = open + 2 + c + 2;
            }
            _ => {
                let rest = shown(&text[open..]);
                out.warnings.push(format!("`{}` is never closed: kept as literal text", rest.trim_end()));
                out.instructions.push_str(&tpl::escape("{{"));
                at = open + 2;
            }
        }
    }
    literal(&text[at..], &mut out);
    out
}

/// Whether `name` is a field name templates accept (checked by placeholder parsing).
fn valid_name(name: &str) -> bool {
    tpl::placeholders(&format!("{{{{{name}}}}}")).is_ok_and(|p| p.len() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_placeholders_are_escaped_and_valid_ones_become_fields() {
        let s = scan("Broken {{ placeholder and {{}} and {{a-b}} and }} for {{ audience }} on {{topic}}, {{topic}}");
        assert_eq!(s.fields, ["audience", "topic"]);
        assert_eq!(
            s.instructions,
            "Broken \\{{ placeholder and \\{{}} and \\{{a-b}} and }} for {{ audience }} on {{topic}}, {{topic}}"
        );
        assert_eq!(s.warnings.len(), 4, "{:?}", s.warnings);
        assert!(s.warnings[0].contains("never closed"), "{:?}", s.warnings);
        assert!(s.warnings[1].contains("empty"));
        assert!(s.warnings[2].contains("`{{a-b}}` is not a valid"));
        assert!(s.warnings[3].contains("stray"));

        let plain = scan("No placeholders at all");
        assert_eq!(
            (plain.instructions.as_str(), plain.fields.len(), plain.warnings.len()),
            ("No placeholders at all", 0, 0)
        );
        assert_eq!(scan("tail {{").instructions, "tail \\{{");
        assert_eq!(scan("{{{x}}}").instructions, "\\{{{x}}}");
    }

    #[test]
    fn kinds_names_and_suffixes() {
        assert_eq!(kind(Some("Blog-Post")), (Kind::BlogPost, None));
        assert_eq!(kind(None), (Kind::Custom, None));
        assert_eq!(kind(Some("poem")).0, Kind::Custom);
        assert!(kind(Some("poem")).1.is_some());
        assert_eq!(base_name("Blog post (imported)"), "Blog post");
        assert_eq!(base_name("Blog post (imported 3)"), "Blog post");
        assert_eq!(base_name("Blog post (important)"), "Blog post (important)");
        let lib = Library { known: Vec::new(), names: ["A".into(), "A (imported)".into()].into() };
        assert_eq!(lib.free_name("B"), "B");
        assert_eq!(lib.free_name("A"), "A (imported 2)");
        assert_eq!(lib.free_name(&"x".repeat(100)).chars().count(), 100);
    }

    #[test]
    fn drafts_need_a_prompt_and_get_a_name() {
        assert!(draft(1, LegacyTemplate { name: Some("X".into()), ..Default::default() }).is_err());
        let (d, w) = draft(7, LegacyTemplate { prompt: Some("Hi {{who}}".into()), ..Default::default() }).unwrap();
        assert_eq!((d.name.as_str(), d.fields.len(), w.len()), ("Imported template 7", 1, 1));
        tpl::validate(d).unwrap();
    }
}
