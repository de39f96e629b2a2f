//! GB/T 2260 administrative division codes, the checked-in division table and the
//! jurisdiction-prefix rule of credit-data.md §3.
//!
//! The table (`protocol/data/gb2260.tsv`) is embedded at compile time and parsed once.
//! It is deliberately partial (the full historical GB/T 2260 is not available offline), so
//! besides "known" and "unknown" a code can be "not covered": its area has not been
//! loaded in full, and rejecting it would reject real data. `protocol/data/gb2260-complete.tsv`
//! lists the prefixes whose children are complete; only there is an absent code an error.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::normalize::normalize_code;

const TABLE_TSV: &str = include_str!("../../data/gb2260.tsv");
const COMPLETE_TSV: &str = include_str!("../../data/gb2260-complete.tsv");

/// A syntactically valid 6-digit GB/T 2260 code (or the central-level `100000` used in
/// USCCs). Whether it exists is a separate question: see [`DivisionCode::status`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode([u8; 6]);

/// Why a string is not a division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    /// Nothing left after normalisation.
    #[error("division code is empty")]
    Empty,
    /// Not 6 characters long.
    #[error("division code must be 6 digits, found {found} characters")]
    Length {
        /// Characters found after normalisation.
        found: usize,
    },
    /// A non-digit character (1-based position).
    #[error("division code character '{character}' at position {position} is not a digit")]
    NotDigits {
        /// 1-based position in the normalised code.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// Digits that cannot be a GB/T 2260 code (province `00`).
    #[error("division code {code} has no province part (positions 1-2 are 00)")]
    InvalidPattern {
        /// The code as given.
        code: String,
    },
    /// Well-formed but absent from every revision loaded.
    #[error("division code {code} is not in any GB/T 2260 revision")]
    Unknown {
        /// The code as given.
        code: String,
    },
}

/// Level of a code, read from its zero pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// `100000`: central-level registration authorities (USCC only, not in GB/T 2260).
    National,
    /// `xx0000`.
    Province,
    /// `xxyy00` (including the `xx9000` grouping row of directly-administered counties).
    Prefecture,
    /// `xxyyzz` with `zz != 00`.
    County,
}

/// Whether the loaded table can vouch for a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionStatus {
    /// Present in at least one revision.
    Known,
    /// Certainly not a GB/T 2260 code: impossible pattern, unknown province, or absent from
    /// an area whose list is complete.
    Unknown,
    /// Absent, but its area is not loaded in full: cannot be judged offline.
    NotCovered,
}

/// One row of the division table: one name of one code over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionInfo {
    /// The code.
    pub code: DivisionCode,
    /// Official name in this period.
    pub name: &'static str,
    /// Level.
    pub level: DivisionLevel,
    /// Parent code (province for prefectures; prefecture or province for counties).
    pub parent: Option<DivisionCode>,
    /// First day the code/name was valid (`None`: not recorded, treated as always).
    pub valid_from: Option<NaiveDate>,
    /// First day it was no longer valid (exclusive; `None`: still valid).
    pub valid_to: Option<NaiveDate>,
    /// The code that replaced it, if any.
    pub successor: Option<DivisionCode>,
}

impl DivisionInfo {
    /// Whether this row is in force on `date`.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_to.is_none_or(|t| date < t)
    }
}

/// A problem in the embedded data files; a programming error caught by unit tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// A row that cannot be parsed.
    #[error("{file} line {line}: {reason}")]
    BadRow {
        /// File name.
        file: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug)]
struct Table {
    /// Sorted by (code, valid_from).
    rows: Vec<DivisionInfo>,
    /// Prefixes (2 or 4 digits) whose child lists are complete across revisions.
    complete: BTreeSet<String>,
}

static TABLE: LazyLock<Result<Table, TableError>> = LazyLock::new(load_table);

fn table() -> Option<&'static Table> {
    TABLE.as_ref().ok()
}

/// Checks the embedded data files; `Ok` is asserted by a unit test.
pub fn table_status() -> Result<usize, TableError> {
    match &*TABLE {
        Ok(t) => Ok(t.rows.len()),
        Err(e) => Err(e.clone()),
    }
}

fn parse_date(field: &str) -> Result<Option<NaiveDate>, String> {
    if field.is_empty() {
        return Ok(None);
    }
    if field.len() == 4 {
        let year: i32 = field.parse().map_err(|_| format!("bad year {field:?}"))?;
        return NaiveDate::from_ymd_opt(year, 1, 1)
            .map(Some)
            .ok_or_else(|| format!("bad year {field:?}"));
    }
    NaiveDate::parse_from_str(field, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("bad date {field:?}"))
}

