//! Checks on list entries and credit commitments. These arrive typed (built by the list and
//! commitment workflows, not read from 双公示 feeds), so only the rules that the type system
//! cannot express are checked: identifiers, date order, conditional content and bounds.

use super::context::ValidationContext;
use super::finding::{Finding, Rule, Severity};
use super::ident_adapter::{self as ident, UsccOutcome};
use crate::record::commitment::FulfillmentStatus;
use crate::record::list_entry::{ListStatus, MAX_MEASURES};
use crate::record::{CreditCommitment, ListEntry, RecordDate, SubjectCategory};

fn finding(
    field: &str,
    name_zh: &str,
    rule: Rule,
    severity: Severity,
    msg: impl AsRef<str>,
) -> Finding {
    Finding {
        record: 0,
        field: Some(field.to_string()),
        field_name_zh: Some(name_zh.to_string()),
        rule,
        severity,
        message: format!("{field} ({name_zh}): {}", msg.as_ref()),
    }
}

struct Out<'c> {
    ctx: &'c ValidationContext<'c>,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn reject(&mut self, field: &str, zh: &str, rule: Rule, msg: impl AsRef<str>) {
        self.findings
            .push(finding(field, zh, rule, Severity::Reject, msg));
    }

    fn required(&mut self, field: &str, zh: &str, value: &str) {
        if value.trim().is_empty() {
            self.reject(field, zh, Rule::E1, "必填字段为空");
        }
    }

    fn max_len(&mut self, field: &str, zh: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.reject(
                field,
                zh,
                Rule::E4,
                format!("长度 {n} 超过上限 {max} 个字符"),
            );
        }
    }

    fn uscc(&mut self, field: &str, zh: &str, code: &str, rule: Rule) {
        match ident::check_uscc(code, &self.ctx.uscc_policy) {
            UsccOutcome::Valid { .. } => {}
            UsccOutcome::AllowListed { code, defect } => self.findings.push(finding(
                field,
                zh,
                rule,
                Severity::Warn,
                format!("统一社会信用代码 {code} 校验未通过（{defect}），但在例外名单中"),
            )),
            UsccOutcome::Invalid(e) => self.reject(
                field,
                zh,
                rule,
                format!("统一社会信用代码“{code}”无效：{e}"),
            ),
        }
    }

    fn subject_code(&mut self, field: &str, zh: &str, category: SubjectCategory, code: &str) {
        if category == SubjectCategory::NaturalPerson {
            // Only mainland resident IDs have a check; other documents are taken as given.
            let n = ident::normalize(code);
            if n.len() == 18 {
                if let Err(e) = ident::check_resident_id(code, self.ctx.today) {
                    self.reject(field, zh, Rule::E2, format!("居民身份证号码无效：{e}"));
                }
            }
        } else {
            self.uscc(field, zh, code, Rule::E2);
        }
    }

    fn not_future(&mut self, field: &str, zh: &str, d: RecordDate) {
        if d.date() > self.ctx.today {
            self.reject(
                field,
                zh,
                Rule::E3,
                format!("{d} 晚于当前日期 {}", self.ctx.today),
            );
        }
    }

    fn order(&mut self, field: &str, zh: &str, earlier: RecordDate, later: Option<RecordDate>) {
        if let Some(l) = later {
            if l < earlier {
                self.reject(field, zh, Rule::E3, format!("{l} 早于 {earlier}"));
            }
        }
    }
}

