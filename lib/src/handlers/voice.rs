//! Brand voice: `GET /api/voice` (profile + style guide), `PUT /api/voice/guide` (admins),
//! `POST /api/voice/check`.

use serde::{Deserialize, Serialize};

use crate::{
    audit::{self, AuditEvent},
    error::ApiError,
    generate::{
        guide::{self, MAX_CHECK_BYTES, StoredGuide, StyleGuide, VoiceCheck},
        voice::{self, StoredProfile},
    },
    http::{extract::InTenant, json::ApiJson},
};

/// The voice page's data.
#[derive(Serialize)]
pub struct VoiceView {
    /// The measured profile; null while the library is empty.
    profile: Option<StoredProfile>,
    /// The style guide.
    guide: StoredGuide,
}

/// The org's measured voice profile (recomputed when the library changed) and style guide.
pub async fn get_voice(InTenant(mut tenant): InTenant) -> Result<ApiJson<VoiceView>, ApiError> {
    let profile = voice::profile(&mut tenant).await?;
    let guide = guide::get(&mut tenant).await?;
    tenant.commit().await?;
    Ok(ApiJson(VoiceView { profile, guide }))
}

/// The org's style guide.
pub async fn get_guide(InTenant(mut tenant): InTenant) -> Result<ApiJson<StoredGuide>, ApiError> {
    let guide = guide::get(&mut tenant).await?;
    tenant.commit().await?;
    Ok(ApiJson(guide))
}

/// Replaces the org's style guide; admins only.
pub async fn put_guide(
    InTenant(mut tenant): InTenant,
    ApiJson(body): ApiJson<StyleGuide>,
) -> Result<ApiJson<StoredGuide>, ApiError> {
    tenant.require_admin()?;
    let guide = body.validate().map_err(|detail| ApiError::bad_request("invalid_guide", detail))?;
    let stored = guide::put(&mut tenant, &guide).await?;
    let details = serde_json::json!({
        "tone": guide.tone.len(), "preferred_terms": guide.preferred_terms.len(),
        "banned_words": guide.banned_words.len(),
    });
    let org = tenant.org().clerk_org_id.clone();
    audit::record(&mut tenant, AuditEvent::on("style_guide.updated", "style_guide", org).with(details)).await?;
    tenant.commit().await?;
    Ok(ApiJson(stored))
}

/// Body of `POST /api/voice/check`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    text: String,
}

/// Scores a text against the style guide and the measured voice.
pub async fn check_voice(
    InTenant(mut tenant): InTenant,
    ApiJson(body): ApiJson<CheckBody>,
) -> Result<ApiJson<VoiceCheck>, ApiError> {
    if body.text.len() > MAX_CHECK_BYTES {
        return Err(ApiError::bad_request("text_too_long", format!("text: at most {MAX_CHECK_BYTES} bytes")));
    }
    let profile = voice::profile(&mut tenant).await?;
    let guide = guide::get(&mut tenant).await?.guide;
    tenant.commit().await?;
    Ok(ApiJson(guide::check(&body.text, &guide, profile.as_ref().map(|p| &p.profile))))
}
