//! The per-record checker shared by licence and penalty validation: column access, finding
//! collection and the checks both record kinds have in common (generic column checks, the
//! subject block, authority codes, the W rules).

use chrono::NaiveDate;

use super::context::ValidationContext;
use super::finding::{Finding, Rule, Severity};
use super::ident_adapter::{self as ident, UsccOutcome};
use crate::record::enums::{IdType, RecordStatus, SubjectCategory};
use crate::record::fields::{FieldSpec, FieldType, Requirement};
use crate::record::{AmountWan, BusinessKey, RawRecord, RecordDate};

/// Earliest plausible decision date: the founding of the PRC (§4.2 row 20).
pub(crate) const EARLIEST_DECISION: Option<NaiveDate> = NaiveDate::from_ymd_opt(1949, 10, 1);

/// Column codes for the roles both record kinds share.
pub(crate) struct Columns {
    pub table: &'static [FieldSpec],
    pub name: &'static str,
    pub category: &'static str,
    pub uscc: &'static str,
    pub business_reg_no: &'static str,
    pub org_code: &'static str,
    pub tax_reg_no: &'static str,
    pub public_institution_no: &'static str,
    pub social_org_no: &'static str,
    pub legal_rep: &'static str,
    pub rep_id_type: &'static str,
    pub rep_id_no: &'static str,
    pub id_type: &'static str,
    pub id_no: &'static str,
    pub document_no: &'static str,
    pub decision_date: &'static str,
    /// Authority and source-unit USCC columns (E6).
    pub unit_codes: [&'static str; 2],
}

impl Columns {
    /// The five legacy organisation codes (行政相对人代码_2..6).
    pub fn legacy_codes(&self) -> [&'static str; 5] {
        [
            self.business_reg_no,
            self.org_code,
            self.tax_reg_no,
            self.public_institution_no,
            self.social_org_no,
        ]
    }

    /// Columns holding a USCC, whose length is judged by the USCC check, not the table.
    fn is_uscc_column(&self, code: &str) -> bool {
        code == self.uscc || self.unit_codes.contains(&code)
    }
}

/// The subject block after checking.
#[derive(Default)]
pub(crate) struct Subject {
    pub name: Option<String>,
    pub category: Option<SubjectCategory>,
    pub uscc: Option<String>,
    pub business_reg_no: Option<String>,
    pub org_code: Option<String>,
    pub tax_reg_no: Option<String>,
    pub public_institution_no: Option<String>,
    pub social_org_no: Option<String>,
    pub legal_rep: Option<String>,
    pub rep_id_type: Option<IdType>,
    pub rep_id_no: Option<String>,
    pub id_type: Option<IdType>,
    pub id_no: Option<String>,
    /// Birth date from a valid resident ID of a natural person (for the minor check).
    pub birth_date: Option<NaiveDate>,
}

pub(crate) struct Checker<'r, 'c> {
    pub raw: &'r RawRecord,
    pub ctx: &'r ValidationContext<'c>,
    pub cols: &'static Columns,
    pub findings: Vec<Finding>,
}

impl<'r, 'c> Checker<'r, 'c> {
    pub fn new(raw: &'r RawRecord, ctx: &'r ValidationContext<'c>, cols: &'static Columns) -> Self {
        Checker {
            raw,
            ctx,
            cols,
            findings: Vec::new(),
        }
    }

    pub fn push(
        &mut self,
        field: Option<&str>,
        rule: Rule,
        severity: Severity,
        message: impl AsRef<str>,
    ) {
        self.findings
            .push(Finding::new(field, rule, severity, message));
    }

    pub fn reject(&mut self, field: &str, rule: Rule, message: impl AsRef<str>) {
        self.push(Some(field), rule, Severity::Reject, message);
    }

    pub fn warn(&mut self, field: &str, rule: Rule, message: impl AsRef<str>) {
        self.push(Some(field), rule, Severity::Warn, message);
    }

    pub fn has_reject(&self) -> bool {
        self.findings.iter().any(Finding::is_reject)
    }