fn opt_code(field: &str) -> Result<Option<DivisionCode>, String> {
    if field.is_empty() {
        Ok(None)
    } else {
        DivisionCode::parse(field)
            .map(Some)
            .map_err(|e| format!("{field:?}: {e}"))
    }
}

fn level_name(field: &str) -> Result<DivisionLevel, String> {
    match field {
        "province" => Ok(DivisionLevel::Province),
        "prefecture" => Ok(DivisionLevel::Prefecture),
        "county" => Ok(DivisionLevel::County),
        other => Err(format!("unknown level {other:?}")),
    }
}

fn parse_row(line: &'static str) -> Result<DivisionInfo, String> {
    let cols: Vec<&'static str> = line.split('\t').collect();
    let [code, name, level, parent, from, to, successor] = cols.as_slice() else {
        return Err(format!(
            "expected 7 tab-separated columns, found {}",
            cols.len()
        ));
    };
    let code = DivisionCode::parse(code).map_err(|e| format!("{code:?}: {e}"))?;
    let level = level_name(level)?;
    if level != code.level() {
        return Err(format!(
            "level {level:?} does not match the zero pattern of {code}"
        ));
    }
    if name.is_empty() {
        return Err("empty name".to_owned());
    }
    let info = DivisionInfo {
        code,
        name,
        level,
        parent: opt_code(parent)?,
        valid_from: parse_date(from)?,
        valid_to: parse_date(to)?,
        successor: opt_code(successor)?,
    };
    if info.parent != code.structural_parent() {
        return Err(format!(
            "parent of {code} must be {:?}",
            code.structural_parent()
        ));
    }
    if let (Some(f), Some(t)) = (info.valid_from, info.valid_to) {
        if f >= t {
            return Err("valid_from is not before valid_to".to_owned());
        }
    }
    if info.successor.is_some() && info.valid_to.is_none() {
        return Err("a successor needs a valid_to".to_owned());
    }
    Ok(info)
}

fn data_lines(text: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn load_table() -> Result<Table, TableError> {
    let bad = |file, line, reason| TableError::BadRow { file, line, reason };
    let mut rows = Vec::new();
    for (n, line) in data_lines(TABLE_TSV) {
        if line.starts_with("code\t") {
            continue;
        }
        rows.push(parse_row(line).map_err(|r| bad("gb2260.tsv", n, r))?);
    }
    rows.sort_by_key(|r| (r.code, r.valid_from));
    let mut complete = BTreeSet::new();
    for (n, line) in data_lines(COMPLETE_TSV) {
        let prefix = line.split('\t').next().unwrap_or_default();
        if prefix == "prefix" {
            continue;
        }
        if !matches!(prefix.len(), 2 | 4) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "gb2260-complete.tsv",
                n,
                format!("bad prefix {prefix:?}"),
            ));
        }
        complete.insert(prefix.to_owned());
    }
    Ok(Table { rows, complete })
}

impl Table {
    fn history(&self, code: DivisionCode) -> &[DivisionInfo] {
        let start = self.rows.partition_point(|r| r.code < code);
        let end = self.rows.partition_point(|r| r.code <= code);
        self.rows.get(start..end).unwrap_or(&[])
    }
}

/// The most recent row for `code` in any revision (the current one if it is still valid).
pub fn division_info(code: DivisionCode) -> Option<&'static DivisionInfo> {
    let hist = division_history(code);
    hist.iter().find(|r| r.valid_to.is_none()).or(hist.last())
}

/// Every row for `code`, oldest first (a renamed code has several).
pub fn division_history(code: DivisionCode) -> &'static [DivisionInfo] {
    table().map(|t| t.history(code)).unwrap_or(&[])
}

impl DivisionCode {
    /// `100000`, used by central-level registration authorities in USCC positions 3–8.
    pub const CENTRAL: DivisionCode = DivisionCode(*b"100000");

