//! Field metadata of the current-generation 双公示 records (credit-data.md §4.2, §4.3).
//!
//! One row per standard column: code, Chinese name, English name, maximum length and whether
//! the column is required. Validation reads these tables for required-field checks (E1),
//! length checks (E4), unknown-column warnings and the Chinese names in findings, so the
//! tables are the single place to change when the national template is confirmed (§4.8).
//!
//! Lengths are in Unicode scalar values (characters), as MySQL `varchar(n)` counts them.
//! Columns the DDL types as `text` are capped at [`TEXT_MAX_CHARS`]: the source DDL has no
//! limit, but every accepted record must fit one log entry (64 KiB, see
//! `docs/decisions/0002-bincode-2.md`), and 4 000 is the licence template's own `C(4000)`.

/// Cap applied to columns that the source DDL types as unbounded `text`.
pub const TEXT_MAX_CHARS: usize = 4000;

/// Whether a column must be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Always required (E1 when empty).
    Required,
    /// Required depending on other fields (subject category, penalty kind…); checked by
    /// the cross-field rules rather than from this table.
    Conditional,
    /// May be empty.
    Optional,
}

/// The value domain of a column, used to pick the parser in raw → typed conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Free text.
    Text,
    /// An identifier (USCC, registration number, ID number).
    Code,
    /// A value from a code table (category, class, status, ID type).
    Enum,
    /// A calendar date (`YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`).
    Date,
    /// An amount in 万元 with at most 6 decimals.
    Amount,
}

/// Metadata of one standard column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// Standard column code, e.g. `CF_NR_FK`.
    pub code: &'static str,
    /// Chinese name as in the data standard, e.g. `罚款金额（万元）`.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Maximum length in characters; `None` for dates, amounts and enumerations, whose
    /// domain is checked by their own parser.
    pub max_len: Option<usize>,
    /// Whether the column is required.
    pub requirement: Requirement,
    /// Value domain.
    pub ty: FieldType,
}

const fn f(
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    max_len: Option<usize>,
    requirement: Requirement,
    ty: FieldType,
) -> FieldSpec {
    FieldSpec {
        code,
        name_zh,
        name_en,
        max_len,
        requirement,
        ty,
    }
}

use FieldType::{Amount, Code, Date, Enum, Text};
use Requirement::{Conditional, Optional, Required};

const T: Option<usize> = Some(TEXT_MAX_CHARS);

