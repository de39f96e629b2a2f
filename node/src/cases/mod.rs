//! Joint reward/punishment cases (联合奖惩, credit-data.md §6.2–6.3) derived from log
//! entries.
//!
//! * [`catalogue`] — the measures catalogue (基础清单) by edition; initiation resolves every
//!   measure code against the edition it names.
//! * [`state`] — the case state as a pure fold over its entries from any origin, with
//!   per-target sub-states, objection suspension and lifting.
//! * [`load`] — reading a case's entries through the storage case index (own log,
//!   mirrors, received feed items).
//! * [`statistics`] — per responding department: acknowledgement in time, feedback rate,
//!   overdue count, lift confirmations, 7-working-day feedback timeliness.
//! * [`names`] — JSON names of the protocol's case enums.
//!
//! Nothing here is stored beside the log: a case is whatever its entries say.

pub mod catalogue;
pub mod load;
pub mod names;
pub mod state;
pub mod statistics;

pub use catalogue::{Catalogue, CatalogueError};
pub use load::{load_case, load_inputs, LoadError};
pub use state::{fold, CaseEntry, CaseInputs, CaseState, CaseStatus, TargetPhase, TargetState};
pub use statistics::{statistics, CaseStatistics};
