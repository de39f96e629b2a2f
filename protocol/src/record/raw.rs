//! `RawRecord`: the untyped form of a 双公示 record as read from a JSON object or a CSV row,
//! before validation turns it into a typed record.
//!
//! Reading is deliberately forgiving, so that validation can report every defect of a
//! record instead of failing on the first: column codes are trimmed and upper-cased,
//! known aliases resolved, scalar JSON values of any type become text, `null` and empty
//! text mean “absent”, and nested (array/object) values are remembered for a finding
//! rather than rejected here.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::fields::canonical_code;

/// Which 双公示 record a raw record is, from its column-code prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// `XK_*` columns: 行政许可.
    Licence,
    /// `CF_*` columns: 行政处罚.
    Penalty,
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Licence => "licence (行政许可)",
            Self::Penalty => "penalty (行政处罚)",
        })
    }
}

/// A record before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// Detected kind.
    pub kind: RecordKind,
    /// Column code → text. Codes are normalised; values are never empty.
    pub fields: BTreeMap<String, String>,
    /// Column codes whose JSON value was an array or object (reported by validation).
    pub non_scalar: Vec<String>,
}

/// Why a JSON value or field map could not become a raw record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawError {
    /// Neither XK_ nor CF_ column codes.
    #[error(
        "no XK_ (licence) or CF_ (penalty) column codes found; columns must use the standard codes"
    )]
    UnknownKind,
    /// Both prefixes present.
    #[error("mixes {licence} XK_ (licence) and {penalty} CF_ (penalty) column codes; one record must be one kind")]
    MixedKinds {
        /// Number of XK_ columns.
        licence: usize,
        /// Number of CF_ columns.
        penalty: usize,
    },
    /// A JSON record that is not an object.
    #[error("expected a JSON object with column codes as keys, found {0}")]
    NotAnObject(&'static str),
}

/// Normalises a column code: trims (including a stray BOM from a CSV header), upper-cases
/// ASCII and resolves aliases.
pub fn normalize_field_code(code: &str) -> String {
    let t = code.trim().trim_start_matches('\u{feff}').trim();
    canonical_code(&t.to_ascii_uppercase()).to_string()
}

impl RawRecord {
    /// Builds a raw record from column → text pairs (a CSV row). Empty values are dropped;
    /// when two columns normalise to the same code the first non-empty value wins.
    pub fn from_fields<I, K, V>(pairs: I) -> Result<RawRecord, RawError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut fields = BTreeMap::new();
        for (k, v) in pairs {
            let code = normalize_field_code(k.as_ref());
            let value = v.as_ref();
            if code.is_empty() || value.trim().is_empty() {
                continue;
            }
            fields.entry(code).or_insert_with(|| value.to_string());
        }
        let kind = detect_kind(fields.keys().map(String::as_str))?;
        Ok(RawRecord {
            kind,
            fields,
            non_scalar: Vec::new(),
        })
    }

    /// Builds a raw record from a JSON value, which must be an object. Strings are kept,
    /// numbers and booleans become their JSON text, `null` means absent, arrays and objects
    /// are listed in `non_scalar`.
    pub fn from_json(value: &Value) -> Result<RawRecord, RawError> {
        let Value::Object(map) = value else {
            return Err(RawError::NotAnObject(json_type(value)));
        };
        let mut fields = BTreeMap::new();
        let mut non_scalar = Vec::new();
        let mut codes = Vec::with_capacity(map.len());
        for (k, v) in map {
            let code = normalize_field_code(k);
            if code.is_empty() {
                continue;
            }
            codes.push(code.clone());
            let text = match v {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Array(_) | Value::Object(_) => {
                    non_scalar.push(code);
                    continue;
                }
            };
            if !text.trim().is_empty() {
                fields.entry(code).or_insert(text);
            }
        }
        // Kind detection looks at every key, including null and nested ones.
        let kind = detect_kind(codes.iter().map(String::as_str))?;
        Ok(RawRecord {
            kind,
            fields,
            non_scalar,
        })
    }

    /// The value of a column; `None` when absent or blank.
    pub fn get(&self, code: &str) -> Option<&str> {
        self.fields
            .get(code)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Detects the kind from column-code prefixes (`BZ` and unknown codes do not count).
pub fn detect_kind<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<RecordKind, RawError> {
    let (mut licence, mut penalty) = (0usize, 0usize);
    for c in codes {
        if c.starts_with("XK_") {
            licence += 1;
        } else if c.starts_with("CF_") {
            penalty += 1;
        }
    }
    match (licence, penalty) {
        (0, 0) => Err(RawError::UnknownKind),
        (_, 0) => Ok(RecordKind::Licence),
        (0, _) => Ok(RecordKind::Penalty),
        (licence, penalty) => Err(RawError::MixedKinds { licence, penalty }),
    }
}

/// A JSON input that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column} (record {record}): {message}")]
pub struct JsonInputError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem (0 when unknown).
    pub column: usize,
    /// 1-based number of the record being read.
    pub record: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// Reads JSON input holding records: one array of objects, one object, or JSON Lines (one
/// object per line; any white space between values is accepted). A leading UTF-8 BOM is
/// skipped. Syntax errors and non-object records make the whole input unreadable (they mean
/// the file is not what it claims to be); per-record problems (unknown kind) are returned
/// in place so the caller can report them with the record number.
pub fn parse_json_records(
    bytes: &[u8],
) -> Result<Vec<Result<RawRecord, RawError>>, JsonInputError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let line_of = |offset: usize| {
        1 + body
            .get(..offset)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
    };
    let mut values = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(v)) => values.push((line_of(start), v)),
            Some(Err(e)) => {
                return Err(JsonInputError {
                    line: e.line(),
                    column: e.column(),
                    record: values.len() + 1,
                    message: format!("invalid JSON: {e}; fix the syntax (expected an array of objects, one object, or one object per line)"),
                })
            }
        }
    }
    if values.is_empty() {
        return Err(JsonInputError {
            line: 1,
            column: 0,
            record: 0,
            message: "no JSON value found; the file is empty".to_string(),
        });
    }
    let single_array = values.len() == 1 && values.first().is_some_and(|(_, v)| v.is_array());
    let items: Vec<(usize, Value)> = if single_array {
        match values.pop() {
            Some((line, Value::Array(a))) => a.into_iter().map(|v| (line, v)).collect(),
            _ => Vec::new(),
        }
    } else {
        values
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, (line, v)) in items.iter().enumerate() {
        if !v.is_object() {
            return Err(JsonInputError {
                line: *line,
                column: 0,
                record: i + 1,
                message: format!(
                    "record {} is {}, not an object; each record must be a JSON object keyed by column codes",
                    i + 1,
                    json_type(v)
                ),
            });
        }
        out.push(RawRecord::from_json(v));
    }
    Ok(out)
}
