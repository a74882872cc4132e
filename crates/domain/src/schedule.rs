//! Cron-like schedules for recurring jobs: five fields (minute, hour, day of month, month,
//! day of week), evaluated in UTC. Each field takes `*`, `n`, `a-b`, `*/s`, `a-b/s` and lists
//! of these separated by commas. When both day fields are restricted, a day matches if
//! either does (as in cron).

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "la planification « {0} » doit compter 5 champs : minute heure jour mois jour-de-semaine"
    )]
    FieldCount(String),
    #[error(
        "le champ {field} de la planification contient « {value} », hors de {min}–{max} ou mal formé"
    )]
    Field {
        field: &'static str,
        value: String,
        min: u32,
        max: u32,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub struct Schedule {
    source: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    days_restricted: bool,
    weekdays_restricted: bool,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({})", self.source)
    }
}

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("heure", 0, 23),
    ("jour", 1, 31),
    ("mois", 1, 12),
    ("jour de semaine", 0, 7),
];

impl Schedule {
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        let parts: Vec<&str> = spec.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(ScheduleError::FieldCount(spec.to_string()));
        }
        let mut sets = [0u64; 5];
        for (i, part) in parts.iter().enumerate() {
            let (name, min, max) = FIELDS[i];
            sets[i] = parse_field(part, min, max).ok_or_else(|| ScheduleError::Field {
                field: name,
                value: part.to_string(),
                min,
                max,
            })?;
        }
        // Sunday is both 0 and 7.
        let mut weekdays = sets[4];
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Self {
            source: parts.join(" "),
            minutes: sets[0],
            hours: sets[1],
            days: sets[2],
            months: sets[3],
            weekdays: weekdays & 0x7f,
            days_restricted: parts[2] != "*",
            weekdays_restricted: parts[4] != "*",
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The first time strictly after `after` (Unix seconds, UTC) that matches, on a
    /// minute boundary; `None` if nothing matches within eight years (e.g. "31 2 …").
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let mut t = utc_minute((after.div_euclid(60) + 1) * 60)?;
        let limit = t + TimeDelta::days(8 * 366);
        while t <= limit {
            if !bit(self.months, t.month()) || !self.day_matches(t.date()) {
                t = t.date().succ_opt()?.and_hms_opt(0, 0, 0)?;
            } else if !bit(self.hours, t.hour()) {
                t = t.date().and_hms_opt(t.hour(), 0, 0)? + TimeDelta::hours(1);
            } else if !bit(self.minutes, t.minute()) {
                t += TimeDelta::minutes(1);
            } else {
                return Some(t.and_utc().timestamp());
            }
        }
        None
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let by_day = bit(self.days, date.day());
        let by_weekday = bit(self.weekdays, date.weekday().num_days_from_sunday());
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => by_day || by_weekday,
            _ => by_day && by_weekday,
        }
    }
}

/// The UTC date and time of a Unix second (`None` beyond chrono's range, far past any job).
fn utc_minute(unix_seconds: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(unix_seconds, 0).map(|t| t.naive_utc())
}

fn bit(set: u64, n: u32) -> bool {
    set & (1 << n) != 0
}

fn parse_field(field: &str, min: u32, max: u32) -> Option<u64> {
    let mut set = 0u64;
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let n: u32 = range.parse().ok()?;
            (n, if item.contains('/') { max } else { n })
        };
        if lo < min || hi > max || lo > hi {
            return None;
        }
        for n in (lo..=hi).step_by(step as usize) {
            set |= 1 << n;
        }
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // 2026-11-23 10:17:30 UTC, a Monday.
    const T: i64 = 1_795_429_050;

    #[test]
    fn civil_dates() {
        use crate::calendrier::civil_from_days;
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(T / 86_400), (2026, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(utc_minute(T).unwrap().weekday(), chrono::Weekday::Mon);
    }

    #[test]
    fn common_schedules() {
        let every_minute = Schedule::parse("* * * * *").unwrap();
        assert_eq!(every_minute.next_after(T), Some(T - 30 + 60));
        let nightly = Schedule::parse("30 3 * * *").unwrap();
        // Next 03:30 is on 2026-11-24.
        assert_eq!(
            nightly.next_after(T),
            Some((T / 86_400 + 1) * 86_400 + 3 * 3600 + 1800)
        );
        let sundays = Schedule::parse("0 0 * * 7").unwrap();
        let next = sundays.next_after(T).unwrap();
        assert_eq!((next / 86_400 + 4) % 7, 0);
        assert!(next - T < 7 * 86_400);
        let quarter = Schedule::parse("*/15 8-18 * * 1-5").unwrap();
        assert_eq!(quarter.next_after(T), Some(T - 30 - 120 + 15 * 60));
        assert_eq!(Schedule::parse("0 0 31 2 *").unwrap().next_after(T), None);
    }

    #[test]
    fn bad_schedules_are_refused() {
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "*/0 * * * *",
            "5-2 * * * *",
            "a * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    fn matches(s: &Schedule, t: i64) -> bool {
        let t = utc_minute(t).unwrap();
        bit(s.months, t.month())
            && s.day_matches(t.date())
            && bit(s.hours, t.hour())
            && bit(s.minutes, t.minute())
    }

    proptest! {
        #[test]
        fn next_is_the_first_match(
            minute in prop::sample::select(vec!["*", "0", "*/7", "5,35", "10-20"]),
            hour in prop::sample::select(vec!["*", "3", "*/5", "22-23"]),
            day in prop::sample::select(vec!["*", "1", "15", "28-31"]),
            weekday in prop::sample::select(vec!["*", "0", "1-5", "6"]),
            after in 0i64..2_000_000_000,
        ) {
            let s = Schedule::parse(&format!("{minute} {hour} {day} * {weekday}")).unwrap();
            let next = s.next_after(after).unwrap();
            prop_assert!(next > after && next % 60 == 0);
            prop_assert!(matches(&s, next));
            // No earlier minute matches (checked over at most two days back).
            let mut t = next - 60;
            while t > after && t > next - 2 * 86_400 {
                prop_assert!(!matches(&s, t), "earlier match at {}", t);
                t -= 60;
            }
        }
    }
}