    /// Trimmed value; `None` when absent or blank (empty string == absent).
    pub fn text(&self, code: &str) -> Option<String> {
        self.raw.get(code).map(|v| v.trim().to_string())
    }

    /// A required text column (presence already checked generically).
    pub fn required_text(&self, code: &str) -> String {
        self.text(code).unwrap_or_default()
    }

    /// An enumerated column: E4 when the value is not in the table.
    pub fn enumerated<T>(
        &mut self,
        code: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &str,
    ) -> Option<T> {
        let v = self.text(code)?;
        let parsed = parse(&v);
        if parsed.is_none() {
            self.reject(
                code,
                Rule::E4,
                format!("“{v}” 不是有效取值，应为 {allowed}"),
            );
        }
        parsed
    }

    /// A date column: E3 when it does not parse.
    pub fn date(&mut self, code: &str) -> Option<RecordDate> {
        let v = self.text(code)?;
        match RecordDate::parse(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.reject(code, Rule::E3, format!("日期无法解析：{e}"));
                None
            }
        }
    }

    /// An amount column: E5 when it does not parse or is negative.
    pub fn amount(&mut self, code: &str) -> Option<AmountWan> {
        let v = self.text(code)?;
        match AmountWan::parse(&v) {
            Ok(a) if a.is_negative() => {
                self.reject(code, Rule::E5, format!("金额 {a} 不得为负数"));
                None
            }
            Ok(a) => Some(a),
            Err(e) => {
                self.reject(code, Rule::E5, format!("金额无效：{e}"));
                None
            }
        }
    }

