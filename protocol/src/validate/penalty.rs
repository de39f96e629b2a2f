//! Penalty (行政处罚, CF_*) validation: raw → [`PenaltyRecord`].
//!
//! The current-generation penalty template has no status column (the legacy `CF_ZT` is not
//! part of it), so E7 does not apply to penalties here; withdrawal is an entry-level
//! workflow event.

use super::check::{Checker, Columns};
use super::context::ValidationContext;
use super::finding::{Rule, Severity, Validated};
use crate::period::{publication_end, SeverityClass};
use crate::record::enums::{PenaltyKind, PenaltyKinds};
use crate::record::fields::PENALTY_FIELDS;
use crate::record::{AmountWan, BusinessKey, PenaltyRecord, RawRecord, RecordDate, RecordKind};

pub(crate) static CF: Columns = Columns {
    table: &PENALTY_FIELDS,
    name: "CF_XDR_MC",
    category: "CF_XDR_LB",
    uscc: "CF_XDR_SHXYM",
    business_reg_no: "CF_XDR_GSZC",
    org_code: "CF_XDR_ZZJG",
    tax_reg_no: "CF_XDR_SWDJ",
    public_institution_no: "CF_XDR_SYDW",
    social_org_no: "CF_XDR_SHZZ",
    legal_rep: "CF_FRDB",
    rep_id_type: "CF_FR_ZJLX",
    rep_id_no: "CF_FR_ZJHM",
    id_type: "CF_XDR_ZJLX",
    id_no: "CF_XDR_ZJHM",
    document_no: "CF_WSH",
    decision_date: "CF_JDRQ",
    unit_codes: ["CF_CFJGDM", "CF_SJLYDM"],
};

/// A fine above this many 万元 (1 亿元) is probably a 元 amount typed into the 万元 column.
const UNIT_MIXUP_WAN: i64 = 10_000;

