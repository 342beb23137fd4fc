//! Vercel function for `PATCH /api/organizations/limits`: hands the lib's handler to the runtime.
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    voiceforge::http::vercel::run(const { voiceforge::routes::Endpoint::OrganizationsLimits.function() }).await
}
