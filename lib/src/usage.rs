//! Usage metering: monthly and running counters that limit checks bump atomically, events
//! for the daily series, and the usage report with its warnings.

use serde::Serialize;
use sqlx::PgConnection;
use time::{Date, Month, OffsetDateTime};

use crate::tenancy::{Limits, Tenant, count_members};

/// A metered quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Members holding seats (counted live from memberships).
    Users,
    /// Content items in the library (running total).
    ContentItems,
    /// Crawls started this month.
    Crawls,
    /// Generations this month.
    Generations,
    /// LLM tokens (in + out) this month.
    Tokens,
    /// LLM prompt tokens this month (part of `Tokens`).
    InputTokens,
    /// LLM completion tokens this month (part of `Tokens`).
    OutputTokens,
    /// Tokens sent to the embedding model this month.
    EmbeddingTokens,
    /// Pages fetched and stored by crawls this month.
    PagesCrawled,
    /// Authenticated API calls this month (counted at the edge, before the handler runs).
    ApiCalls,
}

impl Metric {
    /// Every metric, in dashboard order.
    pub const ALL: [Metric; 10] = [
        Metric::Users,
        Metric::ContentItems,
        Metric::Crawls,
        Metric::Generations,
        Metric::Tokens,
        Metric::InputTokens,
        Metric::OutputTokens,
        Metric::EmbeddingTokens,
        Metric::PagesCrawled,
        Metric::ApiCalls,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Users => "users",
            Metric::ContentItems => "content_items",
            Metric::Crawls => "crawls",
            Metric::Generations => "generations",
            Metric::Tokens => "tokens",
            Metric::InputTokens => "input_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::EmbeddingTokens => "embedding_tokens",
            Metric::PagesCrawled => "pages_crawled",
            Metric::ApiCalls => "api_calls",
        }
    }

    /// Label for people.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Users => "Users",
            Metric::ContentItems => "Content items",
            Metric::Crawls => "Crawls this month",
            Metric::Generations => "Generations this month",
            Metric::Tokens => "Tokens this month",
            Metric::InputTokens => "Input tokens this month",
            Metric::OutputTokens => "Output tokens this month",
            Metric::EmbeddingTokens => "Embedding tokens this month",
            Metric::PagesCrawled => "Pages crawled this month",
            Metric::ApiCalls => "API calls this month",
        }
    }

    /// Whether the counter resets each month (otherwise it is a running total).
    pub fn is_monthly(self) -> bool {
        !matches!(self, Metric::Users | Metric::ContentItems)
    }
}

/// A calendar month (UTC), the period of monthly counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    year: i32,
    month: Month,
}

impl Period {
    /// The month containing `at`.
    pub fn containing(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        Self { year: at.year(), month: at.month() }
    }

    /// The current month.
    pub fn current() -> Self {
        Self::containing(OffsetDateTime::now_utc())
    }

    /// Parses `YYYY-MM`.
    pub fn parse(value: &str) -> Option<Self> {
        let (y, m) = value.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
        (1970..=9999).contains(&year).then_some(Self { year, month })
    }

    /// First day of the month.
    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// First day of the next month.
    pub fn next_first_day(self) -> Date {
        let (year, month) = if self.month == Month::December {
            (self.year + 1, Month::January)
        } else {
            (self.year, self.month.next())
        };
        Date::from_calendar_date(year, month, 1).unwrap_or(Date::MAX)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month as u8)
    }
}

fn period_key(metric: Metric, period: Period) -> String {
    if metric.is_monthly() { period.to_string() } else { "total".to_owned() }
}

