//! Period arithmetic under the Civil Code of the PRC (《中华人民共和国民法典》 Arts. 201–203).
//!
//! * Art. 201: for periods counted in years, months or days, the start day is not counted; the
//!   period starts on the next day.
//! * Art. 202: a period counted in months or years ends on the corresponding day of the final
//!   month; when that month has no such day, it ends on the last day of that month.
//! * Art. 203: when the last day is a statutory holiday, the period ends on the day after the
//!   holiday.
//!
//! **Holiday-extension choice.** Publication periods for credit information are applied as
//! calendar dates, per the usual practice of "信用中国" and the local credit portals (the
//! publication and repair rules count "自决定之日起" in calendar months). Art. 203 is therefore
//! *not* applied here: no holiday calendar is consulted, and the functions stay pure functions of
//! their inputs. Working-day deadlines (e.g. the 7-working-day 双公示 deadline) are a separate
//! concern and need a holiday calendar with 调休 make-up days.

use chrono::{Months, NaiveDate};

/// Last day of a period of `months` calendar months that starts after `start`
/// (民法典 Arts. 201–202).
///
/// The start day is not counted, and the period ends on the corresponding day of the final
/// month, or on that month's last day when it has no corresponding day:
///
/// * 2026-05-11 + 3 months → 2026-08-11
/// * 2026-11-30 + 3 months → 2027-02-28
/// * 2027-11-30 + 3 months → 2028-02-29 (leap year)
/// * 2026-01-31 + 1 month → 2026-02-28
///
/// `months == 0` returns `start`. Returns `None` only when the result lies outside chrono's
/// representable range. Holidays do not extend the period (see the module docs).
#[must_use]
pub const fn add_months_civil(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    // chrono's month addition keeps the day of month and clamps to the last day of a shorter
    // month, which is exactly the Art. 202 "corresponding day / last day of month" rule.
    start.checked_add_months(Months::new(months))
}

/// Last day of a period of `years` years that starts after `start` (民法典 Arts. 201–202).
///
/// Equivalent to `12 * years` months; a period starting on 29 February ends on 28 February
/// when the final year is not a leap year. Returns `None` on overflow.
#[must_use]
pub const fn add_years_civil(start: NaiveDate, years: u32) -> Option<NaiveDate> {
    match years.checked_mul(12) {
        Some(months) => add_months_civil(start, months),
        None => None,
    }
}

/// The day after `date` (the first day after a period whose last day is `date`).
/// Returns `None` at the end of chrono's range.
#[must_use]
pub const fn day_after(date: NaiveDate) -> Option<NaiveDate> {
    date.succ_opt()
}
