//! Synthetic 双公示 records as a department system would send them: JSON objects with the
//! standard XK_*/CF_* column codes, about companies of the reserved `PDY` test range of
//! the node's division (never a real organisation's code), decided the day before they are
//! sent (reported on time).
//!
//! Three in four records are licences, one in four a penalty; the kinds of licence and
//! penalty, the company names and the amounts vary with the record number. Black-list
//! entries ([`RecordMix::black_list`]) go through the workflow endpoint `POST /v1/lists`,
//! followed by an objection or a repair (`load`).

use chrono::{Duration, NaiveDate};
use credx_node::synthetic::{black_list, synthetic_uscc, SUBJECTS_PER_DIVISION};
use credx_protocol::record::list_entry::Unit;
use serde_json::{json, Value};

use crate::error::TestnetError;

/// Licence kinds: document of approval, certificate, licensed activity.
const LICENCES: &[(&str, &str, &str)] = &[
    (
        "准予行政许可决定书",
        "食品经营许可证",
        "预包装食品（含冷藏冷冻食品）销售（示例）",
    ),
    (
        "准予行政许可决定书",
        "建筑施工企业安全生产许可证",
        "建筑施工（示例）",
    ),
    (
        "准予行政许可决定书",
        "道路运输经营许可证",
        "道路普通货物运输（示例）",
    ),
    (
        "准予行政许可决定书",
        "药品经营许可证",
        "中成药、化学药制剂零售（示例）",
    ),
    ("准予变更行政许可决定书", "排污许可证", "排放污染物（示例）"),
];

/// Penalties: violation, legal basis, kinds, content, fine in 万元.
const PENALTIES: &[(&str, &str, &str, &str, f64)] = &[
    (
        "销售不符合食品安全标准的食品（示例）",
        "《中华人民共和国食品安全法》第一百二十四条（示例）",
        "警告;罚款",
        "警告，并处罚款人民币2万元",
        2.0,
    ),
    (
        "未按规定进行安全生产教育和培训（示例）",
        "《中华人民共和国安全生产法》第九十七条（示例）",
        "罚款",
        "罚款人民币3.5万元",
        3.5,
    ),
    (
        "超标排放大气污染物（示例）",
        "《中华人民共和国大气污染防治法》第九十九条（示例）",
        "罚款",
        "罚款人民币10万元",
        10.0,
    ),
];

/// Trades for company names.
const TRADES: &[&str] = &[
    "建材",
    "食品",
    "物流",
    "医药",
    "环保科技",
    "建筑工程",
    "餐饮管理",
];

/// Records of one division's departments.
#[derive(Debug, Clone)]
pub struct RecordMix {
    division: String,
    place: String,
    licensing: String,
    regulator: String,
    /// Distinguishes the document numbers of one `load` run from every other run's, so a
    /// second run adds records instead of amending the first run's.
    run: String,
    decided: NaiveDate,
}

impl RecordMix {
    /// Records of `division` (named `place`), decided by `licensing` (licences) and
    /// `regulator` (penalties), one day before `today`.
    pub fn new(
        division: &str,
        place: &str,
        licensing: &str,
        regulator: &str,
        run: &str,
        today: NaiveDate,
    ) -> RecordMix {
        RecordMix {
            division: division.to_owned(),
            place: place.to_owned(),
            licensing: licensing.to_owned(),
            regulator: regulator.to_owned(),
            run: run.to_owned(),
            decided: today - Duration::days(1),
        }
    }

    /// Whether record `n` is a penalty (else a licence).
    pub fn is_penalty(n: u64) -> bool {
        n % 4 == 3
    }

    /// The `n`-th record.
    pub fn record(&self, n: u64) -> Result<Value, TestnetError> {
        let serial = n % SUBJECTS_PER_DIVISION;
        let subject =
            synthetic_uscc("91", &self.division, serial).ok_or_else(|| TestnetError::Records {
                division: self.division.clone(),
                reason: format!("no synthetic company code for serial {serial}"),
            })?;
        let trade = TRADES[(n as usize) % TRADES.len()];
        let company = format!("{}示例{trade}有限公司{serial}", self.place);
        let legal_rep = ["张示例", "李示例", "王示例", "陈示例"][(n as usize) % 4];
        let decided = self.decided.to_string();
        Ok(if Self::is_penalty(n) {
            self.penalty(n, &subject, &company, legal_rep, &decided)
        } else {
            self.licence(n, &subject, &company, legal_rep, &decided)
        })
    }

