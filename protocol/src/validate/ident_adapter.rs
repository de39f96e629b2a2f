//! The only place validation touches `crate::ident`, so a change in the identifiers API
//! is absorbed here and the rules read in record terms (normalised text, division prefix,
//! birth date).

use chrono::NaiveDate;

use crate::ident::{DivisionCode, Jurisdiction, ResidentId, Uscc, UsccCheck, UsccPolicy};

/// Outcome of a USCC check, in the terms the rules need.
pub(crate) enum UsccOutcome {
    /// Passes both checks and the division is known.
    Valid {
        /// Normalised code.
        code: String,
        /// Whether the registration-authority/category pair is in the known tables.
        category_known: bool,
    },
    /// On the allow-list despite a defect.
    AllowListed {
        /// Normalised code.
        code: String,
        /// The defect, for the warning.
        defect: String,
    },
    /// Rejected, with the reason.
    Invalid(String),
}

/// Checks a USCC under `policy`.
pub(crate) fn check_uscc(text: &str, policy: &UsccPolicy) -> UsccOutcome {
    match Uscc::check(text, policy) {
        UsccCheck::Valid(u) => UsccOutcome::Valid {
            code: u.as_str().to_string(),
            category_known: u.authority_category_known(),
        },
        UsccCheck::AllowListed { code, defect } => UsccOutcome::AllowListed {
            code: code.as_str().to_string(),
            defect: defect.to_string(),
        },
        UsccCheck::Invalid(e) => UsccOutcome::Invalid(e.to_string()),
    }
}

/// Division code (positions 3–8) of a normalised USCC.
pub(crate) fn uscc_division(code: &str) -> Option<DivisionCode> {
    code.get(2..8).and_then(|d| DivisionCode::parse(d).ok())
}

/// A checked resident ID: normalised number and birth date.
pub(crate) struct CheckedId {
    pub number: String,
    pub birth_date: NaiveDate,
}

/// Checks a resident identity number (GB 11643) as of `today`.
pub(crate) fn check_resident_id(text: &str, today: NaiveDate) -> Result<CheckedId, String> {
    let id = ResidentId::parse_on(text, today).map_err(|e| e.to_string())?;
    Ok(CheckedId {
        number: crate::ident::normalize_code(text),
        birth_date: id.birth_date(),
    })
}

/// Whether an authority registered in `division` may report to a node of `jurisdiction`:
/// inside it, or a parent of it (vertical agencies report downward, §4.5 E6).
pub(crate) fn within_jurisdiction(jurisdiction: &Jurisdiction, division: DivisionCode) -> bool {
    if jurisdiction.contains(division) {
        return true;
    }
    let own = match jurisdiction {
        Jurisdiction::National => return true,
        Jurisdiction::Province(c) | Jurisdiction::Prefecture(c) | Jurisdiction::County(c) => *c,
    };
    Jurisdiction::of(division).contains(own)
}

/// Normalises identifier text (full-width → ASCII, strip spaces and hyphens, upper-case).
pub(crate) fn normalize(text: &str) -> String {
    crate::ident::normalize_code(text)
}

/// GB/T 17710 MOD 11,10 check of a 15-digit 工商注册号.
pub(crate) fn business_reg_no_ok(text: &str) -> bool {
    crate::ident::checksum::is_valid_business_registration_number(text)
}

/// GB 11714 check of a 9-character organisation code (`XXXXXXXX-X` or without the hyphen).
pub(crate) fn org_code_ok(text: &str) -> bool {
    let n = normalize(text);
    let b = n.as_bytes();
    b.len() == 9
        && b.get(..8)
            .and_then(crate::ident::checksum::gb11714_check_char)
            .is_some_and(|c| b.get(8).is_some_and(|&last| char::from(last) == c))
}