/// Adds `quantity` to a counter only if the result stays within `limit`; one statement, so
/// concurrent callers can never overshoot. Returns whether it was added.
pub async fn try_consume(
    conn: &mut PgConnection,
    org_id: uuid::Uuid,
    metric: Metric,
    quantity: i64,
    limit: i64,
) -> Result<bool, sqlx::Error> {
    if quantity > limit {
        return Ok(false);
    }
    let period = period_key(metric, Period::current());
    let added: Option<i64> = sqlx::query_scalar(
        "INSERT INTO usage_counters AS c (org_id, metric, period, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, metric, period) DO UPDATE SET value = c.value + EXCLUDED.value, updated_at = now()
           WHERE c.value + EXCLUDED.value <= $5
         RETURNING value",
    )
    .bind(org_id)
    .bind(metric.as_str())
    .bind(period)
    .bind(quantity)
    .bind(limit)
    .fetch_optional(conn)
    .await?;
    Ok(added.is_some())
}

/// Takes back `quantity` from a running total (a content item removed), never below zero.
pub async fn release(
    conn: &mut PgConnection,
    org_id: uuid::Uuid,
    metric: Metric,
    quantity: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE usage_counters SET value = greatest(value - $4, 0), updated_at = now()
          WHERE org_id = $1 AND metric = $2 AND period = $3",
    )
    .bind(org_id)
    .bind(metric.as_str())
    .bind(period_key(metric, Period::current()))
    .bind(quantity)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends a usage event (for the daily series) without touching counters; pairs with
/// [`try_consume`], which already moved the counter.
pub async fn record_event(tenant: &mut Tenant, metric: Metric, quantity: i64) -> Result<(), sqlx::Error> {
    let (org_id, actor) = (tenant.org().id, tenant.user_id());
    sqlx::query("INSERT INTO usage_events (org_id, metric, quantity, actor_user_id) VALUES ($1, $2, $3, $4)")
        .bind(org_id)
        .bind(metric.as_str())
        .bind(quantity)
        .bind(actor)
        .execute(tenant.conn())
        .await?;
    Ok(())
}

/// Records a metered action without a limit: bumps its counter and appends an event.
pub async fn record(tenant: &mut Tenant, metric: Metric, quantity: i64) -> Result<(), sqlx::Error> {
    let (org_id, actor) = (tenant.org().id, tenant.user_id());
    let period = period_key(metric, Period::current());
    sqlx::query(
        "WITH bump AS (
             INSERT INTO usage_counters AS c (org_id, metric, period, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, metric, period) DO UPDATE SET value = c.value + EXCLUDED.value, updated_at = now())
         INSERT INTO usage_events (org_id, metric, quantity, actor_user_id) VALUES ($1, $2, $4, $5)",
    )
    .bind(org_id)
    .bind(metric.as_str())
    .bind(period)
    .bind(quantity)
    .bind(actor)
    .execute(tenant.conn())
    .await?;
    Ok(())
}

/// Records an LLM call's tokens: the total and its input and output parts.
pub async fn record_tokens(tenant: &mut Tenant, input: i64, output: i64) -> Result<(), sqlx::Error> {
    record(tenant, Metric::Tokens, input + output).await?;
    record(tenant, Metric::InputTokens, input).await?;
    record(tenant, Metric::OutputTokens, output).await
}

/// New values for some of an organization's limits; absent ones stay.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct LimitsChange {
    /// Seats.
    pub max_users: Option<i32>,
    /// Content items.
    pub max_content_items: Option<i32>,
    /// Crawls per month.
    pub max_crawls_per_month: Option<i32>,
}

/// Largest value any limit may take.
pub const MAX_LIMIT_VALUE: i32 = 1_000_000;

impl LimitsChange {
    /// Why the change cannot apply, if it cannot: nothing to change, or a value out of range.
    pub fn problem(&self) -> Option<String> {
        let fields = [
            ("max_users", self.max_users),
            ("max_content_items", self.max_content_items),
            ("max_crawls_per_month", self.max_crawls_per_month),
        ];
        if fields.iter().all(|(_, v)| v.is_none()) {
            return Some("name at least one of max_users, max_content_items, max_crawls_per_month".into());
        }
        fields
            .iter()
            .find(|(_, v)| v.is_some_and(|v| !(0..=MAX_LIMIT_VALUE).contains(&v)))
            .map(|(name, _)| format!("{name} must be between 0 and {MAX_LIMIT_VALUE}"))
    }
}

