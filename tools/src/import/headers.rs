//! The header row of a 双公示 template: each column named by its standard field code
//! (`XK_XDR_MC`, `CF_WSH`) or by its Chinese column name (`行政相对人名称`, `行政处罚决定书文号`).
//!
//! Chinese names are matched after normalisation (white space, required-field asterisks
//! and full-width punctuation ignored), as the full name of the data standard, its part
//! before the parenthesis (`行政相对人代码_1`) or the part inside it (`统一社会信用代码`) when
//! that names one column only. Licence and penalty templates share names (`行政相对人名称`,
//! `备注`), so a sheet of Chinese headers is matched against the template that recognises
//! more of its columns.

use std::collections::HashMap;

use credx_protocol::record::fields::{FieldSpec, LICENCE_FIELDS, PENALTY_FIELDS};
use credx_protocol::record::raw::normalize_field_code;

/// How the columns of a sheet map to field codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// The field code of each column; `None` for a column that names no field.
    pub codes: Vec<Option<String>>,
    /// Headers that name no field, for a warning (they are not uploaded).
    pub unknown: Vec<String>,
}

/// Why a header row cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the header row is empty; the first row must name the columns by field code (XK_XDR_MC, CF_WSH, …) or by the template's Chinese column names")]
    Empty,
    #[error("no column of the header row ({0}) is a 双公示 field code or Chinese column name; the first row must name the columns as the licence (XK_*) or penalty (CF_*) template does")]
    NoKnownColumn(String),
    #[error("columns {first} and {second} both name {code}; remove one of them")]
    Duplicate {
        code: String,
        first: usize,
        second: usize,
    },
}

/// Maps a header row to field codes.
pub fn map_headers(headers: &[String]) -> Result<HeaderMap, HeaderError> {
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(HeaderError::Empty);
    }
    let licence = aliases(&LICENCE_FIELDS);
    let penalty = aliases(&PENALTY_FIELDS);
    let by_name = |table: &HashMap<String, &'static str>| {
        headers
            .iter()
            .map(|h| table.get(&normalise_name(h)).map(|c| (*c).to_owned()))
            .collect::<Vec<_>>()
    };
    let from_licence = by_name(&licence);
    let from_penalty = by_name(&penalty);
    let hits = |v: &[Option<String>]| v.iter().filter(|c| c.is_some()).count();
    let names = if hits(&from_penalty) > hits(&from_licence) {
        from_penalty
    } else {
        from_licence
    };

    let mut codes = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, (header, by_name)) in headers.iter().zip(names).enumerate() {
        let code = as_code(header).or(by_name);
        if let Some(code) = &code {
            if let Some(first) = seen.insert(code.clone(), i + 1) {
                return Err(HeaderError::Duplicate {
                    code: code.clone(),
                    first,
                    second: i + 1,
                });
            }
        } else if !header.trim().is_empty() {
            unknown.push(header.trim().to_owned());
        }
        codes.push(code);
    }
    if codes.iter().all(Option::is_none) {
        return Err(HeaderError::NoKnownColumn(
            headers
                .iter()
                .take(5)
                .map(|h| h.trim())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    Ok(HeaderMap { codes, unknown })
}

/// The header as a field code, when it is one (standard, or a known alias).
fn as_code(header: &str) -> Option<String> {
    let code = normalize_field_code(&header.replace(['*', '＊'], ""));
    let known = LICENCE_FIELDS
        .iter()
        .chain(PENALTY_FIELDS.iter())
        .any(|f| f.code == code);
    // Codes of other (local or legacy) columns still pass through: validation then warns
    // about the unknown column instead of the import silently dropping it.
    let looks_like_code = (code.starts_with("XK_") || code.starts_with("CF_"))
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (known || looks_like_code).then_some(code)
}

/// Normalised Chinese name → code, for one template.
fn aliases(table: &[FieldSpec]) -> HashMap<String, &'static str> {
    let mut full: HashMap<String, &'static str> = HashMap::new();
    let mut parts: HashMap<String, Option<&'static str>> = HashMap::new();
    for spec in table {
        let name = normalise_name(spec.name_zh);
        if let Some((before, rest)) = name.split_once('(') {
            let inside = rest.trim_end_matches(')');
            for part in [before, inside] {
                if part.is_empty() {
                    continue;
                }
                parts
                    .entry(part.to_owned())
                    .and_modify(|c| {
                        if *c != Some(spec.code) {
                            *c = None;
                        }
                    })
                    .or_insert(Some(spec.code));
            }
        }
        full.insert(name, spec.code);
    }
    for (part, code) in parts {
        if let Some(code) = code {
            full.entry(part).or_insert(code);
        }
    }
    full
}

/// White space and required-field asterisks removed, full-width brackets and underscore
/// made ASCII.
fn normalise_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | '\u{feff}'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '＿' => '_',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn codes_and_chinese_names_map_to_the_same_codes() {
        let by_code = map_headers(&strings(&["CF_XDR_MC", " cf_wsh ", "BZ"])).unwrap();
        assert_eq!(
            by_code.codes,
            vec![
                Some("CF_XDR_MC".to_owned()),
                Some("CF_WSH".to_owned()),
                Some("BZ".to_owned())
            ]
        );
        let by_name = map_headers(&strings(&[
            "*行政相对人名称",
            "行政处罚决定书文号",
            "行政相对人代码_1(统一社会信用代码)",
            "罚款金额",
            "备注",
            "经办人",
        ]))
        .unwrap();
        assert_eq!(
            by_name.codes,
            vec![
                Some("CF_XDR_MC".to_owned()),
                Some("CF_WSH".to_owned()),
                Some("CF_XDR_SHXYM".to_owned()),
                Some("CF_NR_FK".to_owned()),
                Some("BZ".to_owned()),
                None
            ]
        );
        assert_eq!(by_name.unknown, vec!["经办人".to_owned()]);
        let licence = map_headers(&strings(&[
            "行政相对人名称",
            "统一社会信用代码",
            "许可编号",
        ]))
        .unwrap();
        assert_eq!(licence.codes[1].as_deref(), Some("XK_XDR_SHXYM"));
    }

    #[test]
    fn refuses_rows_that_are_not_headers() {
        assert_eq!(map_headers(&strings(&["", " "])), Err(HeaderError::Empty));
        assert!(matches!(
            map_headers(&strings(&["a", "b"])),
            Err(HeaderError::NoKnownColumn(_))
        ));
        assert!(matches!(
            map_headers(&strings(&["CF_WSH", "行政处罚决定书文号"])),
            Err(HeaderError::Duplicate { .. })
        ));
    }
}