    /// Parses a code after [`normalize_code`]: 6 ASCII digits, province part not `00`.
    /// Does not consult the table; see [`DivisionCode::status`].
    pub fn parse(input: &str) -> Result<DivisionCode, DivisionError> {
        let norm = normalize_code(input);
        if norm.is_empty() {
            return Err(DivisionError::Empty);
        }
        let count = norm.chars().count();
        if count != 6 {
            return Err(DivisionError::Length { found: count });
        }
        if let Some((i, c)) = norm.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(DivisionError::NotDigits {
                position: i + 1,
                character: c,
            });
        }
        let mut b = [0u8; 6];
        b.copy_from_slice(norm.as_bytes());
        Self::from_digits(b).ok_or(DivisionError::InvalidPattern { code: norm })
    }

    /// Like [`DivisionCode::parse`] but also requires the code to be in the table.
    pub fn parse_known(input: &str) -> Result<DivisionCode, DivisionError> {
        let code = Self::parse(input)?;
        if code.is_known() {
            Ok(code)
        } else {
            Err(DivisionError::Unknown {
                code: code.to_string(),
            })
        }
    }

    /// Builds a code from 6 ASCII digits already checked by the caller.
    pub(crate) fn from_digits(b: [u8; 6]) -> Option<DivisionCode> {
        (b.iter().all(u8::is_ascii_digit) && &b[..2] != b"00").then_some(DivisionCode(b))
    }

    /// The 6 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn pair(&self, i: usize) -> &[u8] {
        self.0.get(i..i + 2).unwrap_or(b"00")
    }

    /// Level by zero pattern.
    pub fn level(&self) -> DivisionLevel {
        if *self == Self::CENTRAL {
            DivisionLevel::National
        } else if self.pair(4) != b"00" {
            DivisionLevel::County
        } else if self.pair(2) != b"00" {
            DivisionLevel::Prefecture
        } else {
            DivisionLevel::Province
        }
    }

    fn with_zeros_from(&self, i: usize) -> DivisionCode {
        let mut b = self.0;
        for x in b.iter_mut().skip(i) {
            *x = b'0';
        }
        DivisionCode(b)
    }

    /// Whether positions 3–4 are `90` (省直辖县级行政区划: counties under the province).
    pub fn is_directly_administered(&self) -> bool {
        self.pair(2) == b"90"
    }

    /// The province `xx0000` (`None` for the central `100000`).
    pub fn province(&self) -> Option<DivisionCode> {
        (self.level() != DivisionLevel::National).then(|| self.with_zeros_from(2))
    }

    /// The prefecture `xxyy00` this code lies in, or itself if it is one. `None` for
    /// provinces, for `xx90xx` directly-administered counties (their parent is the
    /// province, `xx9000` is only a grouping row) and for `xx00zz` counties.
    pub fn prefecture(&self) -> Option<DivisionCode> {
        match self.level() {
            DivisionLevel::National | DivisionLevel::Province => None,
            DivisionLevel::Prefecture | DivisionLevel::County => (!self.is_directly_administered()
                && self.pair(2) != b"00")
                .then(|| self.with_zeros_from(4)),
        }
    }

    /// The parent a table row must name: province for prefectures, prefecture for counties,
    /// `xx9000` for directly-administered counties, the province for `xx00zz` counties.
    fn structural_parent(&self) -> Option<DivisionCode> {
        match self.level() {
            DivisionLevel::National | DivisionLevel::Province => None,
            DivisionLevel::Prefecture => self.province(),
            DivisionLevel::County if self.pair(2) == b"00" => self.province(),
            DivisionLevel::County => Some(self.with_zeros_from(4)),
        }
    }

    /// The table row (current or most recent).
    pub fn info(&self) -> Option<&'static DivisionInfo> {
        division_info(*self)
    }

    /// Present in any revision of the loaded table.
    pub fn is_known(&self) -> bool {
        !division_history(*self).is_empty()
    }

    /// Some row of this code is valid on `date`.
    pub fn is_current_on(&self, date: NaiveDate) -> bool {
        division_history(*self).iter().any(|r| r.is_valid_on(date))
    }

    /// Follows the successor chain to the code in force today (itself if it has none).
    /// Bounded, so a cycle in the data cannot hang a caller.
    pub fn current_successor(&self) -> DivisionCode {
        let mut code = *self;
        for _ in 0..16 {
            match division_info(code).and_then(|i| i.successor) {
                Some(next) if next != code => code = next,
                _ => break,
            }
        }
        code
    }

    /// Whether the loaded table can vouch for this code (see the module docs).
    pub fn status(&self) -> DivisionStatus {
        if self.is_known() {
            return DivisionStatus::Known;
        }
        let Some(t) = table() else {
            return DivisionStatus::NotCovered;
        };
        let prov = self.with_zeros_from(2);
        if self.level() == DivisionLevel::National || t.history(prov).is_empty() {
            return DivisionStatus::Unknown;
        }
        let pp = self.pair(2);
        // Positions 3–4: 01–70 prefectures/地区/州/盟, 90 directly administered, 00 only
        // for early county codes under a province (Hainan 1988–); 71–89 and 91–99 unused.
        let pp_num = pp.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
        if (71..=89).contains(&pp_num) || pp_num >= 91 {
            return DivisionStatus::Unknown;
        }
        let prov_prefix = prov.as_str().get(..2).unwrap_or_default();
        let pref_prefix = self.as_str().get(..4).unwrap_or_default();
        let covered = match self.level() {
            DivisionLevel::National => true,
            DivisionLevel::Province => true,
            DivisionLevel::Prefecture => t.complete.contains(prov_prefix),
            DivisionLevel::County if pp == b"00" => t.complete.contains(prov_prefix),
            DivisionLevel::County => {
                let pref = self.with_zeros_from(4);
                if t.history(pref).is_empty() {
                    t.complete.contains(prov_prefix)
                } else {
                    t.complete.contains(pref_prefix)
                }
            }
        };
        if covered {
            DivisionStatus::Unknown
        } else {
            DivisionStatus::NotCovered
        }
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DivisionCode({})", self.as_str())
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = DivisionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for DivisionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The part of the country a node is responsible for (credit-data.md §3.2): a county node
/// owns its code exactly, a city node its 4-digit prefix, a province its 2-digit prefix,
/// the national node everything. Historical codes are mapped to their current successor
/// before the prefix test, so `422327` (阳新县 before 1996) belongs to 黄石 `4202`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// Everything (the national node, or a central-level `100000` authority).
    National,
    /// A province: 2-digit prefix.
    Province(DivisionCode),
    /// A prefecture: 4-digit prefix.
    Prefecture(DivisionCode),
    /// A county: the exact code.
    County(DivisionCode),
}

