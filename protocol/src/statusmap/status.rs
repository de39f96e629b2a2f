//! The value stored in the status map for one subject.
//!
//! A status is derived deterministically from log entries, and its hash is what the map
//! commits to, so it has exactly one byte form: [`SubjectStatus::encode`] refuses a status
//! that is not in canonical order (see [`SubjectStatus::normalize`]) and
//! [`SubjectStatus::decode`] refuses bytes that are not a canonical status.
//!
//! Time is not evaluated here: a listing carries its period and the verifier decides, on its
//! own date, whether it is in force ([`SubjectStatus::active_listings_on`]). That keeps the
//! map a function of the logs alone.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StatusMapError;
use crate::codec;
use crate::entry::{EntryRef, SubjectId};
use crate::merkle::Hash;

/// How many record references a status keeps (the most recent ones); older ones are counted
/// in [`SubjectStatus::total_records`] only, so a subject's value stays small however long
/// its history.
pub const MAX_STATUS_RECORDS: usize = 32;

/// Domain tag of [`SubjectStatus::value_hash`].
pub const VALUE_HASH_DOMAIN: &[u8] = b"credx/status/v1\n";

/// One list membership of the subject.
///
/// Field order matters: the derived `Ord` (entry first) is the canonical order of
/// [`SubjectStatus::listings`], and each entry makes at most one listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Listing {
    /// The list entry that put the subject on the list.
    pub entry: EntryRef,
    /// `seriously-dishonest`, `red-list`, `key-attention`, `dishonest-judgment-debtor`, ...
    pub list_kind: String,
    /// First day on the list.
    pub listed_on: NaiveDate,
    /// Last day on the list (inclusive); `None` = until removed by a later entry.
    pub valid_until: Option<NaiveDate>,
    /// Measure codes, sorted and distinct.
    pub measures: Vec<String>,
    /// An objection is pending on a list whose measures are suspended meanwhile.
    pub suspended: bool,
}

impl Listing {
    /// Whether `date` lies in the listing period (`listed_on ..= valid_until`).
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.listed_on <= date && self.valid_until.is_none_or(|until| date <= until)
    }

    /// Active on `date` and not suspended by a pending objection: its measures apply.
    pub fn is_in_force_on(&self, date: NaiveDate) -> bool {
        self.is_active_on(date) && !self.suspended
    }
}

/// A subject's current status, as committed in the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectStatus {
    pub subject: SubjectId,
    /// Current list memberships, sorted, distinct.
    pub listings: Vec<Listing>,
    /// Objection entries not yet decided, sorted, distinct.
    pub open_objections: Vec<EntryRef>,
    /// The most recent (at most [`MAX_STATUS_RECORDS`]) entries that shaped this status, in
    /// the order the derivation applied them, oldest first. Not sorted: that order is already
    /// deterministic (it is log replay order) and it is what says which ones are "recent".
    pub records: Vec<EntryRef>,
    /// How many entries have shaped this status in all (≥ `records.len()`).
    pub total_records: u64,
}

impl SubjectStatus {
    /// A subject with no listings, objections or records.
    pub fn new(subject: SubjectId) -> SubjectStatus {
        SubjectStatus {
            subject,
            listings: Vec::new(),
            open_objections: Vec::new(),
            records: Vec::new(),
            total_records: 0,
        }
    }

    /// Notes that `entry` shaped this status, forgetting the oldest reference beyond
    /// [`MAX_STATUS_RECORDS`].
    pub fn add_record(&mut self, entry: EntryRef) {
        self.total_records = self.total_records.saturating_add(1);
        self.records.push(entry);
        if self.records.len() > MAX_STATUS_RECORDS {
            let excess = self.records.len() - MAX_STATUS_RECORDS;
            self.records.drain(..excess);
        }
    }

    /// Puts listings, measures and objections into canonical order, dropping duplicates.
    pub fn normalize(&mut self) {
        for listing in &mut self.listings {
            listing.measures.sort();
            listing.measures.dedup();
        }
        self.listings.sort();
        self.listings.dedup();
        self.open_objections.sort();
        self.open_objections.dedup();
    }

    /// Whether the status is in the one form that may be encoded and hashed.
    pub fn check_canonical(&self) -> Result<(), StatusMapError> {
        fn strictly_increasing<T: Ord>(items: &[T]) -> bool {
            items.windows(2).all(|w| matches!(w, [a, b] if a < b))
        }
        if !strictly_increasing(&self.listings) {
            return Err(StatusMapError::NotCanonical(
                "listings not sorted and distinct",
            ));
        }
        if !self
            .listings
            .iter()
            .all(|l| strictly_increasing(&l.measures))
        {
            return Err(StatusMapError::NotCanonical(
                "measures not sorted and distinct",
            ));
        }
        if !strictly_increasing(&self.open_objections) {
            return Err(StatusMapError::NotCanonical(
                "open objections not sorted and distinct",
            ));
        }
        if self.records.len() > MAX_STATUS_RECORDS {
            return Err(StatusMapError::NotCanonical("more than 32 records kept"));
        }
        if self.total_records < self.records.len() as u64 {
            return Err(StatusMapError::NotCanonical(
                "total_records below the number of records kept",
            ));
        }
        Ok(())
    }

