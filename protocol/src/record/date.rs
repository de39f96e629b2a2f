//! `RecordDate`: a calendar date as carried in 双公示 records.
//!
//! Feeds write dates as `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD` (§4.5 E3); the record keeps
//! one canonical form. In JSON the canonical form is ISO 8601 `YYYY-MM-DD`; in the binary log
//! encoding it is the day number counted from 0001-01-01 (CE), so every date has exactly one
//! byte form (the codec re-encodes decoded values and requires equality).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar date in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordDate(pub NaiveDate);

/// Why a date text was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text matches none of the accepted layouts.
    #[error("“{0}” is not a date in YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD form")]
    Layout(String),
    /// The layout is right but the day does not exist (e.g. 2026-02-30).
    #[error("“{0}” is not a real calendar date")]
    NoSuchDay(String),
}

impl RecordDate {
    /// `2099-12-31`, written by departments for “long term / no end” (长期).
    pub const LONG_TERM: RecordDate = match NaiveDate::from_ymd_opt(2099, 12, 31) {
        Some(d) => RecordDate(d),
        None => RecordDate(NaiveDate::MAX),
    };

    /// Wraps a date.
    pub fn new(date: NaiveDate) -> Self {
        RecordDate(date)
    }

    /// The underlying date.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// Whether this is the long-term marker 2099-12-31.
    pub fn is_long_term(self) -> bool {
        self == Self::LONG_TERM
    }

    /// Parses `YYYY-MM-DD`, `YYYY/MM/DD` (month and day may be written with one digit, as
    /// spreadsheet exports do) or `YYYYMMDD`, after trimming surrounding white space.
    pub fn parse(text: &str) -> Result<RecordDate, DateError> {
        let t = text.trim();
        let layout = || DateError::Layout(text.to_string());
        let (y, m, d) = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
            (&t[0..4], &t[4..6], &t[6..8])
        } else {
            let sep = if t.contains('-') { '-' } else { '/' };
            let mut parts = t.split(sep);
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(y), Some(m), Some(d), None) => (y, m, d),
                _ => return Err(layout()),
            }
        };
        let digits = |s: &str, min: usize, max: usize| {
            s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(y, 4, 4) || !digits(m, 1, 2) || !digits(d, 1, 2) {
            return Err(layout());
        }
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
            return Err(layout());
        };
        NaiveDate::from_ymd_opt(y, m, d)
            .map(RecordDate)
            .ok_or_else(|| DateError::NoSuchDay(text.to_string()))
    }

    /// Parses only the canonical `YYYY-MM-DD` form (used when deserialising typed records,
    /// so that one date has one JSON form).
    pub fn parse_canonical(text: &str) -> Result<RecordDate, DateError> {
        let d = Self::parse(text)?;
        if d.to_string() == text {
            Ok(d)
        } else {
            Err(DateError::Layout(text.to_string()))
        }
    }
}

impl From<NaiveDate> for RecordDate {
    fn from(d: NaiveDate) -> Self {
        RecordDate(d)
    }
}

impl fmt::Display for RecordDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

impl Serialize for RecordDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i32(self.0.num_days_from_ce())
        }
    }
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = RecordDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date in YYYY-MM-DD form")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RecordDate, E> {
        RecordDate::parse_canonical(v).map_err(E::custom)
    }

    fn visit_i32<E: de::Error>(self, v: i32) -> Result<RecordDate, E> {
        NaiveDate::from_num_days_from_ce_opt(v)
            .map(RecordDate)
            .ok_or_else(|| E::custom(format!("day number {v} is out of range")))
    }
}

impl<'de> Deserialize<'de> for RecordDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(DateVisitor)
        } else {
            d.deserialize_i32(DateVisitor)
        }
    }
}
