//! Records and the validation rule set (credit-data.md §4.5, samples §4.6, mutations §8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use credx_protocol::ident::{DivisionCode, Jurisdiction};
use credx_protocol::record::commitment::{CommitmentType, FulfillmentStatus, PublicationType};
use credx_protocol::record::enums::CreditSeverity;
use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure, Unit};
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::record::*;
use credx_protocol::validate::*;
use proptest::prelude::*;
use serde_json::{json, Value};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    d("2026-11-22")
}

fn samples() -> Vec<Value> {
    let text = include_str!("fixtures/records/samples.json");
    serde_json::from_str::<Value>(text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn licence() -> Value {
    samples()[0].clone()
}

fn penalty() -> Value {
    samples()[1].clone()
}

fn with(mut v: Value, changes: &[(&str, Value)]) -> Value {
    for (k, val) in changes {
        v[*k] = val.clone();
    }
    v
}

fn without(mut v: Value, keys: &[&str]) -> Value {
    for k in keys {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

fn run(v: &Value) -> Validated<Record> {
    run_ctx(v, &ValidationContext::new(today()))
}

fn run_ctx(v: &Value, ctx: &ValidationContext<'_>) -> Validated<Record> {
    validate_raw(&RawRecord::from_json(v).unwrap(), ctx)
}

fn has(v: &Validated<Record>, field: &str, rule: Rule, severity: Severity) -> bool {
    v.findings
        .iter()
        .any(|f| f.field.as_deref() == Some(field) && f.rule == rule && f.severity == severity)
}

#[track_caller]
fn expect(v: &Validated<Record>, field: &str, rule: Rule, severity: Severity) {
    assert!(
        has(v, field, rule, severity),
        "expected {field} {rule} {severity}; got {:#?}",
        v.findings
    );
    if severity == Severity::Reject {
        assert!(v.record.is_none());
    }
}

// ---- samples ------------------------------------------------------------------------

#[test]
fn section_4_6_samples_validate_without_rejects() {
    for s in samples() {
        let v = run(&s);
        assert!(!v.is_rejected(), "{:#?}", v.findings);
        assert!(v.findings.is_empty(), "{:#?}", v.findings);
        assert!(v.record.is_some());
    }
}

#[test]
fn sample_penalty_typed_values() {
    let Record::Penalty(p) = run(&penalty()).record.unwrap() else {
        panic!()
    };
    assert_eq!(p.fine, Some(AmountWan::parse("2").unwrap()));
    assert_eq!(p.fine.unwrap().micros(), 2_000_000);
    assert_eq!(p.kinds.to_string(), "警告;罚款");
    assert_eq!(p.decision_date.to_string(), "2026-05-11");
    assert_eq!(p.suspended_licence, None, "empty string is absent");
    let key = Record::Penalty(p.clone()).business_key().unwrap();
    assert_eq!(key.authority, "11420222PDY000132X");
    assert_eq!(key.document_no, "阳示罚〔2026〕45号");
    assert_eq!(
        Record::Penalty(p).subject_key().as_deref(),
        Some("93420222PDY0000366")
    );

    let Record::Licence(l) = run(&licence()).record.unwrap() else {
        panic!()
    };
    assert_eq!(l.licence_class, LicenceClass::General);
    assert_eq!(l.remarks, None);
    let key = Record::Licence(l).business_key().unwrap();
    assert_eq!(key.document_no, "冶示许字〔2026〕第18号|SL4202812026000018");
}

// ---- one test per rule --------------------------------------------------------------

#[test]
fn e1_required_field_missing() {
    let v = run(&without(penalty(), &["CF_WSH"]));
    expect(&v, "CF_WSH", Rule::E1, Severity::Reject);
}

#[test]
fn e1_natural_person_with_uscc() {
    let p = with(
        penalty(),
        &[
            ("CF_XDR_LB", json!("自然人")),
            ("CF_XDR_ZJLX", json!("01")),
            ("CF_XDR_ZJHM", json!("420222199801012465")),
            ("CF_FRDB", json!("")),
        ],
    );
    expect(&run(&p), "CF_XDR_SHXYM", Rule::E1, Severity::Reject);
}

#[test]
fn e1_natural_person_needs_id() {
    let p = with(
        without(penalty(), &["CF_XDR_SHXYM"]),
        &[("CF_XDR_LB", json!("01")), ("CF_FRDB", json!(""))],
    );
    let v = run(&p);
    expect(&v, "CF_XDR_ZJLX", Rule::E1, Severity::Reject);
    expect(&v, "CF_XDR_ZJHM", Rule::E1, Severity::Reject);
}

#[test]
fn e1_organisation_needs_legal_rep_and_code() {
    let v = run(&without(licence(), &["XK_FRDB", "XK_XDR_SHXYM"]));
    expect(&v, "XK_FRDB", Rule::E1, Severity::Reject);
    expect(&v, "XK_XDR_SHXYM", Rule::E1, Severity::Reject);
}

#[test]
fn e2_every_invalid_uscc_of_the_test_pack() {
    for bad in [
        "91420281PDY00001X1",
        "91420281PDY0000106",
        "91420281IDY00001X0",
        "91420281PDY00001X",
    ] {
        let v = run(&with(licence(), &[("XK_XDR_SHXYM", json!(bad))]));
        expect(&v, "XK_XDR_SHXYM", Rule::E2, Severity::Reject);
    }
}

#[test]
fn e2_normalisable_uscc_is_accepted_and_normalised() {
    for ok in ["91420281pdy00001x0", "９１４２０２８１PDY00001X0"] {
        let v = run(&with(licence(), &[("XK_XDR_SHXYM", json!(ok))]));
        let Some(Record::Licence(l)) = v.record else {
            panic!("{ok}: {:#?}", v.findings)
        };
        assert_eq!(l.uscc.as_deref(), Some("91420281PDY00001X0"));
    }
}

#[test]
fn e2_allow_listed_uscc_warns() {
    let v = run(&with(
        licence(),
        &[("XK_XDR_SHXYM", json!("91350100M0001TGQXM"))],
    ));
    expect(&v, "XK_XDR_SHXYM", Rule::E2, Severity::Warn);
    assert!(v.record.is_some());
}

fn person(id: &str) -> Value {
    with(
        without(penalty(), &["CF_XDR_SHXYM"]),
        &[
            ("CF_XDR_LB", json!("自然人")),
            ("CF_XDR_MC", json!("赵示例")),
            ("CF_XDR_ZJLX", json!("01")),
            ("CF_XDR_ZJHM", json!(id)),
            ("CF_FRDB", json!("")),
        ],
    )
}

#[test]
fn e2_invalid_resident_ids() {
    for bad in [
        "420281199902301231",
        "420281209912311237",
        "420281199603151230",
    ] {
        expect(
            &run(&person(bad)),
            "CF_XDR_ZJHM",
            Rule::E2,
            Severity::Reject,
        );
    }
    for ok in [
        "420281199603151237",
        "422327196005200313",
        "11010519491231002X",
    ] {
        assert!(!run(&person(ok)).is_rejected(), "{ok}");
    }
}

#[test]
fn e3_dates() {
    expect(
        &run(&with(penalty(), &[("CF_JDRQ", json!("2026-13-01"))])),
        "CF_JDRQ",
        Rule::E3,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_JDRQ", json!("2026-11-23"))])),
        "CF_JDRQ",
        Rule::E3,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_YXQ", json!("2026-05-10"))])),
        "CF_YXQ",
        Rule::E3,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_GSJZQ", json!("2026/05/10"))])),
        "CF_GSJZQ",
        Rule::E3,
        Severity::Reject,
    );
    expect(
        &run(&with(licence(), &[("XK_YXQZI", json!("20260301"))])),
        "XK_YXQZI",
        Rule::E3,
        Severity::Reject,
    );
    expect(
        &run(&with(licence(), &[("XK_YXQZ", json!("2026/03/01"))])),
        "XK_YXQZ",
        Rule::E3,
        Severity::Warn,
    );
    // Publication end beyond the 1-year maximum for 一般.
    expect(
        &run(&with(penalty(), &[("CF_GSJZQ", json!("2028-05-11"))])),
        "CF_GSJZQ",
        Rule::E3,
        Severity::Warn,
    );
    // Alternative layouts are accepted and stored as ISO.
    let v = run(&with(
        licence(),
        &[
            ("XK_JDRQ", json!("20260302")),
            ("XK_YXQZI", json!("2099/12/31")),
        ],
    ));
    let Some(Record::Licence(l)) = v.record else {
        panic!("{:#?}", v.findings)
    };
    assert_eq!(l.decision_date.to_string(), "2026-03-02");
    assert!(l.valid_to.is_long_term());
}

#[test]
fn e4_enumerations_lengths_unknown_fields() {
    expect(
        &run(&with(licence(), &[("XK_XKLB", json!("07"))])),
        "XK_XKLB",
        Rule::E4,
        Severity::Reject,
    );
    expect(
        &run(&with(licence(), &[("XK_ZT", json!("3"))])),
        "XK_ZT",
        Rule::E4,
        Severity::Reject,
    );
    expect(
        &run(&with(licence(), &[("XK_XDR_LB", json!("企业"))])),
        "XK_XDR_LB",
        Rule::E4,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_CFLB", json!("警告;拘役"))])),
        "CF_CFLB",
        Rule::E4,
        Severity::Reject,
    );
    expect(
        &run(&with(licence(), &[("XK_XDR_MC", json!("名".repeat(201)))])),
        "XK_XDR_MC",
        Rule::E4,
        Severity::Reject,
    );
    expect(
        &run(&with(licence(), &[("XK_FOO", json!("x"))])),
        "XK_FOO",
        Rule::E4,
        Severity::Warn,
    );
    expect(
        &run(&with(licence(), &[("XK_NR", json!(["a"]))])),
        "XK_NR",
        Rule::E4,
        Severity::Reject,
    );
    // Codes are accepted for names.
    let v = run(&with(
        licence(),
        &[("XK_XKLB", json!("04")), ("XK_XDR_LB", json!("02"))],
    ));
    assert!(!v.is_rejected(), "{:#?}", v.findings);
}

#[test]
fn e5_amounts() {
    expect(
        &run(&with(penalty(), &[("CF_NR_FK", json!(0))])),
        "CF_NR_FK",
        Rule::E5,
        Severity::Reject,
    );
    expect(
        &run(&without(penalty(), &["CF_NR_FK"])),
        "CF_NR_FK",
        Rule::E5,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_NR_FK", json!("0.0000001"))])),
        "CF_NR_FK",
        Rule::E5,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_NR_FK", json!("1000000000000"))])),
        "CF_NR_FK",
        Rule::E5,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_NR_FK", json!("-1"))])),
        "CF_NR_FK",
        Rule::E5,
        Severity::Reject,
    );
    expect(
        &run(&with(penalty(), &[("CF_NR_FK", json!(20000))])),
        "CF_NR_FK",
        Rule::E5,
        Severity::Warn,
    );
    let confiscation = with(penalty(), &[("CF_CFLB", json!("没收违法所得"))]);
    expect(
        &run(&without(confiscation.clone(), &["CF_NR_WFFF"])),
        "CF_NR_WFFF",
        Rule::E5,
        Severity::Reject,
    );
    expect(&run(&confiscation), "CF_NR_WFFF", Rule::E5, Severity::Warn);
    expect(
        &run(&with(penalty(), &[("CF_CFLB", json!("吊销许可证件"))])),
        "CF_NR_ZKDX",
        Rule::E5,
        Severity::Reject,
    );
}

#[test]
fn e6_authority_codes() {
    expect(
        &run(&with(
            penalty(),
            &[("CF_CFJGDM", json!("11420222PDY000132Y"))],
        )),
        "CF_CFJGDM",
        Rule::E6,
        Severity::Reject,
    );
    expect(
        &run(&with(
            licence(),
            &[("XK_LYDWDM", json!("00000000000000000X"))],
        )),
        "XK_LYDWDM",
        Rule::E6,
        Severity::Reject,
    );
    // 阳新 authority reported to a 青海 node: warn. To the 黄石 node (its parent): fine.
    let mut ctx = ValidationContext::new(today());
    ctx.submitting_jurisdiction = Some(Jurisdiction::of(DivisionCode::parse("630000").unwrap()));
    expect(
        &run_ctx(&penalty(), &ctx),
        "CF_CFJGDM",
        Rule::E6,
        Severity::Warn,
    );
    ctx.submitting_jurisdiction = Some(Jurisdiction::of(DivisionCode::parse("420200").unwrap()));
    assert!(run_ctx(&penalty(), &ctx).findings.is_empty());
    // A provincial (vertical) authority reporting to a county node: its parent, fine.
    ctx.submitting_jurisdiction = Some(Jurisdiction::of(DivisionCode::parse("420281").unwrap()));
    let v = run_ctx(
        &with(licence(), &[("XK_XKJGDM", json!("11420000PDY0001162"))]),
        &ctx,
    );
    assert!(v.findings.is_empty(), "{:#?}", v.findings);
}

#[test]
fn e7_invalid_status_needs_reason() {
    expect(
        &run(&with(licence(), &[("XK_ZT", json!("2"))])),
        "BZ",
        Rule::E7,
        Severity::Reject,
    );
    let v = run(&with(
        licence(),
        &[("XK_ZT", json!("无效")), ("BZ", json!("行政复议撤销"))],
    ));
    assert!(!v.is_rejected());
}

struct NoWorkingDays;
impl WorkingDays for NoWorkingDays {
    fn is_working_day(&self, _: NaiveDate) -> bool {
        false
    }
}

#[test]
fn w1_late_report() {
    let mut ctx = ValidationContext::new(today());
    // 2026-05-11 (Mon) + 7 working days = 2026-05-20 (Wed): on time; 05-21 late.
    ctx.publication_date = Some(d("2026-05-20"));
    assert!(run_ctx(&penalty(), &ctx).findings.is_empty());
    ctx.publication_date = Some(d("2026-05-21"));
    expect(
        &run_ctx(&penalty(), &ctx),
        "CF_JDRQ",
        Rule::W1,
        Severity::Warn,
    );
    let none = NoWorkingDays;
    ctx.working_days = &none;
    assert!(run_ctx(&penalty(), &ctx).findings.is_empty());
}

#[test]
fn w2_duplicate_business_key() {
    let mut known = HashSet::new();
    known.insert(BusinessKey::penalty(
        "11420222PDY000132X",
        "阳示罚〔2026〕45号",
    ));
    let mut ctx = ValidationContext::new(today());
    ctx.known_business_keys = Some(&known);
    let v = run_ctx(&penalty(), &ctx);
    expect(&v, "CF_WSH", Rule::W2, Severity::Warn);
    assert!(v.record.is_some());
    // Within one batch the second copy is the amendment.
    let items = vec![
        RawRecord::from_json(&penalty()),
        RawRecord::from_json(&penalty()),
    ];
    let out = validate_batch(&items, &ValidationContext::new(today()));
    assert!(out[0].findings.is_empty());
    assert_eq!(out[1].findings[0].rule, Rule::W2);
    assert_eq!(out[1].findings[0].record, 2);
}

#[test]
fn w3_natural_person_and_minor() {
    let v = run(&person("420281199603151237"));
    expect(&v, "CF_XDR_ZJHM", Rule::W3, Severity::Warn);
    assert!(v.record.is_some());
    assert_eq!(v.findings.len(), 1, "{:#?}", v.findings);
    let minor = run(&person("460202201403010669"));
    assert_eq!(
        minor.findings.iter().filter(|f| f.rule == Rule::W3).count(),
        2,
        "{:#?}",
        minor.findings
    );
}

#[test]
fn several_defects_are_all_reported() {
    let p = with(
        without(penalty(), &["CF_CFJG"]),
        &[
            ("CF_NR_FK", json!(0)),
            ("CF_JDRQ", json!("2027-01-01")),
            ("CF_CFJGDM", json!("11420222PDY000132Y")),
            ("CF_XDR_SHXYM", json!("91420281PDY00001X1")),
            ("CF_CFLB", json!("警告;罚款;吊销许可证件")),
        ],
    );
    let v = run(&p);
    for (field, rule) in [
        ("CF_CFJG", Rule::E1),
        ("CF_NR_FK", Rule::E5),
        ("CF_JDRQ", Rule::E3),
        ("CF_CFJGDM", Rule::E6),
        ("CF_XDR_SHXYM", Rule::E2),
        ("CF_NR_ZKDX", Rule::E5),
    ] {
        expect(&v, field, rule, Severity::Reject);
    }
}

#[test]
fn finding_message_names_field_in_chinese() {
    let v = run(&with(penalty(), &[("CF_NR_FK", json!(0))]));
    let f = &v.findings[0];
    assert_eq!(
        f.message,
        "CF_NR_FK (罚款金额（万元）): 处罚类别含罚款时罚款金额必须大于0"
    );
    assert_eq!(f.field_name_zh.as_deref(), Some("罚款金额（万元）"));
    assert!(f
        .to_string()
        .starts_with("record 0  CF_NR_FK  E5  reject  "));
}

// ---- field tables, amounts, dates ---------------------------------------------------

#[test]
fn field_tables_cover_the_standard() {
    use credx_protocol::record::fields::*;
    assert_eq!(LICENCE_FIELDS.len(), 28);
    assert_eq!(PENALTY_FIELDS.len(), 30);
    // Every column is a key of the typed JSON, and vice versa.
    let l = serde_json::to_value(licence_record()).unwrap();
    let keys: HashSet<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, LICENCE_FIELDS.iter().map(|f| f.code).collect());
    let p = serde_json::to_value(penalty_record()).unwrap();
    let keys: HashSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, PENALTY_FIELDS.iter().map(|f| f.code).collect());
}

#[test]
fn amounts_are_exact() {
    let a = |s: &str| AmountWan::parse(s);
    assert_eq!(a("0.2").unwrap().micros(), 200_000);
    assert_eq!(a("1e-6").unwrap().micros(), 1);
    assert_eq!(a("2.000000000").unwrap().to_string(), "2");
    assert_eq!(
        a("999999999999.999999").unwrap().to_string(),
        "999999999999.999999"
    );
    assert!(a("1000000000000").is_err());
    assert!(a("0.0000001").is_err());
    assert!(a("1,000").is_err());
    assert!(a("").is_err() && a(".").is_err() && a("e5").is_err());
}

#[test]
fn dates_parse_three_layouts() {
    for t in ["2026-03-02", "2026/03/02", "20260302", "2026/3/2"] {
        assert_eq!(RecordDate::parse(t).unwrap().to_string(), "2026-03-02");
    }
    assert!(RecordDate::parse("2026-02-30").is_err());
    assert!(RecordDate::parse("02/03/2026").is_err());
    assert_eq!(RecordDate::LONG_TERM.to_string(), "2099-12-31");
}

// ---- serde --------------------------------------------------------------------------

fn licence_record() -> LicenceRecord {
    match run(&licence()).record.unwrap() {
        Record::Licence(l) => l,
        _ => panic!(),
    }
}

fn penalty_record() -> PenaltyRecord {
    match run(&penalty()).record.unwrap() {
        Record::Penalty(p) => p,
        _ => panic!(),
    }
}

fn list_entry() -> ListEntry {
    ListEntry {
        kind: ListKind::SeriouslyDishonest,
        subject: ListSubject {
            name: "大冶市示例建材有限公司".into(),
            category: SubjectCategory::Organisation,
            code: "91420281PDY00001X0".into(),
        },
        determining_unit: Unit {
            name: "大冶市示例监管局".into(),
            uscc: "11420281PDY000052Q".into(),
        },
        basis: "《市场监督管理严重违法失信名单管理办法》第X条（示例）".into(),
        document_no: "冶示列〔2026〕1号".into(),
        reason: "示例".into(),
        listed_on: RecordDate::parse("2026-06-01").unwrap(),
        valid_until: Some(RecordDate::parse("2029-06-01").unwrap()),
        severity: Some(CreditSeverity::Serious),
        status: ListStatus::Active,
        removed_on: None,
        removal_reason: None,
        measures: vec![Measure {
            code: "M001".into(),
            text: "限制参与政府采购".into(),
            legal_basis: "示例".into(),
        }],
        remedy: "可在60日内申请行政复议".into(),
        source_unit: Unit {
            name: "大冶市示例监管局".into(),
            uscc: "11420281PDY000052Q".into(),
        },
    }
}

fn commitment() -> CreditCommitment {
    CreditCommitment {
        code: "42028120260301000001".into(),
        subject_name: "大冶市示例建材有限公司".into(),
        subject_category: SubjectCategory::Organisation,
        subject_code: "91420281PDY00001X0".into(),
        commitment_type: CommitmentType::CreditRepair,
        reason: "信用修复".into(),
        content: "示例".into(),
        breach_liability: "示例".into(),
        commitment_date: RecordDate::parse("2026-03-01").unwrap(),
        validity: None,
        fulfillment: FulfillmentStatus::PartlyFulfilled,
        unperformed_content: Some("示例".into()),
        liability_pursued: Some("示例".into()),
        fulfillment_date: None,
        confirm_unit: None,
        confirm_unit_code: None,
        acceptance_unit: "大冶市示例审批局".into(),
        acceptance_unit_code: "11420281PDY000052Q".into(),
        publication: PublicationType::Public,
        remarks: None,
    }
}

#[test]
fn typed_json_uses_standard_codes_and_round_trips() {
    let p = penalty_record();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["CF_NR_FK"], json!("2"));
    assert_eq!(v["CF_CFLB"], json!("警告;罚款"));
    assert_eq!(v["CF_XDR_LB"], json!("法人及非法人组织"));
    assert_eq!(v["CF_NR_ZKDX"], Value::Null);
    let back: PenaltyRecord = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, p);
    assert_eq!(serde_json::to_value(&back).unwrap(), v);

    // The §4.6 licence sample deserialises directly (its BZ "" becomes Some("")).
    let l: LicenceRecord = serde_json::from_value(licence()).unwrap();
    assert_eq!(l.document_no, "冶示许字〔2026〕第18号");
    let again = serde_json::to_value(&l).unwrap();
    for (k, val) in licence().as_object().unwrap() {
        assert_eq!(&again[k], val, "{k}");
    }
    // Non-canonical forms are refused by serde (lenient parsing is validation's job).
    assert!(serde_json::from_value::<PenaltyRecord>(with(
        v.clone(),
        &[("CF_NR_FK", json!("2.0"))]
    ))
    .is_err());
    assert!(
        serde_json::from_value::<PenaltyRecord>(with(v, &[("CF_JDRQ", json!("2026/05/11"))]))
            .is_err()
    );

    for r in [
        Record::ListEntry(list_entry()),
        Record::Commitment(commitment()),
    ] {
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Record>(&s).unwrap(), r);
    }
}