    /// Checks every column against the table: unknown codes (W, E4), nested JSON values
    /// (E4), required columns (E1) and lengths (E4). Lengths are an E4 (value domain)
    /// matter: an over-long value does not fit the national template's column.
    pub fn generic(&mut self) {
        let table = self.cols.table;
        for code in &self.raw.non_scalar {
            self.findings.push(Finding::new(
                Some(code),
                Rule::E4,
                Severity::Reject,
                "值必须是文本、数字或布尔值，不能是数组或对象",
            ));
        }
        let unknown: Vec<String> = self
            .raw
            .fields
            .keys()
            .filter(|k| !table.iter().any(|s| s.code == k.as_str()))
            .cloned()
            .collect();
        for code in unknown {
            self.push(
                Some(&code),
                Rule::E4,
                Severity::Warn,
                format!("未知字段（不属于{}标准字段），该值未被采用", self.raw.kind),
            );
        }
        for spec in table {
            let value = self.raw.get(spec.code);
            match (value, spec.requirement) {
                (None, Requirement::Required)
                    if !self.raw.non_scalar.iter().any(|c| c == spec.code) =>
                {
                    self.reject(spec.code, Rule::E1, "必填字段缺失或为空");
                }
                (Some(v), _) => {
                    if let (Some(max), false) = (spec.max_len, self.cols.is_uscc_column(spec.code))
                    {
                        let len = v.trim().chars().count();
                        if len > max && spec.ty != FieldType::Date && spec.ty != FieldType::Amount {
                            self.reject(
                                spec.code,
                                Rule::E4,
                                format!("长度 {len} 超过上限 {max} 个字符"),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The subject block: category, identifiers and the per-category required fields (E1,
    /// E2, E4).
    pub fn subject(&mut self) -> Subject {
        let c = self.cols;
        let mut s = Subject {
            name: self.text(c.name),
            category: self.enumerated(
                c.category,
                SubjectCategory::parse,
                "法人及非法人组织 / 自然人 / 个体工商户（或代码 01–04）",
            ),
            business_reg_no: self.text(c.business_reg_no),
            org_code: self.text(c.org_code),
            tax_reg_no: self.text(c.tax_reg_no),
            public_institution_no: self.text(c.public_institution_no),
            social_org_no: self.text(c.social_org_no),
            legal_rep: self.text(c.legal_rep),
            ..Subject::default()
        };
        let id_types = "01 身份证 / 02 护照 / 03 港澳居民来往内地通行证 / 04 台湾居民来往大陆通行证 / 05 外国人永久居留身份证";
        s.rep_id_type = self.enumerated(c.rep_id_type, IdType::parse, id_types);
        s.id_type = self.enumerated(c.id_type, IdType::parse, id_types);

        let uscc_text = self.text(c.uscc);
        let natural = s.category == Some(SubjectCategory::NaturalPerson);
        match s.category {
            Some(SubjectCategory::NaturalPerson) => {
                for code in std::iter::once(c.uscc).chain(c.legacy_codes()) {
                    if self.text(code).is_some() {
                        self.reject(
                            code,
                            Rule::E1,
                            "行政相对人类别为自然人时，不得填写统一社会信用代码或其他组织代码",
                        );
                    }
                }
                if self.text(c.id_type).is_none() {
                    self.reject(
                        c.id_type,
                        Rule::E1,
                        "行政相对人类别为自然人时必须填写证件类型",
                    );
                }
                if self.text(c.id_no).is_none() {
                    self.reject(
                        c.id_no,
                        Rule::E1,
                        "行政相对人类别为自然人时必须填写证件号码",
                    );
                }
                for code in [c.legal_rep, c.rep_id_type, c.rep_id_no] {
                    if self.text(code).is_some() {
                        self.warn(code, Rule::E1, "自然人不应填写法定代表人信息，公开时将忽略");
                    }
                }
            }
            Some(SubjectCategory::Organisation) => {
                if uscc_text.is_none() {
                    let any_legacy = c
                        .legacy_codes()
                        .iter()
                        .any(|code| self.text(code).is_some());
                    if !any_legacy {
                        self.reject(c.uscc, Rule::E1, "法人及非法人组织必须填写统一社会信用代码（无代码时至少填写行政相对人代码_2至_6之一并在备注中说明）");
                    } else if self.text("BZ").is_none() {
                        self.reject(
                            "BZ",
                            Rule::E1,
                            "未填写统一社会信用代码时，须在备注中说明原因",
                        );
                    }
                }
                if s.legal_rep.is_none() {
                    self.reject(
                        c.legal_rep,
                        Rule::E1,
                        "法人及非法人组织必须填写法定代表人（负责人）",
                    );
                }
            }
            Some(SubjectCategory::IndividualBusiness) => {
                if uscc_text.is_none() && s.business_reg_no.is_none() {
                    self.reject(
                        c.uscc,
                        Rule::E1,
                        "个体工商户必须填写统一社会信用代码（92开头）或工商注册号",
                    );
                }
                if s.legal_rep.is_none() {
                    self.reject(
                        c.legal_rep,
                        Rule::E1,
                        "个体工商户必须在法定代表人栏填写经营者姓名",
                    );
                }
            }
            None => {}
        }

        // Counter-party USCC (E2). A natural person's stray code is already an E1.
        if let (Some(t), false) = (uscc_text, natural) {
            match ident::check_uscc(&t, &self.ctx.uscc_policy) {
                UsccOutcome::Valid {
                    code,
                    category_known,
                    ..
                } => {
                    if !category_known {
                        self.warn(c.uscc, Rule::E2, format!("统一社会信用代码 {code} 的登记管理部门/机构类别代码不在已知代码表中"));
                    }
                    if s.category == Some(SubjectCategory::IndividualBusiness)
                        && !code.starts_with("92")
                    {
                        self.warn(
                            c.uscc,
                            Rule::E1,
                            format!("个体工商户的统一社会信用代码通常以92开头，实际为 {code}"),
                        );
                    }
                    s.uscc = Some(code);
                }
                UsccOutcome::AllowListed { code, defect } => {
                    self.warn(c.uscc, Rule::E2, format!("统一社会信用代码 {code} 校验未通过（{defect}），但在例外名单中，予以接收"));
                    s.uscc = Some(code);
                }
                UsccOutcome::Invalid(e) => {
                    self.reject(c.uscc, Rule::E2, format!("统一社会信用代码“{t}”无效：{e}"));
                }
            }
        }

        // Legacy codes with a check character: warn only (they are optional and superseded).
        if let Some(v) = &s.business_reg_no {
            let n = ident::normalize(v);
            if n.len() == 15
                && n.bytes().all(|b| b.is_ascii_digit())
                && !ident::business_reg_no_ok(&n)
            {
                self.warn(
                    c.business_reg_no,
                    Rule::E2,
                    format!("15位工商注册号“{v}”校验位（GB/T 17710 MOD 11,10）不正确"),
                );
            }
        }
        if let Some(v) = &s.org_code {
            if ident::normalize(v).len() == 9 && !ident::org_code_ok(v) {
                self.warn(
                    c.org_code,
                    Rule::E2,
                    format!("组织机构代码“{v}”校验位（GB 11714）不正确"),
                );
            }
        }

        // Personal ID numbers (E2): resident IDs get the full GB 11643 check.
        let (id_no, birth) = self.person_id(s.id_type, c.id_no);
        s.id_no = id_no;
        if natural {
            s.birth_date = birth;
        }
        let (rep_no, _) = self.person_id(s.rep_id_type, c.rep_id_no);
        s.rep_id_no = rep_no;
        if s.rep_id_no.is_some() && self.text(c.rep_id_type).is_none() {
            self.reject(
                c.rep_id_type,
                Rule::E1,
                "填写了法定代表人证件号码时必须填写证件类型",
            );
        }
        if self.text(c.rep_id_type).is_some()
            && s.rep_id_no.is_none()
            && self.text(c.rep_id_no).is_none()
        {
            self.reject(
                c.rep_id_no,
                Rule::E1,
                "填写了法定代表人证件类型时必须填写证件号码",
            );
        }
        s
    }

    /// Checks an ID number against its type; returns the normalised number and, for a valid
    /// resident ID, the birth date.
    fn person_id(
        &mut self,
        id_type: Option<IdType>,
        no_code: &str,
    ) -> (Option<String>, Option<NaiveDate>) {
        let Some(v) = self.text(no_code) else {
            return (None, None);
        };
        match id_type {
            Some(IdType::ResidentId) => match ident::check_resident_id(&v, self.ctx.today) {
                Ok(id) => (Some(id.number), Some(id.birth_date)),
                Err(e) => {
                    self.reject(
                        no_code,
                        Rule::E2,
                        format!("居民身份证号码“{}”无效：{e}", mask(&v)),
                    );
                    (None, None)
                }
            },
            Some(t @ (IdType::HkMacauPermit | IdType::TaiwanPermit)) => {
                let n = ident::normalize(&v);
                let ok = match t {
                    IdType::HkMacauPermit => {
                        let digits = n.get(1..).unwrap_or_default();
                        (n.starts_with('H') || n.starts_with('M'))
                            && (digits.len() == 8 || digits.len() == 10)
                            && digits.bytes().all(|b| b.is_ascii_digit())
                    }
                    _ => (n.len() == 8 || n.len() == 10) && n.bytes().all(|b| b.is_ascii_digit()),
                };
                if !ok {
                    self.warn(
                        no_code,
                        Rule::E2,
                        format!("证件号码“{}”不符合{}的常见格式", mask(&v), type_name(t)),
                    );
                }
                (Some(n), None)
            }
            _ => (Some(ident::normalize(&v)), None),
        }
    }

    /// The decision date: E3 when unparsable, in the future, or before 1949-10-01.
    pub fn decision_date(&mut self) -> Option<RecordDate> {
        let code = self.cols.decision_date;
        let d = self.date(code)?;
        if d.date() > self.ctx.today {
            self.reject(
                code,
                Rule::E3,
                format!("决定日期 {d} 晚于当前日期 {}", self.ctx.today),
            );
        }
        if EARLIEST_DECISION.is_some_and(|earliest| d.date() < earliest) {
            self.reject(code, Rule::E3, format!("决定日期 {d} 早于1949-10-01"));
        }
        Some(d)
    }

    /// Requires `later ≥ earlier` (E3 reject, or warn when `warn_only`).
    pub fn order(
        &mut self,
        earlier: (&str, Option<RecordDate>),
        later: (&str, Option<RecordDate>),
        warn_only: bool,
    ) {
        if let (Some(a), Some(b)) = (earlier.1, later.1) {
            if b < a {
                let msg = format!("{b} 早于 {} {a}", earlier.0);
                if warn_only {
                    self.warn(later.0, Rule::E3, msg);
                } else {
                    self.reject(later.0, Rule::E3, msg);
                }
            }
        }
    }

    /// Authority and source-unit codes (E6): valid USCC (allow-listed → W), division within
    /// the submitting jurisdiction or a parent of it (W otherwise).
    pub fn unit_code(&mut self, code: &str) -> Option<String> {
        let t = self.text(code)?;
        let (normalised, warn) = match ident::check_uscc(&t, &self.ctx.uscc_policy) {
            UsccOutcome::Valid { code: n, .. } => (n, None),
            UsccOutcome::AllowListed { code: n, defect } => (n, Some(defect)),
            UsccOutcome::Invalid(e) => {
                self.reject(
                    code,
                    Rule::E6,
                    format!("机关/单位统一社会信用代码“{t}”无效：{e}"),
                );
                return None;
            }
        };
        if let Some(defect) = warn {
            self.warn(code, Rule::E6, format!("统一社会信用代码 {normalised} 校验未通过（{defect}），但在例外名单中，予以接收"));
        }
        if let (Some(j), Some(div)) = (
            &self.ctx.submitting_jurisdiction,
            ident::uscc_division(&normalised),
        ) {
            if !ident::within_jurisdiction(j, div) {
                self.warn(
                    code,
                    Rule::E6,
                    format!(
                        "代码 {normalised} 的登记行政区划 {} 不在报送节点辖区内，也不是其上级区划",
                        div.as_str()
                    ),
                );
            }
        }
        Some(normalised)
    }

    /// Status (E4) and the E7 reason requirement.
    pub fn status(&mut self, code: &str) -> Option<RecordStatus> {
        let st = self.enumerated(code, RecordStatus::parse, "1（有效）/ 2（无效）")?;
        if st == RecordStatus::Invalid && self.text("BZ").is_none() {
            self.reject(
                "BZ",
                Rule::E7,
                format!("{code} 为 2（无效）时必须在备注中说明撤销或变更的原因"),
            );
        }
        Some(st)
    }

    /// W1, W2 and W3 once the typed values are known.
    pub fn warnings(
        &mut self,
        decision: Option<RecordDate>,
        key: Option<&BusinessKey>,
        subject: &Subject,
    ) {
        let c = self.cols;
        if let (Some(d), Some(published)) = (decision, self.ctx.publication_date) {
            let n = self
                .ctx
                .working_days
                .working_days_after(d.date(), published, 7);
            if n > 7 {
                self.warn(
                    c.decision_date,
                    Rule::W1,
                    format!("决定日期 {d} 至公示日期 {published} 超过7个工作日，逾期报送"),
                );
            }
        }
        if let (Some(k), Some(known)) = (key, self.ctx.known_business_keys) {
            if known.contains(k) {
                self.warn(
                    c.document_no,
                    Rule::W2,
                    format!("业务主键（{k}）已存在，本条作为更正（修改）处理"),
                );
            }
        }
        if subject.category == Some(SubjectCategory::NaturalPerson) {
            self.warn(
                c.id_no,
                Rule::W3,
                "自然人证件号码仅用于政务共享，不得向社会公开",
            );
            if let (Some(birth), Some(d)) = (subject.birth_date, decision) {
                if age_on(birth, d.date()) < 18 {
                    self.warn(
                        c.id_no,
                        Rule::W3,
                        format!("相对人在决定日期 {d} 未满18周岁（未成年人），该记录不予公示"),
                    );
                }
            }
        }
    }
}

/// Full years from `birth` to `on`.
fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

fn type_name(t: IdType) -> &'static str {
    match t {
        IdType::ResidentId => "居民身份证",
        IdType::Passport => "护照",
        IdType::HkMacauPermit => "港澳居民来往内地通行证",
        IdType::TaiwanPermit => "台湾居民来往大陆通行证",
        IdType::ForeignPermanentResident => "外国人永久居留身份证",
    }
}

/// Masks an ID number for messages (findings may be shown to people outside the sharing
/// channel): keeps the first 6 and last 4 characters.
pub(crate) fn mask(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}
