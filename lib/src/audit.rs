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
        "INSERT INTO audit_events (org_id, actor_user_id, actor_label, action, target_type, target_id, request_id, ip, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(org_id)
    .bind(actor)
    .bind(label.chars().take(256).collect::<String>())
    .bind(event.action)
    .bind(event.target_type)
    .bind(event.target_id.map(|t| t.chars().take(256).collect::<String>()))
    .bind(request_id::current())
    .bind(ip)
    .bind(details)
    .execute(tenant.conn())
    .await?;
    Ok(())
}
