//! Clerk's webhook events, parsed once into the few facts VoiceForge keeps. Shapes follow
//! Clerk's JSON: the envelope `{data, object: "event", type, timestamp (ms), instance_id}`;
//! memberships carry `organization` and `public_user_data`; deletions carry `{id, deleted}`.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::Role;

/// Longest Clerk id accepted (the schema's bound).
const MAX_ID_CHARS: usize = 128;

/// An event VoiceForge acts on, or one it acknowledges and ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClerkEvent {
    /// `organization.created` / `organization.updated`.
    OrganizationUpserted(ClerkOrganization),
    /// `organization.deleted`.
    OrganizationDeleted {
        /// Clerk organization id.
        clerk_org_id: String,
    },
    /// `organizationMembership.created` / `.updated`.
    MembershipUpserted(ClerkMembership),
    /// `organizationMembership.deleted`.
    MembershipDeleted(ClerkMembership),
    /// `user.created` / `user.updated`.
    UserUpserted(ClerkUser),
    /// `user.deleted`.
    UserDeleted {
        /// Clerk user id.
        clerk_user_id: String,
    },
    /// Any other type: acknowledged, no effect.
    Ignored,
}

/// An organization as Clerk describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkOrganization {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Slug.
    pub slug: Option<String>,
}

/// A membership: who, where, which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkMembership {
    /// The organization.
    pub organization: ClerkOrganization,
    /// The member (from `public_user_data`, present even before the user signs in).
    pub user: ClerkUser,
    /// `org:admin` / legacy `admin` → admin; everything else → member.
    pub role: Role,
}

/// A user as Clerk describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkUser {
    /// `user_…`.
    pub id: String,
    /// Primary email address, when known.
    pub email: Option<String>,
    /// "First Last", when known.
    pub name: Option<String>,
}

/// A parsed delivery: the event and when Clerk says it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The `type` as sent, for the record.
    pub event_type: String,
    /// What to do.
    pub event: ClerkEvent,
    /// The envelope's `timestamp` (ms), else the time of receipt; orders removals and re-adds.
    pub occurred_at: OffsetDateTime,
}

/// Why a signed delivery could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("the webhook event could not be read: {0}")]
pub struct EventError(String);

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    timestamp: Option<i64>,
}

#[derive(Deserialize)]
struct OrganizationJson {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    slug: Option<String>,
}

#[derive(Deserialize)]
struct DeletedJson {
    id: String,
}

#[derive(Deserialize)]
struct MembershipJson {
    role: String,
    organization: OrganizationJson,
    public_user_data: PublicUserDataJson,
}

#[derive(Deserialize)]
struct PublicUserDataJson {
    user_id: String,
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct UserJson {
    id: String,
    #[serde(default)]
    email_addresses: Vec<EmailJson>,
    #[serde(default)]
    primary_email_address_id: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct EmailJson {
    #[serde(default)]
    id: Option<String>,
    email_address: String,
}

impl Delivery {
    /// Parses a verified body; `now` stands in for a missing or absurd envelope timestamp.
    pub fn parse(body: &[u8], now: OffsetDateTime) -> Result<Self, EventError> {
        let envelope: Envelope = json(body)?;
        let occurred_at = envelope
            .timestamp
            .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
            .unwrap_or(now);
        let data = envelope.data.to_string();
        let data = data.as_bytes();
        let event = match envelope.kind.as_str() {
            "organization.created" | "organization.updated" => {
                ClerkEvent::OrganizationUpserted(organization(json(data)?)?)
            }
            "organization.deleted" => {
                ClerkEvent::OrganizationDeleted { clerk_org_id: id(json::<DeletedJson>(data)?.id, "organization")? }
            }
            "organizationMembership.created" | "organizationMembership.updated" => {
                ClerkEvent::MembershipUpserted(membership(json(data)?)?)
            }
            "organizationMembership.deleted" => ClerkEvent::MembershipDeleted(membership(json(data)?)?),
            "user.created" | "user.updated" => ClerkEvent::UserUpserted(user(json(data)?)?),
            "user.deleted" => ClerkEvent::UserDeleted { clerk_user_id: id(json::<DeletedJson>(data)?.id, "user")? },
            _ => ClerkEvent::Ignored,
        };
        let event_type = envelope.kind.chars().take(128).collect();
        Ok(Self { event_type, event, occurred_at })
    }
}

fn json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, EventError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| EventError(format!("at `{}`: {}", e.path(), e.inner())))
}

fn id(value: String, what: &str) -> Result<String, EventError> {
    let ok = (1..=MAX_ID_CHARS).contains(&value.chars().count()) && !value.chars().any(char::is_control);
    if ok { Ok(value) } else { Err(EventError(format!("the {what} id is empty, too long or not printable"))) }
}

