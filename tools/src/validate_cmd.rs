//! `credx validate FILE`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::dates::{parse_date_arg, today_cst};
use clap::{Args, ValueEnum};
use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::record::raw::{parse_json_records, RawError};
use credx_protocol::record::RawRecord;
use credx_protocol::validate::{validate_batch, Finding, ValidationContext};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per finding plus a summary line.
    Text,
    /// One JSON document (summary and findings).
    Json,
}

/// Input syntax; `auto` decides by extension, then by the first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputKind {
    /// By extension (.csv / .json / .jsonl / .ndjson), else by content.
    Auto,
    /// JSON array, object or JSON Lines.
    Json,
    /// CSV with the standard column codes as header row.
    Csv,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// File to validate.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Input syntax.
    #[arg(long, value_enum, default_value_t = InputKind::Auto)]
    pub input: InputKind,
    /// Validate as of this date (YYYY-MM-DD) instead of today's date in China Standard Time.
    #[arg(long)]
    pub today: Option<String>,
    /// Division code of the submitting node (e.g. 420200); authority codes outside it are flagged (E6).
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// Publication date (YYYY-MM-DD) for the 7-working-day timeliness check (W1).
    #[arg(long)]
    pub published_on: Option<String>,
}

/// Runs the command and maps the outcome to the exit code.
pub fn run(args: &ValidateArgs) -> ExitCode {
    match run_inner(args) {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("credx validate: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Returns whether some record was rejected.
fn run_inner(args: &ValidateArgs) -> Result<bool> {
    let today = match &args.today {
        Some(t) => parse_date_arg("--today", t)?,
        None => today_cst()?,
    };
    let mut ctx = ValidationContext::new(today.date());
    if let Some(j) = &args.jurisdiction {
        let code = DivisionCode::parse(j).with_context(|| {
            format!("--jurisdiction {j}: expected a 6-digit GB/T 2260 code such as 420200")
        })?;
        ctx.submitting_jurisdiction = Some(Jurisdiction::of(code));
    }
    if let Some(p) = &args.published_on {
        ctx.publication_date = Some(parse_date_arg("--published-on", p)?.date());
    }

    let items = read_records(&args.file, args.input)?;
    let results = validate_batch(&items, &ctx);

    let findings: Vec<&Finding> = results.iter().flat_map(|v| v.findings.iter()).collect();
    let rejected = results.iter().filter(|v| v.is_rejected()).count();
    let accepted = results.len() - rejected;
    let warnings = findings.iter().filter(|f| !f.is_reject()).count();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Text => {
            for f in &findings {
                writeln!(out, "{f}")?;
            }
            writeln!(
                out,
                "{} records: {accepted} accepted, {rejected} rejected, {warnings} warnings",
                results.len()
            )?;
        }
        Format::Json => {
            let doc = serde_json::json!({
                "file": args.file.display().to_string(),
                "today": today.to_string(),
                "records": results.len(),
                "accepted": accepted,
                "rejected": rejected,
                "warnings": warnings,
                "findings": findings,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    Ok(rejected > 0)
}

fn read_records(path: &Path, kind: InputKind) -> Result<Vec<Result<RawRecord, RawError>>> {
    let name = path.display();
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read {name}; check the path and permissions"))?;
    let kind = match kind {
        InputKind::Auto => detect(path, &bytes),
        k => k,
    };
    match kind {
        InputKind::Csv => read_csv(&name.to_string(), &bytes),
        _ => parse_json_records(&bytes).map_err(|e| anyhow::anyhow!("{name}: {e}")),
    }
}

fn detect(path: &Path, bytes: &[u8]) -> InputKind {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => InputKind::Csv,
        Some("json" | "jsonl" | "ndjson") => InputKind::Json,
        _ => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[' | b'{') => InputKind::Json,
                _ => InputKind::Csv,
            }
        }
    }
}

/// CSV: UTF-8 (optional BOM), header row of standard column codes, one record per row.
fn read_csv(name: &str, bytes: &[u8]) -> Result<Vec<Result<RawRecord, RawError>>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let headers = reader
        .headers()
        .with_context(|| format!("{name}: cannot read the CSV header row; the file must be UTF-8 with standard column codes (XK_…/CF_…) in the first row"))?
        .clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        bail!("{name}: the CSV header row is empty; put the standard column codes (XK_…/CF_…) in the first row");
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow::anyhow!("{name}: line {line} (record {}): {e}; each row must be UTF-8 and have as many cells as the header", i + 1)
        })?;
        out.push(RawRecord::from_fields(headers.iter().zip(row.iter())));
    }
    Ok(out)
}
