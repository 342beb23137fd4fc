//! Vercel function for `GET /api/organizations/users/{id}`: hands the lib's handler to the runtime.
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    voiceforge::http::vercel::run(const { voiceforge::routes::Endpoint::OrganizationsUser.function() }).await
}
