//! Findings: what validation reports about a record.

use std::fmt;

use serde::Serialize;

use crate::record::fields;

/// The rule a finding comes from (credit-data.md §4.5). `E*` rules reject by default,
/// `W*` rules only warn; a few E-rule conditions are downgraded to warnings where §4.5 says
/// so (allow-listed codes, unit mix-up suspicion, authority outside the jurisdiction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Rule {
    /// Required fields present per subject category.
    E1,
    /// Identifiers pass their checks (USCC GB 32100/GB 11714, resident ID GB 11643).
    E2,
    /// Dates parse and are in order; decision date not in the future.
    E3,
    /// Enumerations, field lengths and known column codes.
    E4,
    /// Amounts: conditional presence, sign, precision, range, unit.
    E5,
    /// Authority and source-unit codes are valid USCCs inside the jurisdiction.
    E6,
    /// Status 无效 needs a reason.
    E7,
    /// Reported more than 7 working days after the decision.
    W1,
    /// Business key seen before: the record is an amendment.
    W2,
    /// Personal data: ID number not for public display; minors not published.
    W3,
}

impl Rule {
    /// All rules in order.
    pub const ALL: [Rule; 10] = [
        Rule::E1,
        Rule::E2,
        Rule::E3,
        Rule::E4,
        Rule::E5,
        Rule::E6,
        Rule::E7,
        Rule::W1,
        Rule::W2,
        Rule::W3,
    ];

    /// One-line description.
    pub fn description(self) -> &'static str {
        match self {
            Rule::E1 => "required fields present per subject category",
            Rule::E2 => "USCC and personal ID numbers pass their check algorithms",
            Rule::E3 => "dates parse, are ordered, and the decision date is not in the future",
            Rule::E4 => "enumerated values, field lengths and column codes are valid",
            Rule::E5 => "amounts are present when the penalty kind needs them, exact to 6 decimals of 万元, below 10^12",
            Rule::E6 => "authority and source-unit codes are valid USCCs within the submitting jurisdiction",
            Rule::E7 => "status 无效 (revoked/changed) carries a reason",
            Rule::W1 => "published within 7 working days of the decision",
            Rule::W2 => "business key already known: treated as an amendment",
            Rule::W3 => "natural person: ID number not for public display; minors are not published",
        }
    }

    /// The severity findings of this rule have unless downgraded.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::W1 | Rule::W2 | Rule::W3 => Severity::Warn,
            _ => Severity::Reject,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Whether a finding stops the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The record is not accepted.
    Reject,
    /// The record is accepted with a flag.
    Warn,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Reject => "reject",
            Severity::Warn => "warn",
        })
    }
}

/// One problem found in one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based record number within the file or batch; 0 when validating a single record.
    pub record: usize,
    /// Standard column code, when the finding concerns one column.
    pub field: Option<String>,
    /// Chinese column name.
    pub field_name_zh: Option<String>,
    /// Rule.
    pub rule: Rule,
    /// Severity.
    pub severity: Severity,
    /// Human-readable text, starting with `CODE (中文名): ` when a column is concerned.
    pub message: String,
}

impl Finding {
    /// A finding on `field` (a standard column code, or `None`). The message is prefixed with
    /// the column code and its Chinese name.
    pub fn new(
        field: Option<&str>,
        rule: Rule,
        severity: Severity,
        message: impl AsRef<str>,
    ) -> Finding {
        let name = field.and_then(fields::name_zh);
        let message = match (field, name) {
            (Some(f), Some(n)) => format!("{f} ({n}): {}", message.as_ref()),
            (Some(f), None) => format!("{f}: {}", message.as_ref()),
            (None, _) => message.as_ref().to_string(),
        };
        Finding {
            record: 0,
            field: field.map(str::to_string),
            field_name_zh: name.map(str::to_string),
            rule,
            severity,
            message,
        }
    }

    /// Whether this finding rejects the record.
    pub fn is_reject(&self) -> bool {
        self.severity == Severity::Reject
    }
}

impl fmt::Display for Finding {
    /// `record N  FIELD  RULE  severity  message` (FIELD is `-` when none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {}  {}  {}  {}  {}",
            self.record,
            self.field.as_deref().unwrap_or("-"),
            self.rule,
            self.severity,
            self.message
        )
    }
}

/// The outcome of validating one record: the typed record when nothing rejects it, and
/// every finding (validation never stops at the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated<T> {
    /// The typed record; `None` when any finding has severity `Reject`.
    pub record: Option<T>,
    /// All findings, in the order the checks ran.
    pub findings: Vec<Finding>,
}

impl<T> Validated<T> {
    /// Whether some finding rejects the record.
    pub fn is_rejected(&self) -> bool {
        self.findings.iter().any(Finding::is_reject)
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.findings.iter().filter(|f| !f.is_reject()).count()
    }

    /// Converts the record, keeping the findings.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Validated<U> {
        Validated {
            record: self.record.map(f),
            findings: self.findings,
        }
    }

    /// Sets the 1-based record number on every finding.
    pub fn numbered(mut self, record: usize) -> Self {
        for f in &mut self.findings {
            f.record = record;
        }
        self
    }
}