/// The 28 columns of the administrative licensing record (行政许可信息), §4.2, in table order.
pub const LICENCE_FIELDS: [FieldSpec; 28] = [
    f(
        "XK_XDR_MC",
        "行政相对人名称",
        "counter-party name",
        Some(200),
        Required,
        Text,
    ),
    f(
        "XK_XDR_LB",
        "行政相对人类别",
        "counter-party category",
        None,
        Required,
        Enum,
    ),
    f(
        "XK_XDR_SHXYM",
        "行政相对人代码_1（统一社会信用代码）",
        "counter-party USCC",
        Some(18),
        Conditional,
        Code,
    ),
    f(
        "XK_XDR_GSZC",
        "行政相对人代码_2（工商注册号）",
        "business registration number",
        Some(50),
        Optional,
        Code,
    ),
    f(
        "XK_XDR_ZZJG",
        "行政相对人代码_3（组织机构代码）",
        "organisation code",
        Some(10),
        Optional,
        Code,
    ),
    f(
        "XK_XDR_SWDJ",
        "行政相对人代码_4（税务登记号）",
        "tax registration number",
        Some(32),
        Optional,
        Code,
    ),
    f(
        "XK_XDR_SYDW",
        "行政相对人代码_5（事业单位证书号）",
        "public-institution certificate number",
        Some(120),
        Optional,
        Code,
    ),
    f(
        "XK_XDR_SHZZ",
        "行政相对人代码_6（社会组织登记证号）",
        "social-organisation certificate number",
        Some(50),
        Optional,
        Code,
    ),
    f(
        "XK_FRDB",
        "法定代表人",
        "legal representative",
        Some(50),
        Conditional,
        Text,
    ),
    f(
        "XK_FR_ZJLX",
        "法定代表人证件类型",
        "legal representative ID type",
        None,
        Conditional,
        Enum,
    ),
    f(
        "XK_FR_ZJHM",
        "法定代表人证件号码",
        "legal representative ID number",
        Some(64),
        Conditional,
        Code,
    ),
    f(
        "XK_XDR_ZJLX",
        "证件类型",
        "counter-party ID type",
        None,
        Conditional,
        Enum,
    ),
    f(
        "XK_XDR_ZJHM",
        "证件号码",
        "counter-party ID number",
        Some(64),
        Conditional,
        Code,
    ),
    f(
        "XK_XKWS",
        "行政许可决定文书名称",
        "decision document title",
        Some(64),
        Required,
        Text,
    ),
    f(
        "XK_WSH",
        "行政许可决定文书号",
        "decision document number",
        Some(128),
        Required,
        Code,
    ),
    f("XK_XKLB", "许可类别", "licence class", None, Required, Enum),
    f(
        "XK_XKZS",
        "许可证书名称",
        "certificate name",
        Some(64),
        Optional,
        Text,
    ),
    f(
        "XK_XKBH",
        "许可编号",
        "licence number",
        Some(64),
        Optional,
        Code,
    ),
    f("XK_NR", "许可内容", "licence content", T, Required, Text),
    f(
        "XK_JDRQ",
        "许可决定日期",
        "decision date",
        None,
        Required,
        Date,
    ),
    f("XK_YXQZ", "有效期自", "valid from", None, Required, Date),
    f("XK_YXQZI", "有效期至", "valid to", None, Required, Date),
    f(
        "XK_XKJG",
        "许可机关",
        "licensing authority",
        Some(200),
        Required,
        Text,
    ),
    f(
        "XK_XKJGDM",
        "许可机关统一社会信用代码",
        "licensing authority USCC",
        Some(18),
        Required,
        Code,
    ),
    f("XK_ZT", "当前状态", "status", None, Required, Enum),
    f(
        "XK_LYDW",
        "数据来源单位",
        "data source unit",
        Some(200),
        Required,
        Text,
    ),
    f(
        "XK_LYDWDM",
        "数据来源单位统一社会信用代码",
        "data source unit USCC",
        Some(18),
        Required,
        Code,
    ),
    f("BZ", "备注", "remarks", Some(512), Optional, Text),
];

