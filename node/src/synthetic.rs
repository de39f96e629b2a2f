//! Synthetic 双公示 records for tests, benchmarks and the testnet's load generator: real
//! records that pass every validation rule, with identifiers from the reserved `PDY`
//! range of the test data (credit-testdata.txt), so they can never collide with a real
//! organisation's code.
//!
//! A template licence is validated once; each generated record changes the subject and
//! the decision document number, which is all that has to differ between records.

use chrono::NaiveDate;
use credx_protocol::entry::Entry;
use credx_protocol::ident::Uscc;
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::record::Record;
use credx_protocol::validate::{validate_raw, ValidationContext};

/// Distinct synthetic subjects per division (the 5-digit serial of the `PDY` range).
pub const SUBJECTS_PER_DIVISION: u64 = 100_000;

/// Generates licence entries decided by one authority of a division.
#[derive(Debug, Clone)]
pub struct SyntheticLicences {
    origin: String,
    division: String,
    template: Record,
}

/// Why a generator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    #[error("division {0:?} is not six digits")]
    Division(String),
    #[error("template record for division {division} is invalid: {reason}")]
    Template { division: String, reason: String },
}

impl SyntheticLicences {
    /// Licences for the log `origin`, decided by the synthetic authority of `division`
    /// (six digits, e.g. `440106`).
    pub fn new(origin: &str, division: &str) -> Result<SyntheticLicences, SyntheticError> {
        if division.len() != 6 || !division.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SyntheticError::Division(division.to_owned()));
        }
        let authority = synthetic_uscc("11", division, 52)
            .ok_or_else(|| SyntheticError::Division(division.to_owned()))?;
        let subject = synthetic_uscc("91", division, 1)
            .ok_or_else(|| SyntheticError::Division(division.to_owned()))?;
        let json = format!(
            r#"[{{
  "XK_XDR_MC": "示例建材有限公司{division}", "XK_XDR_LB": "法人及非法人组织",
  "XK_XDR_SHXYM": "{subject}", "XK_FRDB": "张示例",
  "XK_XKWS": "准予行政许可决定书", "XK_WSH": "示许字〔2026〕第1号",
  "XK_XKLB": "普通", "XK_XKZS": "示例经营许可证", "XK_XKBH": "SL{division}2026000001",
  "XK_NR": "准予从事建筑材料经营（示例）",
  "XK_JDRQ": "2026-03-02", "XK_YXQZ": "2026-03-02", "XK_YXQZI": "2031-03-01",
  "XK_XKJG": "示例审批局{division}", "XK_XKJGDM": "{authority}",
  "XK_ZT": "1", "XK_LYDW": "示例审批局{division}", "XK_LYDWDM": "{authority}", "BZ": ""
}}]"#
        );
        let template_error = |reason: String| SyntheticError::Template {
            division: division.to_owned(),
            reason,
        };
        let raw = parse_json_records(json.as_bytes())
            .map_err(|e| template_error(e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| template_error("no record".to_owned()))?
            .map_err(|e| template_error(e.to_string()))?;
        let today =
            NaiveDate::from_ymd_opt(2026, 3, 5).ok_or_else(|| template_error("date".to_owned()))?;
        let outcome = validate_raw(&raw, &ValidationContext::new(today));
        let template = outcome
            .record
            .ok_or_else(|| template_error(format!("{:?}", outcome.findings)))?;
        Ok(SyntheticLicences {
            origin: origin.to_owned(),
            division: division.to_owned(),
            template,
        })
    }

    /// The `n`-th record: subject `n mod SUBJECTS_PER_DIVISION`, document number `n`.
    pub fn record(&self, n: u64) -> Record {
        let mut record = self.template.clone();
        if let Record::Licence(licence) = &mut record {
            let serial = n % SUBJECTS_PER_DIVISION;
            licence.uscc = synthetic_uscc("91", &self.division, serial);
            licence.subject_name = format!("示例建材有限公司{}-{serial}", self.division);
            licence.document_no = format!("示许字〔2026〕第{n}号");
        }
        record
    }

    /// The `n`-th record as an encoded entry of this generator's log.
    pub fn entry(&self, n: u64) -> Vec<u8> {
        let entry = Entry::for_record(
            &self.origin,
            "synthetic-load",
            1_780_000_000_000 + n,
            self.record(n),
            None,
        );
        match entry.encode() {
            Ok(encoded) => encoded.into_bytes(),
            // The template is small and validated; encoding cannot exceed the entry limit.
            Err(_) => Vec::new(),
        }
    }

    /// Entries `from..to`.
    pub fn entries(&self, from: u64, to: u64) -> Vec<Vec<u8>> {
        (from..to).map(|n| self.entry(n)).collect()
    }
}

/// A USCC of the reserved test range: `<kind><division>PDY<serial:05>` plus both check
/// characters.
pub fn synthetic_uscc(kind: &str, division: &str, serial: u64) -> Option<String> {
    Uscc::complete(&format!(
        "{kind}{division}PDY{:05}",
        serial % SUBJECTS_PER_DIVISION
    ))
}

/// A black list entry (严重失信主体名单) about `subject` (name, USCC), decided by `unit` on
/// `listed_on` under document `document_no`, in force until `valid_until`, with one
/// measure (exclusion from government procurement).
pub fn black_list(
    subject: (String, String),
    unit: credx_protocol::record::list_entry::Unit,
    document_no: String,
    listed_on: NaiveDate,
    valid_until: NaiveDate,
) -> credx_protocol::record::ListEntry {
    use credx_protocol::record::enums::{CreditSeverity, SubjectCategory};
    use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure};
    use credx_protocol::record::{ListEntry, RecordDate};

    let (name, code) = subject;
    ListEntry {
        kind: ListKind::SeriouslyDishonest,
        subject: ListSubject {
            name,
            category: SubjectCategory::Organisation,
            code,
        },
        determining_unit: unit.clone(),
        basis: "《严重违法失信名单管理办法》第X条（示例）".into(),
        document_no,
        reason: "示例事由".into(),
        listed_on: RecordDate(listed_on),
        valid_until: Some(RecordDate(valid_until)),
        severity: Some(CreditSeverity::Serious),
        status: ListStatus::Active,
        removed_on: None,
        removal_reason: None,
        measures: vec![Measure {
            code: "M02".into(),
            text: "限制参与政府采购（示例）".into(),
            legal_basis: "示例".into(),
        }],
        remedy: "可依法申请信用修复".into(),
        source_unit: unit,
    }
}

/// The `n`-th entry of a black list (严重失信主体名单) decided by the synthetic authority of
/// `division`, in the log `origin`: subject `n mod SUBJECTS_PER_DIVISION` of the division.
pub fn black_list_entry(origin: &str, division: &str, n: u64) -> Option<Vec<u8>> {
    use credx_protocol::record::list_entry::Unit;

    let serial = n % SUBJECTS_PER_DIVISION;
    let unit = Unit {
        name: format!("示例市场监管局{division}"),
        uscc: synthetic_uscc("11", division, 52)?,
    };
    let list = black_list(
        (
            format!("示例建材有限公司{division}-{serial}"),
            synthetic_uscc("91", division, serial)?,
        ),
        unit,
        format!("示认〔2026〕{n}号"),
        NaiveDate::from_ymd_opt(2026, 6, 1)?,
        NaiveDate::from_ymd_opt(2029, 6, 1)?,
    );
    let entry = Entry::for_record(
        origin,
        "synthetic-load",
        1_780_000_000_000 + n,
        Record::ListEntry(list),
        None,
    );
    entry.encode().ok().map(|e| e.into_bytes())
}
