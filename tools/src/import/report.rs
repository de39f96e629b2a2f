//! The per-row error report: one CSV line per finding, local or from the node, so a
//! department can fix its file row by row. UTF-8 with a BOM, so spreadsheet programs show
//! the Chinese column names.

use std::path::{Path, PathBuf};

use credx_protocol::validate::Finding;
use serde::{Deserialize, Serialize};

/// Report columns, in order.
pub const REPORT_HEADER: [&str; 8] = [
    "file",
    "row",
    "field",
    "field_name_zh",
    "rule",
    "severity",
    "source",
    "message",
];

/// One finding about one row of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    pub row: u64,
    pub field: Option<String>,
    pub field_name_zh: Option<String>,
    /// E1–E7, W1–W3, SCOPE (the token may not submit for the authority), or HEADER.
    pub rule: String,
    /// `reject` or `warn`.
    pub severity: String,
    /// `local` (credx validated the row before sending) or `node` (the node's answer).
    pub source: String,
    pub message: String,
}

impl ReportLine {
    /// A finding of local validation.
    pub fn local(row: u64, f: &Finding) -> ReportLine {
        ReportLine {
            row,
            field: f.field.clone(),
            field_name_zh: f.field_name_zh.clone(),
            rule: f.rule.to_string(),
            severity: f.severity.to_string(),
            source: "local".to_owned(),
            message: f.message.clone(),
        }
    }

    pub fn is_reject(&self) -> bool {
        self.severity == "reject"
    }
}

/// The report of one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub file: String,
    pub lines: Vec<ReportLine>,
}

/// Writes the report (replacing an older one: each run reports every row's current state).
pub fn write_report(path: &Path, files: &[FileReport]) -> Result<(), ReportError> {
    let error = |source: std::io::Error| ReportError {
        path: path.to_owned(),
        source,
    };
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut bytes);
        let csv_error = |e: csv::Error| error(std::io::Error::other(e));
        writer.write_record(REPORT_HEADER).map_err(csv_error)?;
        for file in files {
            let mut lines: Vec<&ReportLine> = file.lines.iter().collect();
            lines.sort_by_key(|l| l.row);
            for l in lines {
                writer
                    .write_record([
                        file.file.as_str(),
                        &l.row.to_string(),
                        l.field.as_deref().unwrap_or(""),
                        l.field_name_zh.as_deref().unwrap_or(""),
                        &l.rule,
                        &l.severity,
                        &l.source,
                        &l.message,
                    ])
                    .map_err(csv_error)?;
            }
        }
        writer.flush().map_err(error)?;
    }
    std::fs::write(path, bytes).map_err(error)
}

/// The report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the error report {path}: {source}; give --report a writable path")]
pub struct ReportError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}
