//! `credx import FILE…`: 双公示 template files (CSV, XLSX) validated locally, uploaded to a
//! node in batches, every finding in a per-row report, resumable through a state file.

mod headers;
mod report;
mod state;
mod table;
mod upload;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::record::{BusinessKey, RawRecord, Record};
use credx_protocol::validate::{raw_error_finding, validate_raw, ValidationContext};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::dates::{parse_date_arg, today_cst};
use crate::node_client::{read_token_file, NodeClient, NodeError};
use headers::{map_headers, HeaderError};
use report::{write_report, FileReport, ReportError, ReportLine};
use state::{ImportState, StateError};
use table::{read_table, TableError};
use upload::{send_batch, OutgoingRow};

/// Most records the node takes in one request.
const MAX_BATCH: u64 = 10_000;

#[derive(Debug, Args)]
#[command(after_long_help = IMPORT_HELP)]
pub struct ImportArgs {
    /// Template files: .csv (UTF-8) or .xlsx (also .xls, .xlsb, .ods), licences (XK_*) or
    /// penalties (CF_*), header row with field codes or the Chinese column names.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The node's HTTP address (its listen_http), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", required_unless_present = "dry_run")]
    pub node: Option<String>,
    /// File holding the department token (credx_…) the node operator issued.
    #[arg(long, value_name = "FILE", required_unless_present = "dry_run")]
    pub token_file: Option<PathBuf>,
    /// Where to write the per-row report (CSV: file, row, field, rule, severity, source,
    /// message). The state file goes next to it (REPORT with extension .state.json).
    #[arg(long, value_name = "FILE", default_value = "credx-import-errors.csv")]
    pub report: PathBuf,
    /// The state file, instead of the one next to the report.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Rows per request (1..=10000).
    #[arg(long, value_name = "ROWS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=MAX_BATCH))]
    pub batch: u64,
    /// Sheet of a spreadsheet to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Only validate locally and write the report; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Validate as of this date (YYYY-MM-DD) instead of today in China Standard Time.
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// The node's division code (e.g. 440106): authorities outside it are flagged locally
    /// (E6), as the node will.
    #[arg(long, value_name = "CODE")]
    pub jurisdiction: Option<String>,
    /// No progress bar (it is never drawn when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

const IMPORT_HELP: &str = "\
Examples:
  credx import penalties.xlsx licences.csv --node http://127.0.0.1:8080 \\
      --token-file dept.token --report errors.csv
  credx import penalties.csv --dry-run --report errors.csv   # validate only

What happens:
  1. Each file is read (header row: field codes such as CF_WSH, or the Chinese column
     names such as 行政处罚决定书文号) and every row is validated locally with the same
     rules as the node (E1-E7 reject, W1-W3 warn). Rejected rows are not sent.
  2. The other rows go to the node in batches (--batch, at most 10000 per request). The
     node judges each row again; what it rejects (and its warnings) goes to the report.
  3. After each answered batch the state file (errors.state.json next to errors.csv)
     records the file's SHA-256 and the rows sent. A re-run with the same report path
     sends only rows not recorded there, so after a crash, Ctrl-C or a refused token,
     run the same command again.
  Re-sending a row is harmless: the node treats a record whose business key (authority
  code + document number [+ licence number]) it already holds as an amendment, a new
  version of the same record (W2 warning), never a duplicate. A corrected file is a new
  file (new digest): import just the corrected rows, or the whole file (the rows stored
  before then become amendments).

Exit codes: 0 every row stored; 1 some row rejected (see the report); 2 a file, the
node or the state could not be used (nothing recorded as done that was not done).";

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
enum ImportError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{file}: {source}")]
    Header {
        file: String,
        #[source]
        source: HeaderError,
    },
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{0}")]
    Option(String),
}

/// A row after local validation.
#[derive(Debug)]
struct CheckedRow {
    number: u64,
    fields: BTreeMap<String, String>,
    local: Vec<ReportLine>,
    rejected: bool,
}

/// A file after reading and local validation.
#[derive(Debug)]
struct CheckedFile {
    name: String,
    digest: String,
    rows: Vec<CheckedRow>,
}

/// Counts for the summary.
#[derive(Debug, Default)]
struct Totals {
    rows: usize,
    stored: usize,
    amended: usize,
    rejected_local: usize,
    rejected_node: usize,
    warnings: usize,
    sent_now: usize,
    done_before: usize,
    unsent: usize,
}