/// An operator's change of the organization with Clerk id `clerk_org_id`, from `ip`: applied
/// and recorded in that organization's audit log (`limits.updated`, before and after) in one
/// transaction. `None` when VoiceForge does not know the organization.
pub async fn change_limits(
    db: &crate::db::Database,
    clerk_org_id: &str,
    change: &LimitsChange,
    ip: Option<std::net::IpAddr>,
) -> Result<Option<Limits>, sqlx::Error> {
    let mut sys = crate::tenancy::System::begin(db, "operator: change limits (look up organization)").await?;
    let org_id: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = $1")
        .bind(clerk_org_id)
        .fetch_optional(sys.conn())
        .await?;
    sys.commit().await?;
    let Some(org_id) = org_id else { return Ok(None) };
    let Some(mut tenant) = Tenant::for_system(db, org_id, "operator: change limits").await? else {
        return Ok(None);
    };
    tenant.set_client_ip(ip);
    let (before, after) = set_limits(&mut tenant, change).await?;
    let details = serde_json::json!({"before": before, "after": after});
    let event = crate::audit::AuditEvent::on("limits.updated", "organization", clerk_org_id).with(details);
    crate::audit::record(&mut tenant, event).await?;
    tenant.commit().await?;
    Ok(Some(after))
}

/// Applies `change` to the tenant's organization; returns the limits before and after.
/// Lowering a limit below current use is allowed: members beyond max_users lose access, and
/// further items or crawls are refused until usage is back under it.
pub async fn set_limits(tenant: &mut Tenant, change: &LimitsChange) -> Result<(Limits, Limits), sqlx::Error> {
    let org_id = tenant.org().id;
    let before: Limits = sqlx::query_as(
        "SELECT max_users, max_content_items, max_crawls_per_month FROM organizations WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(org_id)
    .fetch_one(tenant.conn())
    .await?;
    let after = sqlx::query_as(
        "UPDATE organizations
            SET max_users = coalesce($2, max_users), max_content_items = coalesce($3, max_content_items),
                max_crawls_per_month = coalesce($4, max_crawls_per_month), updated_at = now()
          WHERE id = $1
         RETURNING max_users, max_content_items, max_crawls_per_month",
    )
    .bind(org_id)
    .bind(change.max_users)
    .bind(change.max_content_items)
    .bind(change.max_crawls_per_month)
    .fetch_one(tenant.conn())
    .await?;
    Ok((before, after))
}

/// One metric of the usage report.
#[derive(Clone, Debug, Serialize)]
pub struct MetricUsage {
    /// Which metric.
    pub metric: Metric,
    /// Label for people.
    pub label: &'static str,
    /// Used in the period.
    pub used: i64,
    /// The organization's limit, when the metric has one.
    pub limit: Option<i64>,
    /// used / limit in percent (rounded down), when limited.
    pub percent: Option<i64>,
}

/// A limit that is close to or at its end.
#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    /// Which metric.
    pub metric: Metric,
    /// `warning` at 80% and above, `limit_reached` at 100%.
    pub level: WarningLevel,
    /// What it means for the user.
    pub message: String,
}

/// Severity of a [`Warning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    /// At least 80% used.
    Warning,
    /// 100% used: further actions of this kind are refused.
    LimitReached,
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// A day's total of one metric.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct DailyPoint {
    /// The day (UTC), `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Metric name.
    pub metric: String,
    /// Sum of the day's events.
    pub value: i64,
}

/// The usage dashboard's data for one period.
#[derive(Clone, Debug, Serialize)]
pub struct UsageReport {
    /// `YYYY-MM`.
    pub period: String,
    /// Every metric with its limit.
    pub metrics: Vec<MetricUsage>,
    /// Limits at ≥80% and at 100%.
    pub warnings: Vec<Warning>,
    /// Daily totals for the 30 days up to the period's end (or today).
    pub daily: Vec<DailyPoint>,
}

