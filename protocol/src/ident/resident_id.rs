//! Resident identity number (公民身份号码, GB 11643-1999), credit-data.md §2.
//!
//! `AAAAAA YYYYMMDD SSS C`: county-level address code, birth date, sequence (odd = male),
//! ISO 7064 MOD 11-2 check. Address codes are validated against the union of all GB/T 2260
//! revisions: people keep numbers assigned under codes that later changed (422327 阳新县).
//! Pure code must not read the clock, so the future-birth-date rule needs the caller's
//! date: [`ResidentId::parse_on`] is the full check.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::checksum::mod11_2_check_char;
use super::division::{DivisionCode, DivisionLevel, DivisionStatus};
use super::normalize::fold_width;

/// A validated 18-character resident ID (digits, last may be `X`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId([u8; 18]);

/// Gender from the sequence parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Odd sequence number.
    Male,
    /// Even sequence number.
    Female,
}

/// What is wrong with a resident ID. Positions are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    /// Nothing but whitespace.
    #[error("resident ID is empty")]
    Empty,
    /// Wrong number of characters.
    #[error("resident ID must be {expected} characters, found {found}")]
    Length {
        /// 18, or 15 for the legacy form.
        expected: usize,
        /// Characters found.
        found: usize,
    },
    /// A character that is not a digit (or `X` in position 18).
    #[error("resident ID character '{character}' at position {position} is not a digit{}", if *.position == 18 { " or X" } else { "" })]
    NotDigits {
        /// 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// MOD 11-2 check character mismatch.
    #[error("resident ID check character should be '{expected}', found '{found}'")]
    CheckDigit {
        /// Computed.
        expected: char,
        /// In the number.
        found: char,
    },
    /// Positions 7–14 are not a calendar date.
    #[error("resident ID birth date {date} (positions 7-14) is not a calendar date")]
    InvalidBirthDate {
        /// The 8 digits.
        date: String,
    },
    /// Birth date after the reference date.
    #[error("resident ID birth date {date} is after {today}")]
    BirthDateInFuture {
        /// Birth date.
        date: NaiveDate,
        /// Reference date given by the caller.
        today: NaiveDate,
    },
    /// Address code is a province (`xx0000`) or prefecture (`xxxx00`) code.
    #[error("resident ID address code {code} is not a county-level code")]
    NotCountyLevel {
        /// The 6 digits.
        code: String,
    },
    /// Address code in no GB/T 2260 revision.
    #[error("resident ID address code {code} is not in any GB/T 2260 revision")]
    UnknownAddressCode {
        /// The 6 digits.
        code: String,
    },
}

/// Trims and folds full-width forms and `x`; nothing else is repaired (§2.4 rule 1).
fn normalize_id(input: &str) -> String {
    input
        .trim()
        .chars()
        .map(fold_width)
        .map(|c| if c == 'x' { 'X' } else { c })
        .collect()
}

fn shape(norm: &str) -> Result<[u8; 18], ResidentIdError> {
    if norm.is_empty() {
        return Err(ResidentIdError::Empty);
    }
    let count = norm.chars().count();
    if count != 18 {
        return Err(ResidentIdError::Length {
            expected: 18,
            found: count,
        });
    }
    for (i, c) in norm.chars().enumerate() {
        let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
        if !ok {
            return Err(ResidentIdError::NotDigits {
                position: i + 1,
                character: c,
            });
        }
    }
    let mut b = [0u8; 18];
    b.copy_from_slice(norm.as_bytes());
    Ok(b)
}

fn digits_value(d: &[u8]) -> u32 {
    d.iter()
        .fold(0, |a, &c| a * 10 + u32::from(c.wrapping_sub(b'0')))
}

fn birth_date(b: &[u8; 18]) -> Option<NaiveDate> {
    let year = i32::try_from(digits_value(&b[6..10])).ok()?;
    NaiveDate::from_ymd_opt(year, digits_value(&b[10..12]), digits_value(&b[12..14]))
}