pub fn run(args: &ImportArgs) -> ExitCode {
    let started = Instant::now();
    match run_inner(args, started) {
        Ok(totals) if totals.rejected_local + totals.rejected_node > 0 => ExitCode::from(1),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("credx import: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &ImportArgs, started: Instant) -> Result<Totals, ImportError> {
    let ctx_today = match &args.today {
        Some(t) => parse_date_arg("--today", t),
        None => today_cst(),
    }
    .map_err(|e| ImportError::Option(format!("{e:#}")))?
    .date();
    let mut ctx = ValidationContext::new(ctx_today);
    ctx.publication_date = Some(ctx_today);
    if let Some(j) = &args.jurisdiction {
        let code = DivisionCode::parse(j).map_err(|_| {
            ImportError::Option(format!(
                "--jurisdiction {j}: expected a 6-digit GB/T 2260 code such as 440106"
            ))
        })?;
        ctx.submitting_jurisdiction = Some(Jurisdiction::of(code));
    }

    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        files.push(check_file(path, args.sheet.as_deref(), &ctx)?);
    }

    if args.dry_run {
        let totals = finish(args, &files, None, 0, started)?;
        return Ok(totals);
    }
    let (Some(node), Some(token_file)) = (&args.node, &args.token_file) else {
        return Err(ImportError::Option(
            "give --node URL and --token-file FILE, or --dry-run".to_owned(),
        ));
    };
    let token = read_token_file(token_file)?;
    let client = NodeClient::new(node, Some(token))?;
    let state_path = args
        .state
        .clone()
        .unwrap_or_else(|| state_path(&args.report));
    let mut state = ImportState::load_or_new(&state_path, client.base())?;
    let done_before = files
        .iter()
        .map(|f| {
            f.rows
                .iter()
                .filter(|r| state.is_done(&f.digest, r.number))
                .count()
        })
        .sum();

    let pending: usize = files.iter().map(|f| pending_rows(f, &state).count()).sum();
    let progress = progress_bar(pending, args.no_progress);
    let mut failure = None;
    'files: for file in &files {
        let rows: Vec<OutgoingRow<'_>> = pending_rows(file, &state)
            .map(|r| OutgoingRow {
                number: r.number,
                fields: &r.fields,
            })
            .collect();
        let batch_rows = usize::try_from(args.batch).unwrap_or(10_000);
        let by_number: HashMap<u64, &CheckedRow> =
            file.rows.iter().map(|r| (r.number, r)).collect();
        for chunk in rows.chunks(batch_rows) {
            progress.set_message(file.name.clone());
            match send_batch(&client, chunk, &|notice| progress.println(notice)) {
                Ok(mut done) => {
                    keep_news(&mut done.findings, &by_number);
                    state.add(&file.digest, &file.name, done);
                    if let Err(e) = state.save(&state_path) {
                        failure = Some(ImportError::State(e));
                        break 'files;
                    }
                    progress.inc(chunk.len() as u64);
                }
                Err(e) => {
                    failure = Some(ImportError::Node(e));
                    break 'files;
                }
            }
        }
    }
    progress.finish_and_clear();
    let totals = finish(args, &files, Some(&state), done_before, started)?;
    match failure {
        Some(e) => {
            eprintln!(
                "credx import: {} rows were not sent; the state file {} records what the node answered, so run the same command again once the problem below is fixed",
                totals.unsent,
                state_path.display()
            );
            Err(e)
        }
        None => Ok(totals),
    }
}

/// Keeps the node's findings that local validation did not already make for the same row
/// (same rule and field): the node applies the same rules, so what remains is what only
/// the node can tell — SCOPE, amendments of keys it holds (W2), its jurisdiction (E6).
/// The report shows the local findings of every row, so nothing is lost, and the state
/// file stays small (no copy of a warning per row).
fn keep_news(findings: &mut Vec<ReportLine>, local: &HashMap<u64, &CheckedRow>) {
    findings.retain(|f| {
        local.get(&f.row).is_none_or(|row| {
            !row.local
                .iter()
                .any(|l| l.rule == f.rule && l.field == f.field)
        })
    });
}

/// Rows of `file` that passed local validation and were not sent before.
fn pending_rows<'f, 's>(
    file: &'f CheckedFile,
    state: &'s ImportState,
) -> impl Iterator<Item = &'f CheckedRow> + use<'f, 's> {
    file.rows
        .iter()
        .filter(move |r| !r.rejected && !state.is_done(&file.digest, r.number))
}

fn state_path(report: &Path) -> PathBuf {
    report.with_extension("state.json")
}

