//! The evaluation of opening hours at an instant, by the `opening-hours` crate: the whole OSM
//! grammar (dates, weeks, `PH`, `sunset`…), in Europe/Paris time, with France's public
//! holidays for `PH`.

use std::fmt;
use std::sync::{Arc, LazyLock};

use chrono_tz::Europe::Paris;
use chrono_tz::Tz;
use opening_hours::localization::{Country, TzLocation};
use opening_hours::{Context, OpeningHours};

use crate::calendrier::paris;

/// The rules of one `horaires` string as the crate reads them.
#[derive(Clone)]
pub(super) struct Regles {
    /// The crate's own writing of the rules (normalised OSM).
    pub(super) osm: String,
    rules: Arc<OpeningHours<TzLocation<Tz>>>,
}

/// Paris time and France's public holidays, loaded once.
static CONTEXT: LazyLock<Context<TzLocation<Tz>>> = LazyLock::new(|| {
    Context::default()
        .with_holidays(Country::FR.holidays())
        .with_locale(TzLocation::new(Paris))
});

/// A change of state is looked for this many times at most: the crate splits time where
/// rules or comments change, not only where opening does.
const MAX_STEPS: usize = 1000;

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
        self.rules.is_open(paris(unix_ms))
    }

    /// The first instant after `unix_ms` at which opening changes, if it ever does.
    pub(super) fn next_change_after(&self, unix_ms: i64) -> Option<i64> {
        let open = self.is_open_at(unix_ms);
        let mut at = paris(unix_ms);
        for _ in 0..MAX_STEPS {
            at = self.rules.next_change(at)?;
            if self.rules.is_open(at) != open {
                return Some(at.timestamp_millis());
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
