//! Which records the public view shows on a given day.
//!
//! Penalties are dishonesty information with a publication period (credit-data.md §5):
//! the period of the severity class the department states in BZ (`失信程度：一般`) under the
//! regime of the decision date, or the stated CF_GSJZQ when that ends earlier. A penalty
//! that states no class is treated as 一般, the class of ordinary penalty information; a
//! decision older than every regime gets the longest period any regime gives (3 years).
//! Licences carry no publication period. List entries are public while their listing
//! period runs; commitments only when their 公开类型 is 可向社会公开.

use chrono::NaiveDate;
use credx_protocol::period::{
    add_years_civil, publication_period, PeriodError, PeriodOptions, SeverityClass,
};
use credx_protocol::record::commitment::PublicationType;
use credx_protocol::record::list_entry::ListStatus;
use credx_protocol::record::{PenaltyRecord, Record};

/// How long a record is shown in the public view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicUntil {
    /// Through this day (inclusive).
    Until(NaiveDate),
    /// No end.
    Indefinite,
    /// Never public (sharing channel only).
    NotPublished,
}

impl PublicUntil {
    pub fn is_public_on(self, date: NaiveDate) -> bool {
        match self {
            PublicUntil::Until(end) => date <= end,
            PublicUntil::Indefinite => true,
            PublicUntil::NotPublished => false,
        }
    }

    pub fn end(self) -> Option<NaiveDate> {
        match self {
            PublicUntil::Until(end) => Some(end),
            _ => None,
        }
    }
}

/// The public-view period of a record.
pub fn public_until(record: &Record) -> PublicUntil {
    match record {
        Record::Licence(_) => PublicUntil::Indefinite,
        Record::Penalty(p) => penalty_public_until(p),
        Record::ListEntry(l) if l.status != ListStatus::Active => PublicUntil::NotPublished,
        Record::ListEntry(l) => l
            .valid_until
            .map_or(PublicUntil::Indefinite, |d| PublicUntil::Until(d.date())),
        Record::Commitment(c) if c.publication == PublicationType::Public => {
            PublicUntil::Indefinite
        }
        Record::Commitment(_) => PublicUntil::NotPublished,
    }
}

fn penalty_public_until(p: &PenaltyRecord) -> PublicUntil {
    let decision = p.decision_date.date();
    let stated = p.publication_end.map(|d| d.date());
    let class = p
        .remarks
        .as_deref()
        .and_then(severity_from_remarks)
        .unwrap_or(SeverityClass::General);
    let by_rule = match publication_period(decision, class, &PeriodOptions::default()) {
        Ok(period) => period.publication_end,
        // 轻微 under order No. 36 is not published unless the department chose to, which
        // it shows by stating CF_GSJZQ.
        Err(PeriodError::NotPublished { .. }) => {
            return stated.map_or(PublicUntil::NotPublished, PublicUntil::Until)
        }
        Err(PeriodError::NoRegime { .. }) => add_years_civil(decision, 3),
        Err(_) => None,
    };
    match (by_rule, stated) {
        (Some(rule), Some(stated)) => PublicUntil::Until(rule.min(stated)),
        (Some(end), None) | (None, Some(end)) => PublicUntil::Until(end),
        (None, None) => PublicUntil::Indefinite,
    }
}

/// The severity class a department states in BZ as `失信程度：一般` (also with an ASCII colon).
pub fn severity_from_remarks(remarks: &str) -> Option<SeverityClass> {
    let at = remarks.find("失信程度")?;
    let rest = remarks.get(at + "失信程度".len()..)?;
    let rest = rest.trim_start_matches([':', '：', ' ']);
    ["特定严重", "轻微", "一般", "严重"]
        .into_iter()
        .find(|c| rest.starts_with(c))
        .and_then(SeverityClass::from_chinese)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_is_read_from_remarks() {
        assert_eq!(
            severity_from_remarks("失信程度：一般"),
            Some(SeverityClass::General)
        );
        assert_eq!(
            severity_from_remarks("x; 失信程度:严重"),
            Some(SeverityClass::Serious)
        );
        assert_eq!(severity_from_remarks("无"), None);
    }
}
