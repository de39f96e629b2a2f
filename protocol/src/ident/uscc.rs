//! Unified Social Credit Code (统一社会信用代码, GB 32100-2015), credit-data.md §1.
//!
//! A USCC carries two independent checksums: position 18 (GB 32100 MOD 31 over the
//! 31-character alphabet) and position 17 (GB 11714 over positions 9–16, with plain
//! Base-36 letter values). Checking only the first, as many validators do, lets a wrong
//! organisation code through, so [`Uscc::parse`] runs both, in the order of §1.7 rule 2 so
//! that the first error reported is the most useful one.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::checksum::{gb11714_check_char, gb32100_check_char, gb32100_value};
use super::division::{DivisionCode, DivisionStatus};
use super::normalize::{normalize_code, normalize_keep_case};

/// A validated USCC: 18 upper-case ASCII characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc([u8; 18]);

/// What is wrong with a USCC. Positions are 1-based, in the normalised code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    /// Nothing left after normalisation.
    #[error("USCC is empty")]
    Empty,
    /// Not 18 characters.
    #[error("USCC must be 18 characters, found {found}")]
    Length {
        /// Characters found after normalisation.
        found: usize,
    },
    /// A character that is not ASCII even after full-width folding.
    #[error("USCC character '{character}' at position {position} is not an ASCII digit or letter")]
    NonAsciiCharacter {
        /// 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// Lower-case letter under a strict-case policy.
    #[error(
        "USCC character '{character}' at position {position} is lower case (strict-case policy)"
    )]
    LowerCase {
        /// 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// An ASCII character outside the GB 32100 alphabet (I, O, S, V, Z, punctuation).
    #[error("USCC character '{character}' at position {position} is not in the GB 32100 alphabet (digits and A-Z without I, O, S, V, Z)")]
    ForbiddenCharacter {
        /// 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// Positions 3–8 must be the digits of a division code.
    #[error(
        "USCC division code (positions 3-8) has non-digit '{character}' at position {position}"
    )]
    DivisionNotDigits {
        /// 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// Position 18 does not match the GB 32100 MOD 31 check.
    #[error("USCC final check character (position 18) should be '{expected}', found '{found}'")]
    FinalCheck {
        /// Computed check character.
        expected: char,
        /// Character in the code.
        found: char,
    },
    /// Position 17 does not match the GB 11714 check over positions 9–16.
    #[error("USCC organisation-code check character (position 17, GB 11714) should be '{expected}', found '{found}'")]
    BodyCheck {
        /// Computed check character.
        expected: char,
        /// Character in the code.
        found: char,
    },
    /// Positions 3–8 are in no GB/T 2260 revision (and are not the central `100000`).
    #[error("USCC division code {code} (positions 3-8) is not in any GB/T 2260 revision")]
    UnknownDivision {
        /// The 6 digits.
        code: String,
    },
}

/// Validation policy for [`Uscc::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsccPolicy {
    /// Normalised codes that fail a checksum but are legally valid (pilot-era codes);
    /// they are reported as [`UsccCheck::AllowListed`] instead of rejected.
    pub allow_list: BTreeSet<String>,
    /// Reject lower-case input instead of upper-casing it (some feeds require it).
    pub strict_case: bool,
}

/// Pilot-era codes known to fail the final check while being legally issued (§1.7 rule 3).
pub const PILOT_ALLOW_LIST: &[&str] = &["91350100M0001TGQXM"];

impl Default for UsccPolicy {
    fn default() -> Self {
        UsccPolicy {
            allow_list: PILOT_ALLOW_LIST.iter().map(|s| (*s).to_owned()).collect(),
            strict_case: false,
        }
    }
}

/// Outcome of [`Uscc::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccCheck {
    /// Passes every check.
    Valid(Uscc),
    /// Fails a checksum but is on the allow-list: accept with a warning.
    AllowListed {
        /// The code.
        code: Uscc,
        /// The first checksum defect found.
        defect: UsccError,
    },
    /// Rejected.
    Invalid(UsccError),
}

/// Shape checks (length → alphabet → digits in 3–8) on a normalised string.
fn structure(norm: &str) -> Result<[u8; 18], UsccError> {
    if norm.is_empty() {
        return Err(UsccError::Empty);
    }
    let count = norm.chars().count();
    if count != 18 {
        return Err(UsccError::Length { found: count });
    }
    for (i, c) in norm.chars().enumerate() {
        let position = i + 1;
        if !c.is_ascii() {
            return Err(UsccError::NonAsciiCharacter {
                position,
                character: c,
            });
        }
        let in_alphabet = u8::try_from(c).ok().and_then(gb32100_value).is_some();
        if !in_alphabet {
            return Err(UsccError::ForbiddenCharacter {
                position,
                character: c,
            });
        }
        if (3..=8).contains(&position) && !c.is_ascii_digit() {
            return Err(UsccError::DivisionNotDigits {
                position,
                character: c,
            });
        }
    }
    let mut b = [0u8; 18];
    b.copy_from_slice(norm.as_bytes());
    Ok(b)
}

fn checksums(b: &[u8; 18]) -> Result<(), UsccError> {
    let final_found = char::from(b[17]);
    match gb32100_check_char(&b[..17]) {
        Some(expected) if expected != final_found => {
            return Err(UsccError::FinalCheck {
                expected,
                found: final_found,
            });
        }
        _ => {}
    }
    let body_found = char::from(b[16]);
    match gb11714_check_char(&b[8..16]) {
        Some(expected) if expected != body_found => Err(UsccError::BodyCheck {
            expected,
            found: body_found,
        }),
        _ => Ok(()),
    }
}