fn bincode_round_trip<T>(x: &T) -> Vec<u8>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(x, cfg).unwrap();
    let (back, used): (T, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(&back, x);
    assert_eq!(
        bincode::serde::encode_to_vec(&back, cfg).unwrap(),
        bytes,
        "one byte form"
    );
    bytes
}

#[test]
fn bincode_round_trips_every_typed_record() {
    bincode_round_trip(&licence_record());
    bincode_round_trip(&penalty_record());
    bincode_round_trip(&list_entry());
    bincode_round_trip(&commitment());
    for r in [
        Record::Licence(licence_record()),
        Record::Penalty(penalty_record()),
        Record::ListEntry(list_entry()),
        Record::Commitment(commitment()),
    ] {
        bincode_round_trip(&r);
    }
    let mut p = penalty_record();
    p.kinds = PenaltyKinds::parse("其他（责令改正）;没收违法所得、没收非法财物").unwrap();
    p.publication_end = None;
    p.fine = Some(AmountWan::parse("999999999999.999999").unwrap());
    bincode_round_trip(&p);
}

#[test]
fn a_maximal_valid_penalty_fits_one_log_entry() {
    use credx_protocol::record::fields::PENALTY_FIELDS;
    let mut v = penalty();
    for f in PENALTY_FIELDS.iter() {
        if let (Some(max), credx_protocol::record::fields::FieldType::Text) = (f.max_len, f.ty) {
            v[f.code] = json!("字".repeat(max));
        }
    }
    let r = run(&v);
    let Some(Record::Penalty(p)) = r.record else {
        panic!("{:#?}", r.findings)
    };
    let bytes = bincode_round_trip(&Record::Penalty(p));
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
}

