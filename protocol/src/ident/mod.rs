//! Identifiers: USCC (GB 32100 + GB 11714), resident ID (GB 11643), GB/T 2260 division codes.
//!
//! Everything here is pure: the division table is embedded data, and rules that depend on
//! "today" take the date as an argument.

pub mod checksum;
pub mod division;
pub mod normalize;
pub mod resident_id;
pub mod uscc;

pub use division::{
    division_history, division_info, DivisionCode, DivisionError, DivisionInfo, DivisionLevel,
    DivisionStatus, Jurisdiction,
};
pub use normalize::normalize_code;
pub use resident_id::{Gender, ResidentId, ResidentIdError};
pub use uscc::{Uscc, UsccCheck, UsccError, UsccPolicy};
