//! The evaluation of opening hours at an instant, by the `opening-hours` crate: the whole OSM
//! grammar (dates, weeks, `PH`, `sunset`…), on the Paris wall clock, with France's public
//! holidays for `PH`.

use std::fmt;
use std::sync::{Arc, LazyLock};

use chrono::{LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;
use opening_hours::localization::{Coordinates, Country, Localize, TzLocation};
use opening_hours::{Context, DATE_END, OpeningHours};
use opening_hours_syntax::rules::time::TimeEvent;

use crate::calendrier::paris;

/// The rules of one `horaires` string as the crate reads them.
#[derive(Clone)]
pub(super) struct Regles {
    /// The crate's own writing of the rules (normalised OSM).
    pub(super) osm: String,
    rules: Arc<OpeningHours<MurDeParis>>,
}

/// Rules are read on the wall clock of Paris, as people read them: `Su 02:00-03:00` is open
/// twice over on the night summer time ends, as the weekly table always was. Sunrise and
/// sunset are those of the centre of metropolitan France: `Horaires` does not know where the
/// lieu is, and the centre is within half an hour of every mainland town.
#[derive(Clone)]
struct MurDeParis {
    soleil: TzLocation<Tz>,
}

impl Localize for MurDeParis {
    type DateTime = NaiveDateTime;

    fn naive(&self, dt: NaiveDateTime) -> NaiveDateTime {
        dt
    }

    fn datetime(&self, naive: NaiveDateTime) -> NaiveDateTime {
        naive
    }

    fn event_time(&self, date: NaiveDate, event: TimeEvent) -> Option<NaiveTime> {
        self.soleil.event_time(date, event)
    }
}

/// France's holidays and the sun of its centre, loaded once.
static CONTEXT: LazyLock<Context<MurDeParis>> = LazyLock::new(|| {
    let centre = Coordinates::new(46.5, 2.5).expect("valid coordinates");
    Context::default()
        .with_holidays(Country::FR.holidays())
        .with_locale(MurDeParis {
            soleil: TzLocation::new(Paris).with_coords(centre),
        })
});

/// How far ahead a change of opening is looked for: a year and a month.
const HORIZON_JOURS: i64 = 400;

/// A change of state is looked for this many times at most: the crate splits time where
/// rules or comments change, not only where opening does.
const MAX_STEPS: usize = 1000;

/// The Paris wall clock at this instant, within the years the crate evaluates (1900–9999).
fn wall_clock(unix_ms: i64) -> NaiveDateTime {
    let first = NaiveDate::from_ymd_opt(1900, 1, 2).expect("a valid date");
    let last = DATE_END.date() - TimeDelta::days(2);
    let bounds = [first, last].map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp_millis());
    paris(unix_ms.clamp(bounds[0], bounds[1])).naive_local()
}

/// The instant a wall-clock time shows, the first after `after` (the hour that summer time
/// ends shows twice); a time skipped when summer time starts is the instant of the jump.
fn instant(local: NaiveDateTime, after: i64) -> i64 {
    let mut local = local;
    loop {
        match Paris.from_local_datetime(&local) {
            LocalResult::Single(at) => return at.timestamp_millis(),
            LocalResult::Ambiguous(early, late) => {
                let early = early.timestamp_millis();
                return if early > after {
                    early
                } else {
                    late.timestamp_millis()
                };
            }
            LocalResult::None => local += TimeDelta::minutes(1),
        }
    }
}

impl Regles {
    /// The rules of `input`, or `None` if the crate refuses it.
    pub(super) fn parse(input: &str) -> Option<Regles> {
        let rules = input
            .parse::<OpeningHours>()
            .ok()?
            .with_context(CONTEXT.clone());
        Some(Regles {
            osm: rules.to_string(),
            rules: Arc::new(rules),
        })
    }

    /// Whether open at this instant (Unix milliseconds); `unknown` counts as closed.
    pub(super) fn is_open_at(&self, unix_ms: i64) -> bool {
        self.rules.is_open(wall_clock(unix_ms))
    }

    /// The first instant after `unix_ms` at which opening changes, if it does within
    /// [`HORIZON_JOURS`]: the crate's own `next_change` looks as far as year 9999, day by
    /// day for rules no day matches (fuzzing found one taking seconds).
    pub(super) fn next_change_after(&self, unix_ms: i64) -> Option<i64> {
        let open = self.is_open_at(unix_ms);
        let mut at = wall_clock(unix_ms);
        let limite = std::cmp::min(at + TimeDelta::days(HORIZON_JOURS), DATE_END);
        for _ in 0..MAX_STEPS {
            let interval = self.rules.iter_range(at, limite).next()?;
            if interval.range.end >= limite || interval.range.end <= at {
                return None;
            }
            at = interval.range.end;
            if self.rules.is_open(at) != open {
                return Some(instant(at, unix_ms));
            }
        }
        None
    }
}

impl fmt::Debug for Regles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.osm)
    }
}

/// Same rules, same writing.
impl PartialEq for Regles {
    fn eq(&self, other: &Regles) -> bool {
        self.osm == other.osm
    }
}

impl Eq for Regles {}
