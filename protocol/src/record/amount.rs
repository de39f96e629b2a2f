//! `AmountWan`: a money amount in 万元 (10 000 CNY), the unit of `CF_NR_FK` / `CF_NR_WFFF`.
//!
//! The standard column is `decimal(18,6)`: six decimals of 万元 is exactly one fen (0.01 元),
//! so amounts are stored as an `i64` count of micro-万元 and never pass through floating
//! point. JSON carries the canonical decimal text (`"0.2"`), the binary log encoding the
//! integer, so each amount has one byte form.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Micro-units per 万元.
const SCALE: i64 = 1_000_000;
/// Amounts must be below 10^12 万元 (§4.5 E5), i.e. below 10^18 micro-units (fits in i64).
const LIMIT_MICROS: i64 = 1_000_000_000_000 * SCALE;

/// An amount in 万元 with at most 6 decimals, stored as micro-万元 (= fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AmountWan(i64);

/// Why an amount text was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a decimal number.
    #[error("“{0}” is not a decimal number")]
    NotANumber(String),
    /// More than 6 significant decimals (finer than one fen).
    #[error("“{0}” has more than 6 decimals (the unit is 万元; 6 decimals = 1 fen)")]
    TooManyDecimals(String),
    /// |amount| ≥ 10^12 万元.
    #[error("“{0}” is not below 10^12 万元")]
    TooLarge(String),
}

impl AmountWan {
    /// Zero.
    pub const ZERO: AmountWan = AmountWan(0);

    /// From a count of micro-万元 (fen). `None` when |micros| ≥ 10^18.
    pub fn from_micros(micros: i64) -> Option<AmountWan> {
        (micros.checked_abs()? < LIMIT_MICROS).then_some(AmountWan(micros))
    }

    /// The amount in micro-万元 (fen).
    pub fn micros(self) -> i64 {
        self.0
    }

    /// Whole 万元 (truncated toward zero), for coarse comparisons such as the 元/万元 check.
    pub fn whole_wan(self) -> i64 {
        self.0 / SCALE
    }

    /// Whether the amount is > 0.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Whether the amount is < 0.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses decimal text such as `2`, `2.0`, `0.2`, `-1.5`, `+3` or `1e-6` (JSON numbers
    /// reach us in the exponent form serde_json prints). Trailing zeros beyond the sixth
    /// decimal are accepted because the value is still exact; any other digit there is not.
    pub fn parse(text: &str) -> Result<AmountWan, AmountError> {
        let nan = || AmountError::NotANumber(text.to_string());
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => {
                let e = &t[i + 1..];
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty()
                    || digits.len() > 4
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(nan());
                }
                (&t[..i], e.parse::<i32>().map_err(|_| nan())?)
            }
            None => (t, 0),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(nan());
        }
        // All digits, and the position of the decimal point counted from the left after
        // applying the exponent.
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        let point = i64::try_from(int_part.len()).map_err(|_| nan())? + i64::from(exponent);
        let mut micros: i64 = 0;
        for (i, &d) in digits.iter().enumerate() {
            // Power of ten this digit stands for, relative to micro-units: position 0 right of
            // the point is 10^-1 万元 = 10^5 micro.
            let pos = i64::try_from(i).map_err(|_| nan())?;
            let power = point - pos - 1 + 6; // exponent of 10 in micro-units
            if d == 0 {
                continue;
            }
            if power < 0 {
                return Err(AmountError::TooManyDecimals(text.to_string()));
            }
            if power >= 18 {
                return Err(AmountError::TooLarge(text.to_string()));
            }
            let place = 10_i64.pow(u32::try_from(power).map_err(|_| nan())?);
            micros = micros
                .checked_add(i64::from(d) * place)
                .ok_or_else(|| AmountError::TooLarge(text.to_string()))?;
        }
        if micros >= LIMIT_MICROS {
            return Err(AmountError::TooLarge(text.to_string()));
        }
        Ok(AmountWan(if negative { -micros } else { micros }))
    }

    /// Parses only the canonical form printed by `Display` (used when deserialising typed
    /// records, so that one amount has one JSON form).
    pub fn parse_canonical(text: &str) -> Result<AmountWan, AmountError> {
        let a = Self::parse(text)?;
        if a.to_string() == text {
            Ok(a)
        } else {
            Err(AmountError::NotANumber(text.to_string()))
        }
    }
}

impl fmt::Display for AmountWan {
    /// Shortest exact decimal: `2`, `0.2`, `1234.000001`, `-1.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE.unsigned_abs();
        let frac = abs % SCALE.unsigned_abs();
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let s = format!("{frac:06}");
            write!(f, "{sign}{whole}.{}", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for AmountWan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

struct AmountVisitor;

impl Visitor<'_> for AmountVisitor {
    type Value = AmountWan;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount in 万元 as canonical decimal text")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AmountWan, E> {
        AmountWan::parse_canonical(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AmountWan, E> {
        AmountWan::from_micros(v).ok_or_else(|| E::custom("amount is not below 10^12 万元"))
    }
}

impl<'de> Deserialize<'de> for AmountWan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(AmountVisitor)
        } else {
            d.deserialize_i64(AmountVisitor)
        }
    }
}