    /// Listings whose period contains `date` (suspended ones included: they are still
    /// listings; see [`Listing::is_in_force_on`]).
    pub fn active_listings_on(&self, date: NaiveDate) -> impl Iterator<Item = &Listing> + '_ {
        self.listings.iter().filter(move |l| l.is_active_on(date))
    }

    /// Canonical bytes (via [`crate::codec::encode_entry`]).
    pub fn encode(&self) -> Result<Vec<u8>, StatusMapError> {
        self.check_canonical()?;
        codec::encode_entry(self).map_err(|e| StatusMapError::Encode(e.to_string()))
    }

    /// Parses untrusted bytes: canonical encoding of a canonical status only.
    pub fn decode(bytes: &[u8]) -> Result<SubjectStatus, StatusMapError> {
        let status: SubjectStatus =
            codec::decode_entry(bytes).map_err(|e| StatusMapError::Decode(e.to_string()))?;
        status.check_canonical()?;
        Ok(status)
    }

    /// SHA-256([`VALUE_HASH_DOMAIN`] || canonical bytes): the value hash the map commits to.
    pub fn value_hash(&self) -> Result<Hash, StatusMapError> {
        let bytes = self.encode()?;
        let mut hasher = Sha256::new();
        hasher.update(VALUE_HASH_DOMAIN);
        hasher.update(&bytes);
        Ok(Hash(hasher.finalize().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64) -> EntryRef {
        EntryRef {
            origin: "credx.example/test".into(),
            index,
            leaf_hash: Hash([index as u8; 32]),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn sample() -> SubjectStatus {
        let mut s = SubjectStatus::new(SubjectId::Organisation("91350100M000100Y43".into()));
        s.listings.push(Listing {
            entry: entry(9),
            list_kind: "seriously-dishonest".into(),
            listed_on: date(2024, 3, 1),
            valid_until: Some(date(2027, 2, 28)),
            measures: vec!["M02".into(), "M01".into(), "M01".into()],
            suspended: false,
        });
        s.listings.push(Listing {
            entry: entry(3),
            list_kind: "red-list".into(),
            listed_on: date(2023, 1, 1),
            valid_until: None,
            measures: vec![],
            suspended: true,
        });
        s.open_objections = vec![entry(12), entry(11)];
        for i in 0..40 {
            s.add_record(entry(i));
        }
        s
    }

    #[test]
    fn encode_requires_canonical_order_and_round_trips() {
        let mut s = sample();
        assert!(matches!(s.encode(), Err(StatusMapError::NotCanonical(_))));
        s.normalize();
        let bytes = s.encode().unwrap();
        assert_eq!(SubjectStatus::decode(&bytes).unwrap(), s);
        assert_eq!(s.records.len(), MAX_STATUS_RECORDS);
        assert_eq!(s.total_records, 40);
        assert_eq!(s.records.first().unwrap().index, 8);
    }

    #[test]
    fn value_hash_is_domain_separated_and_order_independent_after_normalize() {
        let mut a = sample();
        a.normalize();
        let mut b = sample();
        b.listings.reverse();
        b.open_objections.reverse();
        b.normalize();
        assert_eq!(a.value_hash().unwrap(), b.value_hash().unwrap());
        let plain: [u8; 32] = Sha256::digest(a.encode().unwrap()).into();
        assert_ne!(a.value_hash().unwrap(), Hash(plain));
    }

    #[test]
    fn decode_rejects_non_canonical_status() {
        let mut s = sample();
        s.normalize();
        s.listings.reverse();
        let bytes = codec::encode_entry(&s).unwrap();
        assert!(matches!(
            SubjectStatus::decode(&bytes),
            Err(StatusMapError::NotCanonical(_))
        ));
    }

    #[test]
    fn periods_are_evaluated_on_the_callers_date() {
        let mut s = sample();
        s.normalize();
        let on = |d| s.active_listings_on(d).count();
        assert_eq!(on(date(2022, 12, 31)), 0);
        assert_eq!(on(date(2023, 1, 1)), 1);
        assert_eq!(on(date(2027, 2, 28)), 2);
        assert_eq!(on(date(2027, 3, 1)), 1);
        let in_force: Vec<_> = s
            .listings
            .iter()
            .filter(|l| l.is_in_force_on(date(2025, 1, 1)))
            .map(|l| l.list_kind.as_str())
            .collect();
        assert_eq!(in_force, vec!["seriously-dishonest"]);
    }
}