/// Checks a list entry; returns every finding (empty when the entry is acceptable).
pub fn validate_list_entry(e: &ListEntry, ctx: &ValidationContext<'_>) -> Vec<Finding> {
    let mut o = Out {
        ctx,
        findings: Vec::new(),
    };
    o.required("subject.name", "主体名称", &e.subject.name);
    o.required("subject.code", "主体代码", &e.subject.code);
    o.required(
        "determining_unit.name",
        "认定单位",
        &e.determining_unit.name,
    );
    o.required("basis", "认定依据", &e.basis);
    o.required("document_no", "认定文书号", &e.document_no);
    o.required("reason", "列入事由", &e.reason);
    o.required("remedy", "权利救济", &e.remedy);
    o.required("source_unit.name", "数据来源单位", &e.source_unit.name);
    o.max_len("subject.name", "主体名称", &e.subject.name, 200);
    o.max_len("document_no", "认定文书号", &e.document_no, 128);
    if !e.subject.code.trim().is_empty() {
        o.subject_code(
            "subject.code",
            "主体代码",
            e.subject.category,
            &e.subject.code,
        );
    }
    o.uscc(
        "determining_unit.uscc",
        "认定单位统一社会信用代码",
        &e.determining_unit.uscc,
        Rule::E6,
    );
    o.uscc(
        "source_unit.uscc",
        "数据来源单位统一社会信用代码",
        &e.source_unit.uscc,
        Rule::E6,
    );
    o.not_future("listed_on", "列入日期", e.listed_on);
    o.order("valid_until", "有效期至", e.listed_on, e.valid_until);
    o.order("removed_on", "移出日期", e.listed_on, e.removed_on);
    if e.measures.len() > MAX_MEASURES {
        o.reject(
            "measures",
            "惩戒措施",
            Rule::E4,
            format!("措施数 {} 超过上限 {MAX_MEASURES}", e.measures.len()),
        );
    }
    for (i, m) in e.measures.iter().enumerate() {
        if m.code.trim().is_empty() || m.text.trim().is_empty() {
            o.reject(
                "measures",
                "惩戒措施",
                Rule::E1,
                format!("第 {} 项措施缺少代码或内容", i + 1),
            );
        }
    }
    let has_reason = e
        .removal_reason
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty());
    match e.status {
        ListStatus::Removed | ListStatus::Revoked if !has_reason => {
            o.reject(
                "removal_reason",
                "移出事由",
                Rule::E7,
                "移出或撤销的名单条目必须说明事由",
            );
        }
        _ => {}
    }
    if e.status == ListStatus::Removed && e.removed_on.is_none() {
        o.reject(
            "removed_on",
            "移出日期",
            Rule::E1,
            "移出的名单条目必须填写移出日期",
        );
    }
    o.findings
}

/// Checks a credit commitment; returns every finding (empty when acceptable).
pub fn validate_commitment(c: &CreditCommitment, ctx: &ValidationContext<'_>) -> Vec<Finding> {
    let mut o = Out {
        ctx,
        findings: Vec::new(),
    };
    // 承诺编码: division (6) + YYYYMMDD (8) + serial (6).
    let code_ok = c.code.len() == 20
        && c.code.bytes().all(|b| b.is_ascii_digit())
        && c.code
            .get(6..14)
            .is_some_and(|d| RecordDate::parse(d).is_ok());
    if !code_ok {
        o.reject(
            "code",
            "承诺编码",
            Rule::E4,
            format!("“{}” 应为6位行政区划代码+8位日期+6位序号", c.code),
        );
    } else if c.code.get(6..14) != Some(c.commitment_date.to_string().replace('-', "").as_str()) {
        o.findings.push(finding(
            "code",
            "承诺编码",
            Rule::E3,
            Severity::Warn,
            "编码中的日期与承诺作出日期不一致",
        ));
    }
    for (f, zh, v, max) in [
        ("subjectName", "承诺人名称", &c.subject_name, 200),
        ("reason", "承诺事由", &c.reason, 512),
        ("content", "承诺内容", &c.content, 4000),
        (
            "liabilityBreachCommitment",
            "违诺责任",
            &c.breach_liability,
            4000,
        ),
        ("acceptanceUnit", "承诺受理单位", &c.acceptance_unit, 200),
    ] {
        o.required(f, zh, v);
        o.max_len(f, zh, v, max);
    }
    o.required("identify", "承诺人代码", &c.subject_code);
    if !c.subject_code.trim().is_empty() {
        o.subject_code(
            "identify",
            "承诺人代码",
            c.subject_category,
            &c.subject_code,
        );
    }
    o.uscc(
        "acceptanceUnitIdentify",
        "承诺受理单位代码",
        &c.acceptance_unit_code,
        Rule::E6,
    );
    if let Some(code) = c
        .confirm_unit_code
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        o.uscc(
            "acceptanceConfirmUnitIdentify",
            "承诺履行状态认定单位代码",
            code,
            Rule::E6,
        );
    }
    o.not_future("commitmentDate", "承诺作出日期", c.commitment_date);
    o.order(
        "commitmentValidity",
        "承诺有效期",
        c.commitment_date,
        c.validity,
    );
    o.order(
        "fulfillmentStatusDate",
        "承诺履行状态认定日期",
        c.commitment_date,
        c.fulfillment_date,
    );
    if c.fulfillment != FulfillmentStatus::Fulfilled {
        for (f, zh, v) in [
            (
                "unperformedCommitmentContent",
                "未履行的承诺内容",
                &c.unperformed_content,
            ),
            (
                "liabilityBreachCommitmentContent",
                "违诺责任追究内容",
                &c.liability_pursued,
            ),
        ] {
            if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
                o.reject(f, zh, Rule::E1, "承诺未全部履行时必须填写");
            }
        }
    }
    if let Some(r) = &c.remarks {
        o.max_len("remarks", "备注", r, 512);
    }
    o.findings
}
