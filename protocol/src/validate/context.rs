//! `ValidationContext`: what validation needs from outside the record.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;

use super::calendar::{WeekendsOnly, WorkingDays};
use crate::ident::{Jurisdiction, UsccPolicy};
use crate::record::BusinessKey;

/// Everything validation needs besides the record. The protocol crate never reads the
/// clock: `today` is supplied by the caller (the CLI uses the local date, tests fix it).
pub struct ValidationContext<'a> {
    /// Ingestion date: decision dates after it are rejected (E3); resident IDs are checked
    /// as of it (birth date not in the future).
    pub today: NaiveDate,
    /// The submitting node's area; authority codes registered outside it (and not in a
    /// parent area) are flagged (E6). `None` skips that check.
    pub submitting_jurisdiction: Option<Jurisdiction>,
    /// USCC allow-list and case policy (E2, E6).
    pub uscc_policy: UsccPolicy,
    /// Business keys already in the log; a record with a known key is an amendment (W2).
    pub known_business_keys: Option<&'a HashSet<BusinessKey>>,
    /// Date the record is published; with it, W1 flags reports later than 7 working days
    /// after the decision. `None` skips W1.
    pub publication_date: Option<NaiveDate>,
    /// Working-day calendar for W1. [`WeekendsOnly`] by default; the yearly holiday and
    /// make-up-day schedule is data the deployment must supply.
    pub working_days: &'a dyn WorkingDays,
}

static WEEKENDS_ONLY: WeekendsOnly = WeekendsOnly;

impl ValidationContext<'static> {
    /// A context with default policy, no jurisdiction, no known keys, no publication date
    /// and the weekends-only calendar.
    pub fn new(today: NaiveDate) -> Self {
        ValidationContext {
            today,
            submitting_jurisdiction: None,
            uscc_policy: UsccPolicy::default(),
            known_business_keys: None,
            publication_date: None,
            working_days: &WEEKENDS_ONLY,
        }
    }
}

impl<'a> ValidationContext<'a> {
    /// The same context with `keys` as the business keys already known: how a batch or an
    /// import file judges each record against the ones before it.
    pub fn with_known_business_keys<'b>(
        &self,
        keys: &'b HashSet<BusinessKey>,
    ) -> ValidationContext<'b>
    where
        'a: 'b,
    {
        ValidationContext {
            today: self.today,
            submitting_jurisdiction: self.submitting_jurisdiction,
            uscc_policy: self.uscc_policy.clone(),
            known_business_keys: Some(keys),
            publication_date: self.publication_date,
            working_days: self.working_days,
        }
    }
}

impl fmt::Debug for ValidationContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidationContext")
            .field("today", &self.today)
            .field("submitting_jurisdiction", &self.submitting_jurisdiction)
            .field("uscc_policy", &self.uscc_policy)
            .field(
                "known_business_keys",
                &self.known_business_keys.map(HashSet::len),
            )
            .field("publication_date", &self.publication_date)
            .finish_non_exhaustive()
    }
}