/// Full check except the future-date rule.
fn validate(b: &[u8; 18]) -> Result<(), ResidentIdError> {
    let found = char::from(b[17]);
    if let Some(expected) = mod11_2_check_char(&b[..17]) {
        if expected != found {
            return Err(ResidentIdError::CheckDigit { expected, found });
        }
    }
    if birth_date(b).is_none() {
        return Err(ResidentIdError::InvalidBirthDate {
            date: String::from_utf8_lossy(&b[6..14]).into_owned(),
        });
    }
    let mut d = [0u8; 6];
    d.copy_from_slice(&b[..6]);
    let code_str = String::from_utf8_lossy(&d).into_owned();
    let Some(code) = DivisionCode::from_digits(d) else {
        return Err(ResidentIdError::UnknownAddressCode { code: code_str });
    };
    if code.level() != DivisionLevel::County {
        return Err(ResidentIdError::NotCountyLevel { code: code_str });
    }
    if code.status() == DivisionStatus::Unknown {
        return Err(ResidentIdError::UnknownAddressCode { code: code_str });
    }
    Ok(())
}

impl ResidentId {
    /// Full check against the caller's date `today`: shape, MOD 11-2, real birth date not
    /// after `today`, county-level address code in any GB/T 2260 revision.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<ResidentId, ResidentIdError> {
        let id = Self::parse(input)?;
        let date = id.birth_date();
        if date > today {
            return Err(ResidentIdError::BirthDateInFuture { date, today });
        }
        Ok(id)
    }

    /// Everything [`ResidentId::parse_on`] checks except the future-date rule (pure code
    /// has no clock). Use it for stored data; use `parse_on` at intake.
    pub fn parse(input: &str) -> Result<ResidentId, ResidentIdError> {
        let b = shape(&normalize_id(input))?;
        validate(&b)?;
        Ok(ResidentId(b))
    }

    /// Converts a legacy 15-digit number (GB 11643-1989: address, YYMMDD, sequence) by
    /// inserting the century `19` and appending the check character, then validates it.
    pub fn from_legacy_15(input: &str) -> Result<ResidentId, ResidentIdError> {
        let norm = normalize_id(input);
        if norm.is_empty() {
            return Err(ResidentIdError::Empty);
        }
        let count = norm.chars().count();
        if count != 15 {
            return Err(ResidentIdError::Length {
                expected: 15,
                found: count,
            });
        }
        if let Some((i, c)) = norm.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(ResidentIdError::NotDigits {
                position: i + 1,
                character: c,
            });
        }
        let mut s = String::with_capacity(18);
        s.push_str(norm.get(..6).unwrap_or_default());
        s.push_str("19");
        s.push_str(norm.get(6..).unwrap_or_default());
        let check = mod11_2_check_char(s.as_bytes()).unwrap_or('0');
        s.push(check);
        Self::parse(&s)
    }

    /// [`ResidentId::from_legacy_15`] plus the future-date rule.
    pub fn from_legacy_15_on(input: &str, today: NaiveDate) -> Result<ResidentId, ResidentIdError> {
        let id = Self::from_legacy_15(input)?;
        Self::parse_on(id.as_str(), today)
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Birth date (validated at parse time).
    pub fn birth_date(&self) -> NaiveDate {
        birth_date(&self.0).unwrap_or(NaiveDate::MIN)
    }

    /// Gender from the parity of the sequence (position 17).
    pub fn gender(&self) -> Gender {
        if (self.0[16].wrapping_sub(b'0')) % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// Age in full years on `date` (0 if `date` is before birth). A 29 February birthday
    /// is reached on 1 March in common years (the birthday "has passed" only after 28 Feb).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        let birth = self.birth_date();
        if date < birth {
            return 0;
        }
        let mut years = date.year() - birth.year();
        if (date.month(), date.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }

    /// Positions 1–6: the address code when the number was assigned.
    pub fn address_code(&self) -> DivisionCode {
        let mut d = [0u8; 6];
        d.copy_from_slice(&self.0[..6]);
        DivisionCode::from_digits(d).unwrap_or(DivisionCode::CENTRAL)
    }

    /// Public-view form: address code and last 4 kept, the 8 date digits hidden
    /// (`420281********1237`); full numbers only go through the sharing channel.
    pub fn masked(&self) -> String {
        let s = self.as_str();
        format!(
            "{}********{}",
            s.get(..6).unwrap_or_default(),
            s.get(14..).unwrap_or_default()
        )
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Debug is masked so that IDs do not leak into logs.
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl std::str::FromStr for ResidentId {
    type Err = ResidentIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ResidentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResidentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