fn text(value: Option<String>, max: usize) -> Option<String> {
    value.map(|v| v.trim().chars().filter(|c| !c.is_control()).take(max).collect::<String>()).filter(|v| !v.is_empty())
}

fn full_name(first: Option<String>, last: Option<String>) -> Option<String> {
    let joined = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
    text(Some(joined), 256)
}

fn email(value: Option<String>) -> Option<String> {
    value.filter(|v| v.contains('@') && v.len() <= 320)
}

fn organization(org: OrganizationJson) -> Result<ClerkOrganization, EventError> {
    Ok(ClerkOrganization { id: id(org.id, "organization")?, name: text(org.name, 256), slug: text(org.slug, 256) })
}

fn membership(m: MembershipJson) -> Result<ClerkMembership, EventError> {
    let u = m.public_user_data;
    Ok(ClerkMembership {
        organization: organization(m.organization)?,
        user: ClerkUser {
            id: id(u.user_id, "user")?,
            email: email(u.identifier),
            name: full_name(u.first_name, u.last_name),
        },
        role: Role::from_clerk_role(&m.role),
    })
}

fn user(u: UserJson) -> Result<ClerkUser, EventError> {
    let primary = u
        .email_addresses
        .iter()
        .find(|e| e.id.is_some() && e.id == u.primary_email_address_id)
        .or_else(|| u.email_addresses.first())
        .map(|e| e.email_address.clone());
    Ok(ClerkUser { id: id(u.id, "user")?, email: email(primary), name: full_name(u.first_name, u.last_name) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Delivery, EventError> {
        Delivery::parse(body.as_bytes(), OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn membership_events_carry_org_user_and_mapped_role() {
        let body = r#"{"data":{"id":"orgmem_1","object":"organization_membership","role":"basic_member",
            "created_at":1767225600000,"updated_at":1767225600000,
            "organization":{"id":"org_1","name":"Acme","slug":"acme","object":"organization"},
            "public_user_data":{"user_id":"user_1","identifier":"ann@acme.test","first_name":"Ann","last_name":null,"image_url":""}},
            "object":"event","type":"organizationMembership.created","timestamp":1767225600123,"instance_id":"ins_1"}"#;
        let delivery = parse(body).unwrap();
        let ClerkEvent::MembershipUpserted(m) = delivery.event else { panic!("{delivery:?}") };
        assert_eq!(m.organization.id, "org_1");
        assert_eq!(
            (m.user.id.as_str(), m.user.email.as_deref(), m.user.name.as_deref()),
            ("user_1", Some("ann@acme.test"), Some("Ann"))
        );
        assert_eq!(m.role, Role::Member);
        assert_eq!(delivery.occurred_at.unix_timestamp_nanos(), 1_767_225_600_123_000_000);
        for (role, expected) in [
            ("org:admin", Role::Admin),
            ("admin", Role::Admin),
            ("org:member", Role::Member),
            ("guest_member", Role::Member),
        ] {
            let body = body.replace("basic_member", role);
            let ClerkEvent::MembershipUpserted(m) = parse(&body).unwrap().event else { panic!() };
            assert_eq!(m.role, expected, "{role}");
        }
    }

    #[test]
    fn user_events_pick_the_primary_email() {
        let body = r#"{"type":"user.updated","object":"event","data":{"id":"user_9","first_name":"Bo","last_name":"Li",
            "primary_email_address_id":"idn_2","email_addresses":[{"id":"idn_1","email_address":"old@x.test"},{"id":"idn_2","email_address":"bo@x.test"}]}}"#;
        assert_eq!(
            parse(body).unwrap().event,
            ClerkEvent::UserUpserted(ClerkUser {
                id: "user_9".into(),
                email: Some("bo@x.test".into()),
                name: Some("Bo Li".into())
            })
        );
    }

    #[test]
    fn deletions_unknown_types_and_bad_shapes() {
        let deleted = r#"{"type":"organization.deleted","data":{"id":"org_1","object":"organization","deleted":true}}"#;
        assert_eq!(parse(deleted).unwrap().event, ClerkEvent::OrganizationDeleted { clerk_org_id: "org_1".into() });
        let unknown = r#"{"type":"session.created","data":{"id":"sess_1"}}"#;
        assert_eq!(parse(unknown).unwrap().event, ClerkEvent::Ignored);
        for bad in [
            "not json",
            r#"{"data":{}}"#,
            r#"{"type":"user.deleted","data":{}}"#,
            r#"{"type":"user.deleted","data":{"id":""}}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let long = format!(r#"{{"type":"user.deleted","data":{{"id":"{}"}}}}"#, "u".repeat(129));
        assert!(parse(&long).is_err());
    }
}