/// The 30 columns of the administrative penalty record (行政处罚信息), §4.3, in table order.
pub const PENALTY_FIELDS: [FieldSpec; 30] = [
    f(
        "CF_XDR_MC",
        "行政相对人名称",
        "counter-party name",
        Some(200),
        Required,
        Text,
    ),
    f(
        "CF_XDR_LB",
        "行政相对人类别",
        "counter-party category",
        None,
        Required,
        Enum,
    ),
    f(
        "CF_XDR_SHXYM",
        "行政相对人代码_1（统一社会信用代码）",
        "counter-party USCC",
        Some(32),
        Conditional,
        Code,
    ),
    f(
        "CF_XDR_GSZC",
        "行政相对人代码_2（工商注册号）",
        "business registration number",
        Some(50),
        Optional,
        Code,
    ),
    f(
        "CF_XDR_ZZJG",
        "行政相对人代码_3（组织机构代码）",
        "organisation code",
        Some(32),
        Optional,
        Code,
    ),
    f(
        "CF_XDR_SWDJ",
        "行政相对人代码_4（税务登记号）",
        "tax registration number",
        Some(32),
        Optional,
        Code,
    ),
    f(
        "CF_XDR_SYDW",
        "行政相对人代码_5（事业单位证书号）",
        "public-institution certificate number",
        Some(120),
        Optional,
        Code,
    ),
    f(
        "CF_XDR_SHZZ",
        "行政相对人代码_6（社会组织登记证号）",
        "social-organisation certificate number",
        Some(50),
        Optional,
        Code,
    ),
    f(
        "CF_FRDB",
        "法定代表人",
        "legal representative",
        Some(50),
        Conditional,
        Text,
    ),
    f(
        "CF_FR_ZJLX",
        "法定代表人证件类型",
        "legal representative ID type",
        None,
        Conditional,
        Enum,
    ),
    f(
        "CF_FR_ZJHM",
        "法定代表人证件号码",
        "legal representative ID number",
        Some(32),
        Conditional,
        Code,
    ),
    f(
        "CF_XDR_ZJLX",
        "证件类型",
        "counter-party ID type",
        None,
        Conditional,
        Enum,
    ),
    f(
        "CF_XDR_ZJHM",
        "证件号码",
        "counter-party ID number",
        Some(64),
        Conditional,
        Code,
    ),
    f(
        "CF_WSH",
        "行政处罚决定书文号",
        "decision document number",
        Some(128),
        Required,
        Code,
    ),
    f(
        "CF_WFXW",
        "违法行为类型",
        "violation type",
        T,
        Required,
        Text,
    ),
    f("CF_SY", "违法事实", "facts", T, Required, Text),
    f("CF_YJ", "处罚依据", "legal basis", T, Required, Text),
    f(
        "CF_CFLB",
        "处罚类别",
        "penalty kinds",
        Some(36),
        Required,
        Enum,
    ),
    f("CF_NR", "处罚内容", "penalty content", T, Required, Text),
    f(
        "CF_NR_FK",
        "罚款金额（万元）",
        "fine (10k CNY)",
        None,
        Conditional,
        Amount,
    ),
    f(
        "CF_NR_WFFF",
        "没收违法所得、没收非法财物的金额（万元）",
        "confiscation amount (10k CNY)",
        None,
        Conditional,
        Amount,
    ),
    f(
        "CF_NR_ZKDX",
        "暂扣或吊销证照名称及编号",
        "suspended or revoked licence",
        Some(200),
        Conditional,
        Text,
    ),
    f(
        "CF_JDRQ",
        "处罚决定日期",
        "decision date",
        None,
        Required,
        Date,
    ),
    f(
        "CF_YXQ",
        "处罚有效期",
        "penalty validity end",
        None,
        Required,
        Date,
    ),
    f(
        "CF_GSJZQ",
        "公示截止期",
        "publication end date",
        None,
        Optional,
        Date,
    ),
    f(
        "CF_CFJG",
        "处罚机关",
        "penalising authority",
        Some(200),
        Required,
        Text,
    ),
    f(
        "CF_CFJGDM",
        "处罚机关统一社会信用代码",
        "penalising authority USCC",
        Some(18),
        Required,
        Code,
    ),
    f(
        "CF_SJLY",
        "数据来源单位",
        "data source unit",
        Some(200),
        Required,
        Text,
    ),
    f(
        "CF_SJLYDM",
        "数据来源单位统一社会信用代码",
        "data source unit USCC",
        Some(18),
        Required,
        Code,
    ),
    f("BZ", "备注", "remarks", Some(512), Optional, Text),
];

/// Column aliases seen in real feeds, mapped to the standard code. beidasoft's entity names
/// the licensing representative's ID number `XK_FR_SFZH` (§4.2 row 11).
pub const FIELD_ALIASES: [(&str, &str); 1] = [("XK_FR_SFZH", "XK_FR_ZJHM")];

/// Looks a column up in the licence table.
pub fn licence_field(code: &str) -> Option<&'static FieldSpec> {
    LICENCE_FIELDS.iter().find(|s| s.code == code)
}

/// Looks a column up in the penalty table.
pub fn penalty_field(code: &str) -> Option<&'static FieldSpec> {
    PENALTY_FIELDS.iter().find(|s| s.code == code)
}

/// The standard code for `code`, resolving known aliases.
pub fn canonical_code(code: &str) -> &str {
    FIELD_ALIASES
        .iter()
        .find(|(alias, _)| *alias == code)
        .map_or(code, |(_, std)| std)
}

/// The Chinese name of any licence or penalty column, for messages.
pub fn name_zh(code: &str) -> Option<&'static str> {
    licence_field(code)
        .or_else(|| penalty_field(code))
        .map(|s| s.name_zh)
}
