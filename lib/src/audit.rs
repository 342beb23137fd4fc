//! The audit log: who did what to which object, from where, under which request. Rows are
//! append-only (the schema has no UPDATE or DELETE policy for them).

use serde_json::Value;

use crate::{http::request_id, tenancy::Tenant};

/// One mutation to record.
#[derive(Debug)]
pub struct AuditEvent<'a> {
    /// Dotted verb, e.g. `crawl.started`, `content.deleted`, `template.updated`.
    pub action: &'a str,
    /// Kind of the object acted on, e.g. `crawl`.
    pub target_type: Option<&'a str>,
    /// Its id as clients see it.
    pub target_id: Option<String>,
    /// Small structured details (never secrets or whole bodies).
    pub details: Value,
}

impl<'a> AuditEvent<'a> {
    /// An event on an object.
    pub fn on(action: &'a str, target_type: &'a str, target_id: impl ToString) -> Self {
        Self { action, target_type: Some(target_type), target_id: Some(target_id.to_string()), details: Value::Null }
    }

    /// Adds details.
    pub fn with(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends `event` to the organization's audit log inside the tenant's transaction, so the
/// entry exists exactly when the mutation does.
pub async fn record(tenant: &mut Tenant, event: AuditEvent<'_>) -> Result<(), sqlx::Error> {
    let org_id = tenant.org().id;
    let (actor, label, ip) = (tenant.user_id(), tenant.actor_label(), tenant.client_ip());
    let details = if event.details.is_null() { Value::Object(Default::default()) } else { event.details };
    sqlx::query(
        "INSERT INTO audit_events (org_id, actor_user_id, actor_label, action, target_type, target_id, request_id,
                                   client_request_id, ip, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(org_id)
    .bind(actor)
    .bind(label.chars().take(256).collect::<String>())
    .bind(event.action)
    .bind(event.target_type)
    .bind(event.target_id.map(|t| t.chars().take(256).collect::<String>()))
    .bind(request_id::current())
    .bind(request_id::client())
    .bind(ip)
    .bind(details)
    .execute(tenant.conn())
    .await?;
    Ok(())
}

/// Which entries of the log to list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// An exact action (`crawl.started`) or, ending in `.*`, every action under a prefix (`crawl.*`).
    pub action: Option<ActionFilter>,
    /// A Clerk user id, or `system` for system work (webhooks, cron, operators).
    pub actor: Option<String>,
}

/// The action part of an [`AuditFilter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    /// This action only.
    Exact(String),
    /// Actions starting with this prefix (which ends with `.`).
    Prefix(String),
}

impl ActionFilter {
    /// Parses `crawl.started` or `crawl.*`; `None` for anything else (so no wildcard or SQL
    /// pattern character reaches the query).
    pub fn parse(value: &str) -> Option<Self> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b))
        };
        match value.strip_suffix('*') {
            Some(prefix) if prefix.ends_with('.') && valid(prefix) => Some(Self::Prefix(prefix.to_owned())),
            Some(_) => None,
            None => valid(value).then(|| Self::Exact(value.to_owned())),
        }
    }
}

/// One entry of the log as listed.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// Entry id.
    pub id: uuid::Uuid,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: time::OffsetDateTime,
    /// The acting user's Clerk id, or `system: <reason>`.
    pub actor: String,
    /// Whether system work (not a member) acted.
    pub system: bool,
    /// Dotted verb.
    pub action: String,
    /// Kind of the object acted on.
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// Request that caused it (the server's id).
    pub request_id: Option<String>,
    /// The id the client sent in `x-request-id` with that request, if any.
    pub client_request_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Structured details.
    pub details: Value,
}

/// The tenant's log, newest first, after the `after` keyset position.
pub async fn list(
    tenant: &mut Tenant,
    filter: &AuditFilter,
    after: Option<(time::OffsetDateTime, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let org_id = tenant.org().id;
    let (exact, prefix) = match &filter.action {
        None => (None, None),
        Some(ActionFilter::Exact(a)) => (Some(a.as_str()), None),
        Some(ActionFilter::Prefix(p)) => (None, Some(p.as_str())),
    };
    let system_only = filter.actor.as_deref() == Some("system");
    let actor = filter.actor.as_deref().filter(|_| !system_only);
    sqlx::query_as(
        "SELECT id, occurred_at, actor_label AS actor, (actor_user_id IS NULL AND actor_label LIKE 'system:%') AS system,
                action, target_type, target_id, request_id, client_request_id, host(ip) AS ip, details
           FROM audit_events
          WHERE org_id = $1
            AND ($2::text IS NULL OR action = $2)
            AND ($3::text IS NULL OR left(action, length($3)) = $3)
            AND ($4::text IS NULL OR actor_label = $4)
            AND (NOT $5 OR (actor_user_id IS NULL AND actor_label LIKE 'system:%'))
            AND ($6::timestamptz IS NULL OR (occurred_at, id) < ($6, $7))
          ORDER BY occurred_at DESC, id DESC
          LIMIT $8",
    )
    .bind(org_id)
    .bind(exact)
    .bind(prefix)
    .bind(actor)
    .bind(system_only)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(tenant.conn())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_filters_are_exact_or_a_dotted_prefix_and_nothing_else() {
        assert_eq!(ActionFilter::parse("crawl.started"), Some(ActionFilter::Exact("crawl.started".into())));
        assert_eq!(ActionFilter::parse("membership.*"), Some(ActionFilter::Prefix("membership.".into())));
        for bad in ["", "*", "crawl*", "Crawl.started", "a%b", "a'b", "crawl.**", &"a".repeat(65)] {
            assert_eq!(ActionFilter::parse(bad), None, "{bad}");
        }
    }
}