    fn licence(&self, n: u64, subject: &str, company: &str, rep: &str, decided: &str) -> Value {
        let (document, certificate, content) = LICENCES[(n as usize) % LICENCES.len()];
        let valid_to = self.decided + Duration::days(5 * 365);
        let authority = format!("{}行政审批局（示例）", self.place);
        json!({
            "XK_XDR_MC": company, "XK_XDR_LB": "法人及非法人组织",
            "XK_XDR_SHXYM": subject, "XK_FRDB": rep,
            "XK_XKWS": document, "XK_WSH": format!("示许字〔2026〕{}第{n}号", self.run),
            "XK_XKLB": "普通", "XK_XKZS": certificate,
            "XK_XKBH": format!("SL{}{}{n:06}", self.division, self.run),
            "XK_NR": content,
            "XK_JDRQ": decided, "XK_YXQZ": decided, "XK_YXQZI": valid_to.to_string(),
            "XK_XKJG": authority, "XK_XKJGDM": self.licensing,
            "XK_ZT": "1", "XK_LYDW": authority, "XK_LYDWDM": self.licensing, "BZ": ""
        })
    }

    fn penalty(&self, n: u64, subject: &str, company: &str, rep: &str, decided: &str) -> Value {
        let (violation, basis, kinds, content, fine) = PENALTIES[(n as usize) % PENALTIES.len()];
        let valid_until = self.decided + Duration::days(30);
        let publication_end = self.decided + Duration::days(365);
        let authority = format!("{}市场监督管理局（示例）", self.place);
        json!({
            "CF_XDR_MC": company, "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_SHXYM": subject, "CF_FRDB": rep,
            "CF_WSH": format!("示罚〔2026〕{}第{n}号", self.run),
            "CF_WFXW": violation, "CF_SY": "经查，当事人存在上述违法行为（示例）", "CF_YJ": basis,
            "CF_CFLB": kinds, "CF_NR": content, "CF_NR_FK": fine,
            "CF_JDRQ": decided, "CF_YXQ": valid_until.to_string(),
            "CF_GSJZQ": publication_end.to_string(),
            "CF_CFJG": authority, "CF_CFJGDM": self.regulator,
            "CF_SJLY": authority, "CF_SJLYDM": self.regulator, "BZ": "失信程度：一般"
        })
    }
}

impl RecordMix {
    /// The `k`-th black-list entry (严重失信主体名单) of this county's regulator, as the
    /// department API's `POST /v1/lists` takes it: listed 400 days ago and in force for two
    /// more years, so an objection may suspend it and a repair may lift it.
    pub fn black_list(&self, k: u64) -> Result<Value, TestnetError> {
        let problem = |reason: String| TestnetError::Records {
            division: self.division.clone(),
            reason,
        };
        let serial = (k * 7_919) % SUBJECTS_PER_DIVISION;
        let code = synthetic_uscc("91", &self.division, serial)
            .ok_or_else(|| problem(format!("no synthetic company code for serial {serial}")))?;
        let unit = Unit {
            name: format!("{}市场监督管理局（示例）", self.place),
            uscc: self.regulator.clone(),
        };
        let entry = black_list(
            (format!("{}示例建材有限公司{serial}", self.place), code),
            unit,
            format!("示列〔2026〕{}第{k}号", self.run),
            self.decided - Duration::days(400),
            self.decided + Duration::days(730),
        );
        serde_json::to_value(entry).map_err(|e| problem(format!("list entry {k}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use credx_protocol::record::raw::parse_json_records;
    use credx_protocol::validate::{validate_raw, ValidationContext};

    #[test]
    fn every_kind_of_record_passes_validation_without_findings() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let licensing = synthetic_uscc("11", "420281", 52).unwrap();
        let regulator = synthetic_uscc("11", "420281", 132).unwrap();
        let mix = RecordMix::new("420281", "大冶市", &licensing, &regulator, "T1", today);
        let mut penalties = 0;
        for n in 0..60 {
            let record = mix.record(n).unwrap();
            let bytes = serde_json::to_vec(&record).unwrap();
            let raw = parse_json_records(&bytes).unwrap().remove(0).unwrap();
            let mut ctx = ValidationContext::new(today);
            ctx.publication_date = Some(today);
            let outcome = validate_raw(&raw, &ctx);
            assert!(
                outcome.findings.is_empty(),
                "record {n}: {:?}",
                outcome.findings
            );
            penalties += u32::from(RecordMix::is_penalty(n));
        }
        assert_eq!(penalties, 15);
    }
}