#[test]
fn typed_checks_for_lists_and_commitments() {
    let ctx = ValidationContext::new(today());
    assert!(validate_list_entry(&list_entry(), &ctx).is_empty());
    let mut e = list_entry();
    e.status = ListStatus::Removed;
    let f = validate_list_entry(&e, &ctx);
    assert!(f.iter().any(|f| f.rule == Rule::E7));
    assert!(validate_commitment(&commitment(), &ctx).is_empty());
    let mut c = commitment();
    c.unperformed_content = None;
    c.acceptance_unit_code = "11420281PDY000052R".into();
    let f = validate_commitment(&c, &ctx);
    assert!(f
        .iter()
        .any(|f| f.rule == Rule::E1 && f.field.as_deref() == Some("unperformedCommitmentContent")));
    assert!(f.iter().any(|f| f.rule == Rule::E6));
}

// ---- raw input ----------------------------------------------------------------------

#[test]
fn raw_json_shapes() {
    let text = include_bytes!("fixtures/records/samples.json");
    assert_eq!(parse_json_records(text).unwrap().len(), 2);
    let one = serde_json::to_vec(&penalty()).unwrap();
    assert_eq!(parse_json_records(&one).unwrap().len(), 1);
    let lines = format!("\u{feff}{}\n{}\n", licence(), penalty());
    let recs = parse_json_records(lines.as_bytes()).unwrap();
    assert_eq!(recs[0].as_ref().unwrap().kind, RecordKind::Licence);
    assert_eq!(recs[1].as_ref().unwrap().kind, RecordKind::Penalty);
    let err = parse_json_records(b"[1, 2]").unwrap_err();
    assert_eq!(err.record, 1);
    let err = parse_json_records(b"{\"CF_WSH\":\n}").unwrap_err();
    assert_eq!(err.line, 2);
    let mixed = parse_json_records(br#"{"CF_WSH":"a","XK_WSH":"b"}"#).unwrap();
    assert!(mixed[0].is_err());
}

#[test]
fn raw_from_csv_like_fields() {
    let mut m = BTreeMap::new();
    m.insert("\u{feff}cf_wsh ".to_string(), "x".to_string());
    m.insert("CF_NR".to_string(), "  ".to_string());
    let r = RawRecord::from_fields(m).unwrap();
    assert_eq!(r.kind, RecordKind::Penalty);
    assert_eq!(r.get("CF_WSH"), Some("x"));
    assert_eq!(r.get("CF_NR"), None);
}

proptest! {
    #[test]
    fn validate_raw_never_panics(
        kind in prop_oneof![Just("XK_"), Just("CF_")],
        fields in proptest::collection::btree_map(
            prop_oneof![
                proptest::sample::select(credx_protocol::record::fields::LICENCE_FIELDS.iter().map(|f| f.code.to_string()).collect::<Vec<_>>()),
                proptest::sample::select(credx_protocol::record::fields::PENALTY_FIELDS.iter().map(|f| f.code.to_string()).collect::<Vec<_>>()),
                "[A-Z_]{1,12}",
            ],
            prop_oneof![
                ".{0,40}",
                "[0-9./e+-]{0,24}",
                "[0-9A-Z]{15,19}",
                proptest::sample::select(vec!["罚款".to_string(), "自然人".to_string(), "01".to_string(), "2".to_string(), "2026-05-11".to_string()]),
            ],
            0..40,
        ),
    ) {
        let mut fields = fields;
        fields.insert(format!("{kind}WSH"), "1".to_string());
        if let Ok(raw) = RawRecord::from_fields(fields) {
            let v = validate_raw(&raw, &ValidationContext::new(today()));
            prop_assert_eq!(v.record.is_none(), v.is_rejected());
        }
    }

    #[test]
    fn raw_json_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_json_records(&bytes);
    }

    #[test]
    fn raw_json_text_never_panics(text in "[\\[\\]{}\":,0-9a-zA-Z_ \n.-]{0,200}") {
        if let Ok(items) = parse_json_records(text.as_bytes()) {
            for raw in items.into_iter().flatten() {
                let _ = validate_raw(&raw, &ValidationContext::new(today()));
            }
        }
    }

    #[test]
    fn amount_display_parses_back(micros in -999_999_999_999_999_999i64..=999_999_999_999_999_999) {
        let a = AmountWan::from_micros(micros).unwrap();
        prop_assert_eq!(AmountWan::parse_canonical(&a.to_string()).unwrap(), a);
    }
}
