//! Who is calling: the department behind a bearer token, or an anonymous reader.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::state::ApiState;
use super::tokens::{TokenEntry, View};

/// The caller of a request. A request without a token is anonymous (public view only); a
/// request with an unknown token is refused rather than silently downgraded, so a
/// department notices a revoked or mistyped token at once.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<TokenEntry>);

impl Caller {
    /// The department, for requests that write.
    pub fn department(&self) -> Result<&TokenEntry, ApiError> {
        self.0.as_ref().ok_or(ApiError::MissingToken)
    }

    /// The view to serve: the one asked for, if the token allows it; by default the
    /// widest the token allows.
    pub fn view(&self, asked: Option<View>) -> Result<View, ApiError> {
        let may_share = self.0.as_ref().is_some_and(|t| t.may_read(View::Shared));
        match asked {
            None if may_share => Ok(View::Shared),
            None | Some(View::Public) => Ok(View::Public),
            Some(View::Shared) if may_share => Ok(View::Shared),
            Some(View::Shared) => Err(ApiError::ViewNotPermitted {
                department: self
                    .0
                    .as_ref()
                    .map_or_else(|| "(anonymous)".to_owned(), |t| t.department.clone()),
                view: View::Shared.as_str(),
            }),
        }
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let text = header.to_str().map_err(|_| ApiError::InvalidToken)?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or(ApiError::InvalidToken)?;
        state
            .tokens
            .authenticate(token)
            .map(|t| Caller(Some(t)))
            .ok_or(ApiError::InvalidToken)
    }
}