impl Jurisdiction {
    /// The national jurisdiction.
    pub fn national() -> Jurisdiction {
        Jurisdiction::National
    }

    /// The jurisdiction of a node whose own code is `code` (mapped to its current successor
    /// first, so a node configured with an old code still owns its area).
    pub fn of(code: DivisionCode) -> Jurisdiction {
        let code = code.current_successor();
        match code.level() {
            DivisionLevel::National => Jurisdiction::National,
            DivisionLevel::Province => Jurisdiction::Province(code),
            DivisionLevel::Prefecture => Jurisdiction::Prefecture(code),
            DivisionLevel::County => Jurisdiction::County(code),
        }
    }

    /// The significant prefix: `""`, `"42"`, `"4202"` or `"420281"`.
    pub fn prefix(&self) -> &str {
        match self {
            Jurisdiction::National => "",
            Jurisdiction::Province(c) => c.as_str().get(..2).unwrap_or_default(),
            Jurisdiction::Prefecture(c) => c.as_str().get(..4).unwrap_or_default(),
            Jurisdiction::County(c) => c.as_str(),
        }
    }

    /// Whether a record registered under `code` belongs to this jurisdiction. `xx90xx`
    /// counties fall under their province only, since no prefecture has the prefix `xx90`
    /// (a `Prefecture(xx9000)` jurisdiction is only the grouping of those counties).
    pub fn contains(&self, code: DivisionCode) -> bool {
        let current = code.current_successor();
        if current == DivisionCode::CENTRAL {
            return matches!(self, Jurisdiction::National);
        }
        current.as_str().starts_with(self.prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_is_well_formed() {
        let rows = table_status();
        assert!(rows.is_ok(), "{rows:?}");
        let t = table().unwrap();
        let provinces = t
            .rows
            .iter()
            .filter(|r| r.level == DivisionLevel::Province)
            .count();
        assert_eq!(provinces, 34);
        for r in &t.rows {
            if let Some(p) = r.parent {
                assert!(
                    !division_history(p).is_empty(),
                    "parent of {} missing",
                    r.code
                );
            }
            if let Some(s) = r.successor {
                assert!(
                    !division_history(s).is_empty(),
                    "successor of {} missing",
                    r.code
                );
            }
        }
        // Rows of one code must not overlap in time.
        for w in t.rows.windows(2) {
            if w[0].code == w[1].code {
                assert!(w[0].valid_to.is_some() && w[0].valid_to <= w[1].valid_from);
            }
        }
    }

    #[test]
    fn bad_rows_are_rejected() {
        assert!(parse_row("420281\t大冶市\tprefecture\t420200\t\t\t").is_err());
        assert!(parse_row("420281\t大冶市\tcounty\t420000\t\t\t").is_err());
        assert!(parse_row("420281\t大冶市\tcounty\t420200\t1994").is_err());
        assert!(parse_row("420281\t大冶市\tcounty\t420200\tx\t\t").is_err());
        assert!(parse_row("420221\t大冶县\tcounty\t420200\t\t\t420281").is_err());
        assert!(parse_row("420281\t大冶市\tcounty\t420200\t1994\t\t").is_ok());
    }
}