fn division(b: &[u8; 18]) -> Result<(), UsccError> {
    let mut d = [0u8; 6];
    d.copy_from_slice(&b[2..8]);
    let unknown = || UsccError::UnknownDivision {
        code: String::from_utf8_lossy(&d).into_owned(),
    };
    let code = DivisionCode::from_digits(d).ok_or_else(unknown)?;
    if code == DivisionCode::CENTRAL || code.status() != DivisionStatus::Unknown {
        Ok(())
    } else {
        Err(unknown())
    }
}

impl Uscc {
    /// Normalises (upper-casing) and runs the full check of §1.7 rule 2: length → alphabet
    /// → positions 3–8 digits → final check → body check → division code known in any
    /// GB/T 2260 revision (or `100000`). No allow-list: see [`Uscc::check`].
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let b = structure(&normalize_code(input))?;
        checksums(&b)?;
        division(&b)?;
        Ok(Uscc(b))
    }

    /// Checks under a policy: strict case, and an allow-list that downgrades checksum
    /// defects (never shape or division defects) to [`UsccCheck::AllowListed`].
    pub fn check(input: &str, policy: &UsccPolicy) -> UsccCheck {
        let norm = if policy.strict_case {
            let kept = normalize_keep_case(input);
            if let Some((i, c)) = kept
                .chars()
                .enumerate()
                .find(|(_, c)| c.is_ascii_lowercase())
            {
                return UsccCheck::Invalid(UsccError::LowerCase {
                    position: i + 1,
                    character: c,
                });
            }
            kept
        } else {
            normalize_code(input)
        };
        let b = match structure(&norm) {
            Ok(b) => b,
            Err(e) => return UsccCheck::Invalid(e),
        };
        let sums = checksums(&b);
        if let Err(e) = division(&b) {
            return UsccCheck::Invalid(e);
        }
        match sums {
            Ok(()) => UsccCheck::Valid(Uscc(b)),
            Err(defect) => {
                let listed = policy
                    .allow_list
                    .iter()
                    .any(|entry| normalize_code(entry) == norm);
                if listed {
                    UsccCheck::AllowListed {
                        code: Uscc(b),
                        defect,
                    }
                } else {
                    UsccCheck::Invalid(defect)
                }
            }
        }
    }

    /// Computes both check characters for a 16-character prefix (positions 1–16) and
    /// returns the full 18-character string, for generators and tests. `None` if the
    /// prefix is not 16 GB 32100 characters.
    pub fn complete(prefix16: &str) -> Option<String> {
        let b = prefix16.as_bytes();
        if b.len() != 16 || b.iter().any(|&c| gb32100_value(c).is_none()) {
            return None;
        }
        let mut s = prefix16.to_owned();
        s.push(gb11714_check_char(b.get(8..16)?)?);
        let c18 = gb32100_check_char(s.as_bytes())?;
        s.push(c18);
        Some(s)
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Positions 3–8: the registering authority's division code at registration time
    /// (not the subject's current seat; §1.7 rule 6).
    pub fn division_code(&self) -> &str {
        self.as_str().get(2..8).unwrap_or("")
    }

    /// Positions 3–8 as a [`DivisionCode`].
    pub fn division(&self) -> DivisionCode {
        let mut d = [0u8; 6];
        d.copy_from_slice(&self.0[2..8]);
        DivisionCode::from_digits(d).unwrap_or(DivisionCode::CENTRAL)
    }

    /// Positions 9–17: the GB 11714 organisation code (body + check).
    pub fn organization_code(&self) -> &str {
        self.as_str().get(8..17).unwrap_or("")
    }

    /// Position 1: registration authority (登记管理部门代码).
    pub fn registration_authority(&self) -> char {
        char::from(self.0[0])
    }

    /// Position 2: organisation category (机构类别代码), meaningful per authority.
    pub fn category(&self) -> char {
        char::from(self.0[1])
    }

    /// `11…`: an organ of state (机构编制 / 机关), e.g. a licensing or penalty authority.
    pub fn is_government_authority(&self) -> bool {
        self.0[0] == b'1' && self.0[1] == b'1'
    }

    /// Whether the authority/category pair is in the §1.2 tables. Unknown pairs deserve a
    /// warning only: authorities were added after 2015. For the extended authorities the
    /// reference gives no category table, so any category `1`–`9` counts as known.
    pub fn authority_category_known(&self) -> bool {
        let cat = self.0[1];
        match self.0[0] {
            b'1' | b'5' => matches!(cat, b'1' | b'2' | b'3' | b'9'),
            b'9' => matches!(cat, b'1' | b'2' | b'3'),
            b'Y' => cat == b'1',
            b'2' | b'3' | b'4' | b'6' | b'7' | b'8' | b'A' | b'B' | b'C' | b'D' | b'E' | b'F'
            | b'G' | b'N' => (b'1'..=b'9').contains(&cat),
            _ => false,
        }
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.as_str())
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Deserialises through [`Uscc::parse`]; codes on the built-in pilot allow-list
/// ([`PILOT_ALLOW_LIST`]) are also accepted, so records that were admitted with a warning
/// can be read back.
impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match Uscc::check(&s, &UsccPolicy::default()) {
            UsccCheck::Valid(u) | UsccCheck::AllowListed { code: u, .. } => Ok(u),
            UsccCheck::Invalid(e) => Err(serde::de::Error::custom(e)),
        }
    }
}
