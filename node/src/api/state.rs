//! `ApiState`: what every handler needs — the node's origin, its storage, the sequencer of
//! its own log, the department tokens, a clock, and for verification bundles the roster in
//! force and what bundle requests keep between them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use credx_protocol::ident::Jurisdiction;
use credx_storage::{Sequencer, SequencerConfig, Storage};

use super::bundle::BundleCache;
use super::error::ApiError;
use super::tokens::TokenStore;
use crate::sync::SharedRoster;

/// The time source. Tests and benchmarks may pin it; the daemon uses the system clock.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Offset of China Standard Time: "today" for decision dates and publication periods is
/// the date in China, not in UTC (a decision taken at 07:00 in Beijing is not in the future).
const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

/// Shared state of the department API (cheap to clone).
#[derive(Clone)]
pub struct ApiState {
    pub(crate) origin: Arc<str>,
    pub(crate) store: Arc<dyn Storage>,
    pub(crate) sequencer: Arc<Sequencer>,
    pub(crate) tokens: Arc<TokenStore>,
    pub(crate) clock: Clock,
    pub(crate) jurisdiction: Option<Jurisdiction>,
    pub(crate) max_submission: usize,
    /// The roster in force (the daemon's, updated by sync): whose cosignatures a verifier
    /// requires, and the signed roster every bundle carries. Without it no bundle is served.
    pub(crate) roster: Option<Arc<SharedRoster>>,
    pub(crate) bundles: Arc<BundleCache>,
    /// Serialises writes that read the business-key index and then append: two concurrent
    /// submissions of one business key must not both become "first publication", and an
    /// amendment must point at the entry that really is the latest.
    write_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("origin", &self.origin)
            .field("jurisdiction", &self.jurisdiction)
            .field("max_submission", &self.max_submission)
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// State for the node `origin` (its own log, sequenced by `sequencer`).
    pub fn new(
        origin: String,
        store: Arc<dyn Storage>,
        sequencer: Arc<Sequencer>,
        tokens: Arc<TokenStore>,
    ) -> ApiState {
        ApiState {
            origin: origin.into(),
            store,
            sequencer,
            tokens,
            clock: Arc::new(SystemTime::now),
            jurisdiction: None,
            max_submission: SequencerConfig::new("").max_batch_entries,
            roster: None,
            bundles: Arc::new(BundleCache::default()),
            write_lock: Arc::new(Mutex::new(())),
        }
    }

    /// Flags authority codes outside `jurisdiction` (validation rule E6, a warning).
    pub fn with_jurisdiction(mut self, jurisdiction: Jurisdiction) -> ApiState {
        self.jurisdiction = Some(jurisdiction);
        self
    }

    /// Most entries handed to the sequencer in one `submit_many`: set it to the
    /// sequencer's `max_batch_entries` (the default matches `SequencerConfig::new`). A batch
    /// that fits is submitted as one, so its entries get consecutive indexes in one append.
    pub fn with_max_submission(mut self, max_submission: usize) -> ApiState {
        self.max_submission = max_submission.max(1);
        self
    }

    /// The roster in force, for `GET /v1/subjects/{code}/bundle` (decision 0014).
    pub fn with_roster(mut self, roster: Arc<SharedRoster>) -> ApiState {
        self.roster = Some(roster);
        self
    }

    /// Replaces the clock (tests that need a fixed "today").
    pub fn with_clock(mut self, clock: Clock) -> ApiState {
        self.clock = clock;
        self
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    /// The current time in China Standard Time.
    pub(crate) fn now_china(&self) -> DateTime<FixedOffset> {
        let utc: DateTime<Utc> = self.now().into();
        match FixedOffset::east_opt(CHINA_OFFSET_SECONDS) {
            Some(offset) => utc.with_timezone(&offset),
            None => utc.fixed_offset(),
        }
    }

    /// Today's date in China.
    pub(crate) fn today(&self) -> NaiveDate {
        self.now_china().date_naive()
    }

    pub(crate) fn lock_writes(&self) -> Result<MutexGuard<'_, ()>, ApiError> {
        self.write_lock
            .lock()
            .map_err(|_| ApiError::Internal("the write lock is poisoned".into()))
    }
}
