//! The one calendar of Relais: civil dates, the time in Europe/Paris, and how both are
//! written in French. Every instant is Unix milliseconds (as stored); every page shows it in
//! Paris time; a civil date typed in a form is stored as the milliseconds of its midnight UTC.

/// Milliseconds since the Unix epoch, now: the one place that reads the clock. Rules take the
/// instant as a parameter, so that tests can choose it.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Year, month (1–12), day (1–31) of a count of days since 1970-01-01
/// (H. Hinnant's civil-from-days algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The offset of Europe/Paris from UTC at this instant, in minutes: 60 in winter, 120 from
/// the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC (EU rule).
pub fn paris_offset_minutes(unix_ms: i64) -> i32 {
    let secs = unix_ms.div_euclid(1000);
    let (year, _, _) = civil_from_days(secs.div_euclid(86_400));
    let (summer_start, summer_end) = summer_time(year);
    if summer_start <= secs && secs < summer_end {
        120
    } else {
        60
    }
}

/// Start and end (Unix seconds) of summer time in `year`.
fn summer_time(year: i64) -> (i64, i64) {
    (
        last_sunday(year, 3) * 86_400 + 3600,
        last_sunday(year, 10) * 86_400 + 3600,
    )
}

/// The next change of Europe/Paris's offset strictly after `unix_ms`, in Unix milliseconds.
pub fn next_paris_offset_change(unix_ms: i64) -> i64 {
    let secs = unix_ms.div_euclid(1000);
    let (year, _, _) = civil_from_days(secs.div_euclid(86_400));
    let (start, end) = summer_time(year);
    let next = if secs < start {
        start
    } else if secs < end {
        end
    } else {
        summer_time(year + 1).0
    };
    next.saturating_mul(1000)
}

/// Days since 1970-01-01 of the last Sunday of a month with 31 days (March, October).
fn last_sunday(year: i64, month: u32) -> i64 {
    let day31 = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: (days + 4) mod 7 is 0 on Sundays.
    day31 - (day31 + 4).rem_euclid(7)
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's days-from-civil algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month, day and minute of the day in Europe/Paris at this instant.
pub fn paris_civil(unix_ms: i64) -> (i64, u32, u32, u32) {
    let local = unix_ms.div_euclid(60_000) + i64::from(paris_offset_minutes(unix_ms));
    let (y, m, d) = civil_from_days(local.div_euclid(1440));
    (y, m, d, local.rem_euclid(1440) as u32)
}

/// Days since 1970-01-01 of today's date in Europe/Paris.
pub fn paris_days(unix_ms: i64) -> i64 {
    (unix_ms.div_euclid(60_000) + i64::from(paris_offset_minutes(unix_ms))).div_euclid(1440)
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
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(last_sunday(2026, 3), days_from_civil(2026, 3, 29));
        assert_eq!(last_sunday(2026, 10), days_from_civil(2026, 10, 25));
        assert_eq!(last_sunday(2024, 3), days_from_civil(2024, 3, 31));
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