/// Validates a raw penalty record against every rule and, when nothing rejects it, builds
/// the typed record. A raw record of another kind is rejected (E1) without further checks.
pub fn validate_penalty(raw: &RawRecord, ctx: &ValidationContext<'_>) -> Validated<PenaltyRecord> {
    let mut ck = Checker::new(raw, ctx, &CF);
    if raw.kind != RecordKind::Penalty {
        ck.push(
            None,
            Rule::E1,
            Severity::Reject,
            format!(
                "expected a penalty record (CF_ columns), found a {}",
                raw.kind
            ),
        );
        return Validated {
            record: None,
            findings: ck.findings,
        };
    }
    ck.generic();
    let subject = ck.subject();

    // CF_CFLB (E4).
    let kinds = match ck.text("CF_CFLB").map(|v| (PenaltyKinds::parse(&v), v)) {
        Some((Ok(k), _)) => {
            if k.contains(PenaltyKind::Other) && k.other_detail().is_none() {
                ck.warn(
                    "CF_CFLB",
                    Rule::E4,
                    "处罚类别含“其他”时应注明具体处罚种类，如“其他（……）”",
                );
            }
            Some(k)
        }
        Some((Err(e), v)) => {
            ck.reject(
                "CF_CFLB",
                Rule::E4,
                format!("“{v}”无效：{e}；应为行政处罚法第九条所列种类，以“;”分隔"),
            );
            None
        }
        None => None,
    };

    // Amounts (E5).
    let fine = ck.amount("CF_NR_FK");
    let confiscation = ck.amount("CF_NR_WFFF");
    let zkdx = ck.text("CF_NR_ZKDX");
    let fine_raw_present = ck.text("CF_NR_FK").is_some();
    if let Some(k) = &kinds {
        if k.contains(PenaltyKind::Fine) {
            match fine {
                Some(a) if !a.is_positive() => {
                    ck.reject("CF_NR_FK", Rule::E5, "处罚类别含罚款时罚款金额必须大于0")
                }
                None if !fine_raw_present => ck.reject(
                    "CF_NR_FK",
                    Rule::E5,
                    "处罚类别含罚款时必须填写罚款金额且大于0",
                ),
                _ => {}
            }
        } else if fine.is_some_and(AmountWan::is_positive) {
            ck.warn("CF_NR_FK", Rule::E5, "填写了罚款金额，但处罚类别不含罚款");
        }
        if k.contains(PenaltyKind::ConfiscateIllegalGains)
            || k.contains(PenaltyKind::ConfiscateIllegalProperty)
        {
            match confiscation {
                None if ck.text("CF_NR_WFFF").is_none() => ck.reject(
                    "CF_NR_WFFF",
                    Rule::E5,
                    "处罚类别含没收违法所得或没收非法财物时必须填写没收金额（≥0）",
                ),
                Some(a) if !a.is_positive() => ck.warn(
                    "CF_NR_WFFF",
                    Rule::E5,
                    "没收金额为0；金额可确定时应填写实际金额",
                ),
                _ => {}
            }
        }
        if (k.contains(PenaltyKind::SuspendLicence) || k.contains(PenaltyKind::RevokeLicence))
            && zkdx.is_none()
        {
            ck.reject(
                "CF_NR_ZKDX",
                Rule::E5,
                "处罚类别含暂扣或吊销许可证件时必须填写暂扣或吊销证照名称及编号",
            );
        }
    }
    if let Some(a) = fine {
        if a.micros() > UNIT_MIXUP_WAN * 1_000_000 {
            ck.warn(
                "CF_NR_FK",
                Rule::E5,
                format!("罚款金额 {a} 万元超过10000万元，疑似按“元”填报（单位应为万元）"),
            );
        }
    }

    // Dates (E3).
    let decision = ck.decision_date();
    let valid_until = ck.date("CF_YXQ");
    let publication_end_date = ck.date("CF_GSJZQ");
    ck.order(("CF_JDRQ", decision), ("CF_YXQ", valid_until), false);
    ck.order(
        ("CF_JDRQ", decision),
        ("CF_GSJZQ", publication_end_date),
        false,
    );
    if let (Some(d), Some(end)) = (decision, publication_end_date) {
        cross_check_publication_end(&mut ck, d, end);
    }

    let authority_code = ck.unit_code("CF_CFJGDM");
    let source_unit_code = ck.unit_code("CF_SJLYDM");

    let document_no = ck.required_text("CF_WSH");
    let key = authority_code
        .as_deref()
        .map(|a| BusinessKey::penalty(a, &document_no));
    ck.warnings(decision, key.as_ref(), &subject);

    if ck.has_reject() {
        return Validated {
            record: None,
            findings: ck.findings,
        };
    }
    // Every Option below is Some when no Reject was recorded (each None path rejects).
    let (
        Some(subject_name),
        Some(subject_category),
        Some(kinds),
        Some(decision_date),
        Some(valid_until),
        Some(authority_code),
        Some(source_unit_code),
    ) = (
        subject.name.clone(),
        subject.category,
        kinds,
        decision,
        valid_until,
        authority_code,
        source_unit_code,
    )
    else {
        ck.push(
            None,
            Rule::E1,
            Severity::Reject,
            "internal: a required value is missing without a finding",
        );
        return Validated {
            record: None,
            findings: ck.findings,
        };
    };
    let record = PenaltyRecord {
        subject_name,
        subject_category,
        uscc: subject.uscc,
        business_reg_no: subject.business_reg_no,
        org_code: subject.org_code,
        tax_reg_no: subject.tax_reg_no,
        public_institution_no: subject.public_institution_no,
        social_org_no: subject.social_org_no,
        legal_rep: subject.legal_rep,
        legal_rep_id_type: subject.rep_id_type,
        legal_rep_id_no: subject.rep_id_no,
        id_type: subject.id_type,
        id_no: subject.id_no,
        document_no,
        violation_type: ck.required_text("CF_WFXW"),
        facts: ck.required_text("CF_SY"),
        legal_basis: ck.required_text("CF_YJ"),
        kinds,
        content: ck.required_text("CF_NR"),
        fine,
        confiscation,
        suspended_licence: zkdx,
        decision_date,
        valid_until,
        publication_end: publication_end_date,
        authority: ck.required_text("CF_CFJG"),
        authority_code,
        source_unit: ck.required_text("CF_SJLY"),
        source_unit_code,
        remarks: ck.text("BZ"),
    };
    Validated {
        record: Some(record),
        findings: ck.findings,
    }
}

/// CF_GSJZQ against the publication period of its severity class (W under E3). The
/// template has no severity column; departments write it in BZ as `失信程度：一般`, so the
/// check runs only when BZ states a class.
fn cross_check_publication_end(ck: &mut Checker<'_, '_>, decision: RecordDate, end: RecordDate) {
    let Some(class) = ck.text("BZ").as_deref().and_then(severity_from_remarks) else {
        return;
    };
    match publication_end(decision.date(), class) {
        Some(max) if end.date() > max => ck.warn(
            "CF_GSJZQ",
            Rule::E3,
            format!(
                "公示截止期 {end} 晚于{}失信信息的最长公示期截止日 {max}",
                class.chinese_name()
            ),
        ),
        None if class == SeverityClass::Minor => ck.warn(
            "CF_GSJZQ",
            Rule::E3,
            "轻微失信信息原则上不予公示，却填写了公示截止期",
        ),
        _ => {}
    }
}

fn severity_from_remarks(bz: &str) -> Option<SeverityClass> {
    let rest = &bz[bz.find("失信程度")? + "失信程度".len()..];
    let rest = rest.trim_start_matches([':', '：', ' ']);
    ["特定严重", "轻微", "一般", "严重"]
        .into_iter()
        .find(|c| rest.starts_with(c))
        .and_then(SeverityClass::from_chinese)
}
