//! The names credentials carry: federation names, origins, and the trust root's key name.

use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::note::KeyName;
use credx_protocol::roster::{is_valid_origin, JurisdictionSpec, MAX_ORIGIN_LEN};

use super::error::FederationError;
use crate::transport::pki::validate_origin;
use crate::transport::PkiError;

/// Longest federation name (the roster's limit).
pub const MAX_FEDERATION_NAME_LEN: usize = 64;

/// Suffix of the trust root's key name: the root of federation `credx-federation` signs as
/// `credx-federation-root`, so a signature line says which federation's root made it.
pub const ROOT_KEY_SUFFIX: &str = "-root";

/// Checks a federation name against the roster's rule: 1 to 64 lower-case ASCII letters,
/// digits or `-`.
pub fn check_federation_name(name: &str) -> Result<(), FederationError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_FEDERATION_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(FederationError::InvalidFederationName {
            name: name.to_owned(),
        })
    }
}

/// Checks an origin against both rules it must meet: the roster's (at most 64 lower-case
/// letters, digits, `.` or `-`) and the certificate's (a DNS name of two or more labels whose
/// last label is not all digits), so credentials are never issued for an origin one of
/// them would later refuse.
pub fn check_origin(origin: &str) -> Result<(), FederationError> {
    if !is_valid_origin(origin) {
        return Err(FederationError::InvalidOrigin {
            origin: origin.to_owned(),
            reason: format!(
                "the roster allows 1 to {MAX_ORIGIN_LEN} lower-case letters, digits, '.' or '-', \
                 not starting or ending with '.' (e.g. 440106.credx)"
            ),
        });
    }
    validate_origin(origin).map_err(|e| FederationError::InvalidOrigin {
        origin: origin.to_owned(),
        reason: match e {
            PkiError::InvalidOrigin { reason, .. } => {
                format!("a certificate cannot name it: {reason}")
            }
            other => other.to_string(),
        },
    })
}

/// The key name of an origin's log and cosigner keys (the roster requires both to be named
/// like the origin).
pub(crate) fn origin_key_name(origin: &str) -> Result<KeyName, FederationError> {
    check_origin(origin)?;
    KeyName::new(origin).map_err(|e| FederationError::InvalidOrigin {
        origin: origin.to_owned(),
        reason: e.to_string(),
    })
}

/// The trust root's key name for a federation.
pub(crate) fn root_key_name(federation: &str) -> Result<KeyName, FederationError> {
    check_federation_name(federation)?;
    KeyName::new(format!("{federation}{ROOT_KEY_SUFFIX}")).map_err(|_| {
        FederationError::InvalidFederationName {
            name: federation.to_owned(),
        }
    })
}

/// The federation a root key name belongs to, if it is spelled `<federation>-root`.
pub(crate) fn federation_of_root_key(name: &KeyName) -> Option<&str> {
    name.as_str()
        .strip_suffix(ROOT_KEY_SUFFIX)
        .filter(|f| check_federation_name(f).is_ok())
}

/// Parses one jurisdiction item in the roster's spelling: `national`, `div:<6-digit code>`
/// (a province `440000`, a prefecture `440100` or a county `440106`) or `sector:<name>`.
/// The text must be canonical, as the roster writes it, so what an operator types is what
/// gets signed.
pub fn parse_jurisdiction(item: &str) -> Result<JurisdictionSpec, String> {
    let spec = if item == "national" {
        JurisdictionSpec::Division(Jurisdiction::National)
    } else if let Some(code) = item.strip_prefix("div:") {
        let code = DivisionCode::parse(code).map_err(|e| format!("{item:?}: {e}"))?;
        JurisdictionSpec::Division(Jurisdiction::of(code))
    } else if let Some(sector) = item.strip_prefix("sector:") {
        JurisdictionSpec::Sector(sector.to_owned())
    } else {
        return Err(format!(
            "{item:?}: expected national, div:<6-digit division code> or sector:<name>"
        ));
    };
    if spec.to_text() != item {
        return Err(format!(
            "{item:?} is not canonical: write {:?} (the current 6-digit code, or national)",
            spec.to_text()
        ));
    }
    Ok(spec)
}
