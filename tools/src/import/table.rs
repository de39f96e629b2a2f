//! Reading a template file into a header row and numbered data rows: CSV (UTF-8, optional
//! BOM) or a spreadsheet (XLSX, and the other formats calamine reads: XLS, XLSB, ODS).
//!
//! Row numbers are what the department sees in its spreadsheet program: the header is row 1
//! of a CSV file (or the first non-empty row of the sheet) and data rows count from there,
//! so the error report points at the row to fix. Blank rows are skipped but keep their
//! numbers.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};

/// A sheet: its header row and its non-blank data rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based row number in the file (the header row is 1 in a CSV file).
    pub number: u64,
    pub cells: Vec<String>,
}

/// Why a file could not be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read {path}: {source}; check the path and permissions")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: row {row}: {message}; save the file as UTF-8 CSV (Excel: “CSV UTF-8”) or as .xlsx"
    )]
    Csv {
        path: PathBuf,
        row: u64,
        message: String,
    },
    #[error(
        "{path} is not a readable spreadsheet ({message}); save it again as .xlsx or as UTF-8 CSV"
    )]
    Spreadsheet { path: PathBuf, message: String },
    #[error(
        "{path} has no sheet named {sheet:?} (sheets: {available}); give --sheet with one of them"
    )]
    NoSuchSheet {
        path: PathBuf,
        sheet: String,
        available: String,
    },
    #[error("{path}: the sheet is empty; the first row must hold the column names")]
    Empty { path: PathBuf },
    #[error("{path}: unknown file type; give a .csv or .xlsx file (also .xls, .xlsb, .ods)")]
    UnknownType { path: PathBuf },
}

/// The kinds of file `credx import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Spreadsheet,
}

impl FileKind {
    /// By extension.
    pub fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(FileKind::Csv),
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Some(FileKind::Spreadsheet),
            _ => None,
        }
    }
}

/// Reads `path` (whose bytes the caller has already read, to digest them).
pub fn read_table(path: &Path, bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    match FileKind::of(path) {
        Some(FileKind::Csv) => read_csv(path, bytes),
        Some(FileKind::Spreadsheet) => read_spreadsheet(path, bytes, sheet),
        None => Err(TableError::UnknownType {
            path: path.to_owned(),
        }),
    }
}

fn read_csv(path: &Path, bytes: &[u8]) -> Result<Table, TableError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let csv_error = |row: u64, e: csv::Error| TableError::Csv {
        path: path.to_owned(),
        row,
        message: e.to_string(),
    };
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(first) => first
            .map_err(|e| csv_error(1, e))?
            .iter()
            .map(str::to_owned)
            .collect(),
        None => {
            return Err(TableError::Empty {
                path: path.to_owned(),
            })
        }
    };
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let number = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2);
        let record = record.map_err(|e| csv_error(number, e))?;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().any(|c| !c.trim().is_empty()) {
            rows.push(Row { number, cells });
        }
    }
    Ok(Table { headers, rows })
}

fn read_spreadsheet(path: &Path, bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    let broken = |message: String| TableError::Spreadsheet {
        path: path.to_owned(),
        message,
    };
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| broken(e.to_string()))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .cloned()
            .ok_or_else(|| TableError::NoSuchSheet {
                path: path.to_owned(),
                sheet: wanted.to_owned(),
                available: names.join(", "),
            })?,
        None => names.first().cloned().ok_or_else(|| TableError::Empty {
            path: path.to_owned(),
        })?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| broken(e.to_string()))?;
    // The range starts at the first used cell; row numbers are the sheet's (1-based).
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row)) + 1;
    let first_col = range.start().map_or(0, |(_, col)| col as usize);
    let mut lines = range.rows().enumerate().map(|(i, cells)| {
        let mut texts = vec![String::new(); first_col];
        texts.extend(cells.iter().map(cell_text));
        (first_row + u64::try_from(i).unwrap_or(u64::MAX), texts)
    });
    let Some((_, headers)) = lines
        .by_ref()
        .find(|(_, c)| c.iter().any(|t| !t.is_empty()))
    else {
        return Err(TableError::Empty {
            path: path.to_owned(),
        });
    };
    let rows = lines
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(number, cells)| Row { number, cells })
        .collect();
    Ok(Table { headers, rows })
}

/// A cell as the text a CSV export would hold: dates as `YYYY-MM-DD`, whole numbers
/// without a decimal point, other numbers in their shortest exact form.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTime(dt) => number_text(dt.as_f64()),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_numbers_and_skip_blank_rows() {
        let text = "\u{feff}CF_WSH,CF_XDR_MC\na,b\n,\nc,d\n";
        let table = read_csv(Path::new("x.csv"), text.as_bytes()).unwrap();
        assert_eq!(table.headers, vec!["CF_WSH", "CF_XDR_MC"]);
        let numbers: Vec<u64> = table.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![2, 4]);
    }

    #[test]
    fn numbers_read_as_a_csv_export_writes_them() {
        assert_eq!(number_text(2.0), "2");
        assert_eq!(number_text(0.2), "0.2");
        assert_eq!(number_text(1.5e-6), "0.0000015");
    }
}