fn progress_bar(rows: usize, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} rows  {per_sec:>12}  ETA {eta}  {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Reads, maps and validates one file.
fn check_file(
    path: &Path,
    sheet: Option<&str>,
    ctx: &ValidationContext<'_>,
) -> Result<CheckedFile, ImportError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| TableError::Read {
        path: path.to_owned(),
        source,
    })?;
    let digest = hex::encode(Sha256::digest(&bytes));
    let table = read_table(path, &bytes, sheet)?;
    drop(bytes);
    let map = map_headers(&table.headers).map_err(|source| ImportError::Header {
        file: name.clone(),
        source,
    })?;
    if !map.unknown.is_empty() {
        eprintln!(
            "credx import: {name}: columns {} are not template columns and are not sent",
            map.unknown.join(", ")
        );
    }
    // Row by row, keeping only what the import needs (columns to send, findings): the
    // typed record is dropped at once, so memory stays near the size of the file's text.
    // Keys seen earlier in the file make later rows amendments (W2), as `validate_batch`
    // does.
    let mut seen: HashSet<BusinessKey> = HashSet::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in table.rows {
        let item = RawRecord::from_fields(
            map.codes
                .iter()
                .zip(row.cells.iter())
                .filter_map(|(code, cell)| code.as_ref().map(|c| (c, cell))),
        );
        let findings = match &item {
            Ok(raw) => {
                let judged = validate_raw(raw, &ctx.with_known_business_keys(&seen));
                if let Some(key) = judged.record.as_ref().and_then(Record::business_key) {
                    seen.insert(key);
                }
                judged.findings
            }
            Err(e) => vec![raw_error_finding(e)],
        };
        rows.push(CheckedRow {
            number: row.number,
            fields: item.map(|r| r.fields).unwrap_or_default(),
            local: findings
                .iter()
                .map(|f| ReportLine::local(row.number, f))
                .collect(),
            rejected: findings.iter().any(|f| f.is_reject()),
        });
    }
    Ok(CheckedFile { name, digest, rows })
}

/// Writes the report and prints the summary.
fn finish(
    args: &ImportArgs,
    files: &[CheckedFile],
    state: Option<&ImportState>,
    done_before: usize,
    started: Instant,
) -> Result<Totals, ImportError> {
    let mut totals = Totals {
        done_before,
        ..Totals::default()
    };
    let mut reports = Vec::with_capacity(files.len());
    for file in files {
        let batches = state.map_or(&[][..], |s| s.batches(&file.digest));
        let mut lines: Vec<ReportLine> = Vec::new();
        for batch in batches {
            totals.stored += batch.accepted;
            totals.amended += batch.amended;
            totals.rejected_node += batch.rejected;
            lines.extend(batch.findings.iter().cloned());
        }
        for row in &file.rows {
            totals.rows += 1;
            lines.extend(row.local.iter().cloned());
            if state.is_some_and(|s| s.is_done(&file.digest, row.number)) {
                continue;
            }
            if row.rejected {
                totals.rejected_local += 1;
            } else if state.is_some() {
                totals.unsent += 1;
            }
        }
        totals.warnings += lines.iter().filter(|l| !l.is_reject()).count();
        reports.push(FileReport {
            file: file.name.clone(),
            lines,
        });
    }
    totals.sent_now = totals
        .stored
        .saturating_add(totals.rejected_node)
        .saturating_sub(done_before);
    write_report(&args.report, &reports)?;
    print_summary(args, &totals, started);
    Ok(totals)
}

fn print_summary(args: &ImportArgs, t: &Totals, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        t.sent_now as f64 / secs
    } else {
        0.0
    };
    let rejected = t.rejected_local + t.rejected_node;
    if args.dry_run {
        println!(
            "credx import (dry run): {} rows in {}: {} would be sent, {} rejected locally, {} warnings; report: {}",
            t.rows,
            files_text(args.files.len()),
            t.rows - t.rejected_local,
            t.rejected_local,
            t.warnings,
            args.report.display()
        );
        return;
    }
    println!(
        "credx import: {} rows in {}: {} stored ({} amendments), {rejected} rejected ({} locally, {} by the node), {} warnings",
        t.rows,
        files_text(args.files.len()),
        t.stored,
        t.amended,
        t.rejected_local,
        t.rejected_node,
        t.warnings
    );
    println!(
        "  sent now: {} rows in {secs:.1} s ({rate:.0} rows/s); sent by earlier runs: {} rows (state file)",
        t.sent_now, t.done_before
    );
    println!("  report: {}", args.report.display());
    if rejected > 0 {
        println!(
            "next: fix the rejected rows (the report names file, row, field and rule) and import them again, e.g. as a file of just those rows"
        );
    }
}

fn files_text(n: usize) -> String {
    if n == 1 {
        "1 file".to_owned()
    } else {
        format!("{n} files")
    }
}
