//! The one calendar of Relais: civil dates, the time in Europe/Paris, and how both are
//! written in French. Every instant is Unix milliseconds (as stored); every page shows it in
//! Paris time; a civil date typed in a form is stored as the milliseconds of its midnight UTC.
//! The arithmetic is chrono's, the rules of Paris time chrono-tz's (the IANA database).

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeDelta, Timelike, Utc};
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;

/// Milliseconds since the Unix epoch, now: the one place that reads the clock. Rules take the
/// instant as a parameter, so that tests can choose it.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// 1970-01-01, day 0 of the counts of days below.
const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");

/// Year, month (1–12), day (1–31) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let date = EPOCH
        .checked_add_signed(TimeDelta::days(days))
        .expect("a date within chrono's range");
    (i64::from(date.year()), date.month(), date.day())
}

/// Days since 1970-01-01 of a civil date. A day past the month's end counts on into the next
/// month (31/02 is 03/03 or 02/03), so that callers can check a date by the round trip.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let first = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, 1))
        .expect("a year within chrono's range and a month in 1–12");
    (first - EPOCH).num_days() + i64::from(day) - 1
}

/// The instant as chrono reads it (clamped to chrono's range, far beyond any stored date).
fn utc(unix_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(unix_ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The instant in Europe/Paris (chrono-tz: the IANA rules, summer time included).
pub fn paris(unix_ms: i64) -> DateTime<Tz> {
    utc(unix_ms).with_timezone(&Paris)
}

/// The offset of Europe/Paris from UTC at this instant, in minutes: 60 in winter, 120 in
/// summer.
pub fn paris_offset_minutes(unix_ms: i64) -> i32 {
    paris(unix_ms).offset().fix().local_minus_utc() / 60
}

/// Year, month, day and minute of the day in Europe/Paris at this instant.
pub fn paris_civil(unix_ms: i64) -> (i64, u32, u32, u32) {
    let local = paris(unix_ms);
    (
        i64::from(local.year()),
        local.month(),
        local.day(),
        local.hour() * 60 + local.minute(),
    )
}

/// Days since 1970-01-01 of today's date in Europe/Paris.
pub fn paris_days(unix_ms: i64) -> i64 {
    (paris(unix_ms).date_naive() - EPOCH).num_days()
}

/// « 23/11/2026 », the date in Paris.
pub fn date_fr(unix_ms: i64) -> String {
    let (y, m, d, _) = paris_civil(unix_ms);
    format!("{d:02}/{m:02}/{y}")
}

/// « 23/11/2026 à 12 h 07 », Paris time.
pub fn date_heure_fr(unix_ms: i64) -> String {
    let (y, m, d, minute) = paris_civil(unix_ms);
    format!("{d:02}/{m:02}/{y} à {} h {:02}", minute / 60, minute % 60)
}

/// Unix milliseconds at midnight UTC of a `YYYY-MM-DD` date (the value of an
/// `<input type="date">`); `None` for anything else, 31/02 included.
pub fn parse_date_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let mut parts = s.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(year: i64, month: u32, day: u32, hour: i64, minute: i64) -> i64 {
        (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60) * 1000
    }

    #[test]
    fn paris_offset_follows_the_eu_rule() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC; 2024: from 31 March.
        assert_eq!(paris_offset_minutes(utc(2024, 3, 31, 0, 59)), 60);
        assert_eq!(paris_offset_minutes(utc(2024, 3, 31, 1, 0)), 120);
        let start = utc(2026, 3, 29, 1, 0);
        assert_eq!(paris_offset_minutes(start - 1), 60);
        assert_eq!(paris_offset_minutes(start), 120);
        let end = utc(2026, 10, 25, 1, 0);
        assert_eq!(paris_offset_minutes(end - 1), 120);
        assert_eq!(paris_offset_minutes(end), 60);
        assert_eq!(paris_offset_minutes(utc(2026, 1, 15, 12, 0)), 60);
        assert_eq!(paris_offset_minutes(utc(2026, 7, 14, 12, 0)), 120);
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 11, 23)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn dates_are_written_in_paris_time() {
        // 2026-11-23 11:07:00 UTC is 12 h 07 in Paris (winter); 23:30 UTC is already the 24th.
        assert_eq!(
            date_heure_fr(utc(2026, 11, 23, 11, 7)),
            "23/11/2026 à 12 h 07"
        );
        assert_eq!(date_fr(utc(2026, 11, 23, 23, 30)), "24/11/2026");
        assert_eq!(
            date_heure_fr(utc(2026, 7, 14, 22, 5)),
            "15/07/2026 à 0 h 05"
        );
    }

    #[test]
    fn form_dates_are_checked() {
        assert_eq!(parse_date_iso("2026-11-23"), Some(utc(2026, 11, 23, 0, 0)));
        assert_eq!(parse_date_iso(" 2024-02-29 "), Some(utc(2024, 2, 29, 0, 0)));
        assert_eq!(parse_date_iso("1970-01-01"), Some(0));
        assert_eq!(date_fr(parse_date_iso("2026-11-12").unwrap()), "12/11/2026");
        assert_eq!(date_fr(parse_date_iso("2024-02-29").unwrap()), "29/02/2024");
        for bad in [
            "2026-02-31",
            "2026-13-01",
            "2026-1-1",
            "23/11/2026",
            "",
            "2026-11-23x",
        ] {
            assert_eq!(parse_date_iso(bad), None, "{bad}");
        }
    }
}
