//! Calendar helpers shared by the subcommands: today's date in China Standard Time, date
//! options, and spreadsheet serial dates. The tools crate deliberately has no time-zone
//! dependency: credx nodes run in China (UTC+8, no daylight saving).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use credx_protocol::record::RecordDate;

/// Parses a `YYYY-MM-DD` option value, naming the option when it is not a date.
pub fn parse_date_arg(flag: &str, text: &str) -> Result<RecordDate> {
    RecordDate::parse(text)
        .with_context(|| format!("{flag} {text}: expected a date such as 2026-11-22"))
}

/// Today's date in China Standard Time (UTC+8); `--today` options override it.
pub fn today_cst() -> Result<RecordDate> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before 1970")?
        .as_secs();
    let days = i64::try_from((secs + 8 * 3600) / 86_400).context("system clock out of range")?;
    let (y, m, d) = civil_from_days(days);
    parse_date_arg("system clock", &format!("{y:04}-{m:02}-{d:02}"))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
