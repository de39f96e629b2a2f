//! Licence (行政许可, XK_*) validation: raw → [`LicenceRecord`].

use super::check::{Checker, Columns};
use super::context::ValidationContext;
use super::finding::{Rule, Validated};
use crate::record::enums::LicenceClass;
use crate::record::fields::LICENCE_FIELDS;
use crate::record::{BusinessKey, LicenceRecord, RawRecord};

pub(crate) static XK: Columns = Columns {
    table: &LICENCE_FIELDS,
    name: "XK_XDR_MC",
    category: "XK_XDR_LB",
    uscc: "XK_XDR_SHXYM",
    business_reg_no: "XK_XDR_GSZC",
    org_code: "XK_XDR_ZZJG",
    tax_reg_no: "XK_XDR_SWDJ",
    public_institution_no: "XK_XDR_SYDW",
    social_org_no: "XK_XDR_SHZZ",
    legal_rep: "XK_FRDB",
    rep_id_type: "XK_FR_ZJLX",
    rep_id_no: "XK_FR_ZJHM",
    id_type: "XK_XDR_ZJLX",
    id_no: "XK_XDR_ZJHM",
    document_no: "XK_WSH",
    decision_date: "XK_JDRQ",
    unit_codes: ["XK_XKJGDM", "XK_LYDWDM"],
};

/// Validates a raw licence record against every rule and, when nothing rejects it, builds
/// the typed record. A raw record of another kind is rejected (E1) without further checks.
pub fn validate_licence(raw: &RawRecord, ctx: &ValidationContext<'_>) -> Validated<LicenceRecord> {
    let mut ck = Checker::new(raw, ctx, &XK);
    if raw.kind != crate::record::RecordKind::Licence {
        ck.push(
            None,
            Rule::E1,
            super::Severity::Reject,
            format!(
                "expected a licence record (XK_ columns), found a {}",
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

    let licence_class = ck.enumerated(
        "XK_XKLB",
        LicenceClass::parse,
        "01 普通 / 02 特许 / 03 认可 / 04 核准 / 05 登记 / 06 其他",
    );
    if licence_class == Some(LicenceClass::Other) && ck.text("BZ").is_none() {
        ck.warn(
            "XK_XKLB",
            Rule::E4,
            "许可类别为“其他”时应在备注中注明具体类别",
        );
    }

    let decision = ck.decision_date();
    let valid_from = ck.date("XK_YXQZ");
    let valid_to = ck.date("XK_YXQZI");
    // A licence may take effect before the written decision only by exception: warn.
    ck.order(("XK_JDRQ", decision), ("XK_YXQZ", valid_from), true);
    ck.order(("XK_YXQZ", valid_from), ("XK_YXQZI", valid_to), false);

    let authority_code = ck.unit_code("XK_XKJGDM");
    let source_unit_code = ck.unit_code("XK_LYDWDM");
    let status = ck.status("XK_ZT");

    let document_no = ck.required_text("XK_WSH");
    let licence_no = ck.text("XK_XKBH");
    let key = authority_code
        .as_deref()
        .map(|a| BusinessKey::licence(a, &document_no, licence_no.as_deref()));
    ck.warnings(decision, key.as_ref(), &subject);

    if ck.has_reject() {
        return Validated {
            record: None,
            findings: ck.findings,
        };
    }
    // Every Option below is Some when no Reject was recorded (each None path rejects);
    // the let-else keeps that an invariant instead of an unwrap.
    let (
        Some(subject_name),
        Some(subject_category),
        Some(licence_class),
        Some(decision_date),
        Some(valid_from),
        Some(valid_to),
        Some(authority_code),
        Some(source_unit_code),
        Some(status),
    ) = (
        subject.name.clone(),
        subject.category,
        licence_class,
        decision,
        valid_from,
        valid_to,
        authority_code,
        source_unit_code,
        status,
    )
    else {
        ck.push(
            None,
            Rule::E1,
            super::Severity::Reject,
            "internal: a required value is missing without a finding",
        );
        return Validated {
            record: None,
            findings: ck.findings,
        };
    };
    let record = LicenceRecord {
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
        document_title: ck.required_text("XK_XKWS"),
        document_no,
        licence_class,
        certificate_name: ck.text("XK_XKZS"),
        licence_no,
        content: ck.required_text("XK_NR"),
        decision_date,
        valid_from,
        valid_to,
        authority: ck.required_text("XK_XKJG"),
        authority_code,
        status,
        source_unit: ck.required_text("XK_LYDW"),
        source_unit_code,
        remarks: ck.text("BZ"),
    };
    Validated {
        record: Some(record),
        findings: ck.findings,
    }
}