/// Builds the usage report of the tenant's organization for `period`.
pub async fn report(tenant: &mut Tenant, period: Period) -> Result<UsageReport, sqlx::Error> {
    let org_id = tenant.org().id;
    let limits = tenant.org().limits.clone();
    let counters: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT metric, period, value FROM usage_counters WHERE org_id = $1 AND period IN ($2, 'total')",
    )
    .bind(org_id)
    .bind(period.to_string())
    .fetch_all(tenant.conn())
    .await?;
    let members = count_members(tenant).await?;

    let mut metrics = Vec::new();
    for metric in Metric::ALL {
        let used = match metric {
            Metric::Users => members,
            _ => {
                let key = period_key(metric, period);
                counters.iter().find(|(m, p, _)| m == metric.as_str() && *p == key).map_or(0, |c| c.2)
            }
        };
        let limit = match metric {
            Metric::Users => Some(i64::from(limits.max_users)),
            Metric::ContentItems => Some(i64::from(limits.max_content_items)),
            Metric::Crawls => Some(i64::from(limits.max_crawls_per_month)),
            _ => None,
        };
        let percent = limit.map(|l| if l == 0 { if used > 0 { 100 } else { 0 } } else { used.saturating_mul(100) / l });
        metrics.push(MetricUsage { metric, label: metric.label(), used, limit, percent });
    }
    let warnings = metrics.iter().filter_map(warning_for).collect();

    let today = OffsetDateTime::now_utc().date();
    let end = period.next_first_day().min(today.next_day().unwrap_or(today));
    let start = end - time::Duration::days(30);
    let daily = sqlx::query_as(
        "SELECT (occurred_at AT TIME ZONE 'UTC')::date AS date, metric, sum(quantity)::bigint AS value
           FROM usage_events
          WHERE org_id = $1 AND occurred_at >= $2::date AND occurred_at < $3::date
          GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(org_id)
    .bind(start)
    .bind(end)
    .fetch_all(tenant.conn())
    .await?;

    Ok(UsageReport { period: period.to_string(), metrics, warnings, daily })
}

/// The warning a metric's usage calls for, if any.
pub fn warning_for(usage: &MetricUsage) -> Option<Warning> {
    let (limit, percent) = (usage.limit?, usage.percent?);
    let label = usage.label.to_lowercase();
    if percent >= 100 {
        Some(Warning {
            metric: usage.metric,
            level: WarningLevel::LimitReached,
            message: format!("{label}: {} of {limit} used; the limit is reached", usage.used),
        })
    } else if percent >= 80 {
        Some(Warning {
            metric: usage.metric,
            level: WarningLevel::Warning,
            message: format!("{label}: {} of {limit} used ({percent}%)", usage.used),
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_strictly_and_print_back() {
        assert_eq!(Period::parse("2026-11").unwrap().to_string(), "2026-11");
        for bad in ["2026-13", "2026-1", "26-11", "2026-00", "abcd-ef", "", "2026-11-01"] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
        let dec = Period::parse("2026-12").unwrap();
        assert_eq!(dec.next_first_day().to_string(), "2027-01-01");
    }

    fn usage(used: i64, limit: i64) -> MetricUsage {
        MetricUsage {
            metric: Metric::Crawls,
            label: "Crawls",
            used,
            limit: Some(limit),
            percent: Some(used * 100 / limit),
        }
    }

    #[test]
    fn warnings_start_at_eighty_percent_and_escalate_at_the_limit() {
        assert!(warning_for(&usage(7, 10)).is_none());
        assert_eq!(warning_for(&usage(8, 10)).unwrap().level, WarningLevel::Warning);
        assert_eq!(warning_for(&usage(10, 10)).unwrap().level, WarningLevel::LimitReached);
        assert_eq!(warning_for(&usage(12, 10)).unwrap().level, WarningLevel::LimitReached);
    }
}
