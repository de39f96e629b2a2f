//! Working-day calendars for the 7-working-day publication rule (W1).
//!
//! The default counts Monday–Friday only. Real timeliness checks need the State Council's
//! yearly holiday schedule, including 调休 weekends that are working days; that schedule is
//! data to ship per year (credit-data.md §4.1, §9 item 5), supplied by implementing
//! [`WorkingDays`].

use chrono::{Datelike, NaiveDate, Weekday};

/// A working-day calendar.
pub trait WorkingDays {
    /// Whether `date` is a working day.
    fn is_working_day(&self, date: NaiveDate) -> bool;

    /// Working days after `from` up to and including `to` (0 when `to ≤ from`). Counting
    /// stops at `limit + 1`, which is all a threshold check needs and bounds the work.
    fn working_days_after(&self, from: NaiveDate, to: NaiveDate, limit: u32) -> u32 {
        let mut count = 0;
        let mut day = from;
        // At most ~10 years of days are walked even for a calendar with no working days.
        for _ in 0..3660 {
            if count > limit {
                break;
            }
            match day.succ_opt() {
                Some(next) if next <= to => day = next,
                _ => break,
            }
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }
}

/// Monday–Friday are working days; no holidays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WeekendsOnly;

impl WorkingDays for WeekendsOnly {
    fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }
}
