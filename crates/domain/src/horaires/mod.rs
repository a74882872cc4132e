//! Opening hours of a lieu, in the OSM `opening_hours` format (the `horaires` field of the
//! national schema).
//!
//! Two readings of one string. The weekly table (`lecture`): days × spans and notes, what
//! Relais shows in French words (`in_words`), writes back in OSM (`to_osm`) and what the lieux
//! index tests (`is_open`, one weekday and minute for many lieux). The rules as the
//! `opening-hours` crate reads them (`calendrier_osm`): the whole grammar, evaluated at an
//! instant on the Paris wall clock with France's public holidays (`is_open_at`,
//! `next_change_after`).
//!
//! The table holds: rules separated by `;` (a later rule replaces what earlier rules said
//! about the days it names) or `,` (an additional rule, added to earlier ones); weekdays
//! `Mo`…`Su`, ranges `Mo-Fr`, wrapping ranges `Fr-Mo`, lists `Mo,We`; time ranges
//! `09:00-12:00,14:00-18:30`, ranges past midnight `22:00-02:00` (the part after midnight
//! belongs to the next day), `24:00`; `off`/`closed`/`open`/`unknown`; `24/7`; a rule without
//! days applies every day, a rule without times applies all day. Public and school holidays
//! (`PH`, `SH`) become notes in words, and are evaluated by the crate; comments in quotes are
//! kept as notes. Tolerated deviations: `9:00`, `9h`, `9h30`, `9H30`, spaces around `-`,
//! lower case or three-letter days (`mon`, `Sun`), a space instead of a comma between two
//! time ranges, an en dash, `Mo-Fr: 09:00-12:00`.
//!
//! Year, month, date and week selectors (`2024 Dec 25`, `Jan-Mar`, `week 1-53/2`), `Mo[1]`,
//! open ends `18:00+`, variable times (`sunset`) and fallback rules `||` are valid OSM that the
//! table cannot hold: such a string is kept as the crate writes it, shown as « horaires
//! particuliers : … », and evaluated by the crate (`is_particulier`). Refused with a reason:
//! what neither reads, e.g. free French text (`Du lundi au vendredi…`), which
//! [`french_text_to_osm`] converts to OSM in the regular cases.
//!
//! Times are minutes; an `off` rule with times closes only those times.

use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, Timelike};

use crate::calendrier::paris;

mod calendrier_osm;
mod lecture;
mod prose;

use calendrier_osm::Regles;
use lecture::evaluate;

pub use prose::french_text_to_osm;

const DAY: u16 = 1440;

/// A day of the week, Monday first (as in France and in OSM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Mo,
    Tu,
    We,
    Th,
    Fr,
    Sa,
    Su,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mo,
        Weekday::Tu,
        Weekday::We,
        Weekday::Th,
        Weekday::Fr,
        Weekday::Sa,
        Weekday::Su,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn osm(self) -> &'static str {
        ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"][self.index()]
    }

    pub fn french(self) -> &'static str {
        [
            "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        ][self.index()]
    }
}

/// An opening interval within one local day, in minutes since midnight: `start < end ≤ 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u16,
    pub end: u16,
}

/// Something the weekly table cannot express, kept for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A comment written in quotes, e.g. `"sur rendez-vous"`.
    Comment(String),
    /// A rule about public (`PH`) or school (`SH`) holidays, which the weekly table leaves
    /// out (the crate's evaluation at an instant applies it).
    Holidays {
        school: bool,
        closed: bool,
        rule: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Comment(text) => write!(f, "remarque : {text}"),
            Note::Holidays {
                school: false,
                closed: true,
                ..
            } => f.write_str("fermé les jours fériés"),
            Note::Holidays {
                school: true,
                closed: true,
                ..
            } => f.write_str("fermé pendant les vacances scolaires"),
            Note::Holidays {
                school: false,
                rule,
                ..
            } => write!(f, "horaires particuliers les jours fériés (« {rule} »)"),
            Note::Holidays {
                school: true, rule, ..
            } => write!(
                f,
                "horaires particuliers pendant les vacances scolaires (« {rule} »)"
            ),
        }
    }
}

/// What is wrong in a `horaires` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HorairesErrorKind {
    /// Nothing but spaces.
    Empty,
    /// `9x`, `14`, `9:5`: not a time.
    BadTime(String),
    /// `25:00`, `09:75`, or a range ending after 48:00.
    TimeOutOfRange(String),
    /// A start time with no end: `09:00`.
    MissingEnd(String),
    /// French prose rather than OSM, e.g. `Du lundi au vendredi de 9h à 12h`.
    FreeText(String),
    /// A word that is neither a day, a state nor a known selector.
    UnknownWord(String),
    /// A character that has no place in the format (`<`, `[`, `/`…).
    UnexpectedChar(String),
    /// An OSM construct that the weekly table does not hold, in a string the crate refuses
    /// too.
    Unsupported { what: Unsupported, piece: String },
    /// A piece in the wrong place; `expected` says what could come there.
    Unexpected {
        piece: String,
        expected: &'static str,
    },
    /// A `"` with no closing `"`.
    UnclosedComment,
}

/// OSM constructs that the weekly table does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    Year,
    Month,
    Week,
    NthWeekday,
    OpenEnd,
    VariableTime,
    Easter,
    Fallback,
}

impl Unsupported {
    fn describe(self) -> &'static str {
        match self {
            Unsupported::Year => "sélecteur d’année",
            Unsupported::Month => "sélecteur de mois ou de date",
            Unsupported::Week => "sélecteur de semaine",
            Unsupported::NthWeekday => "sélecteur de n-ième jour du mois",
            Unsupported::OpenEnd => "horaire sans fin (« + »)",
            Unsupported::VariableTime => "horaire lié au soleil",
            Unsupported::Easter => "date de Pâques",
            Unsupported::Fallback => "règle de repli « || » autre qu’un commentaire",
        }
    }
}

impl fmt::Display for HorairesErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HorairesErrorKind::*;
        let clip = |piece: &str| shorten(piece, 40);
        match self {
            Empty => f.write_str("aucune règle"),
            BadTime(p) => write!(f, "heure « {} » illisible (format attendu 09:00)", clip(p)),
            TimeOutOfRange(p) => write!(f, "heure « {} » hors de 00:00–24:00", clip(p)),
            MissingEnd(p) => write!(
                f,
                "plage « {} » sans heure de fin (format attendu 09:00-12:00)",
                clip(p)
            ),
            FreeText(p) => write!(
                f,
                "« {} » : texte libre, pas au format OSM (exemple attendu : Mo-Fr 09:00-12:00)",
                clip(p)
            ),
            UnknownWord(p) => write!(
                f,
                "mot « {} » inconnu (jours attendus : Mo, Tu, We, Th, Fr, Sa, Su)",
                clip(p)
            ),
            UnexpectedChar(p) => write!(f, "caractère « {p} » inattendu"),
            Unsupported { what, piece } => write!(
                f,
                "{} « {} » non pris en charge (seuls les jours de la semaine et les heures le sont)",
                what.describe(),
                clip(piece)
            ),
            Unexpected { piece, expected } => {
                write!(
                    f,
                    "« {} » inattendu ici ; attendu : {expected}",
                    clip(piece)
                )
            }
            UnclosedComment => f.write_str("commentaire sans guillemet fermant"),
        }
    }
}

/// A `horaires` string that could not be read: the string (shortened if long), the position
/// (in characters, from 0) of the faulty piece, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HorairesError {
    pub input: String,
    pub position: usize,
    pub kind: HorairesErrorKind,
}

impl fmt::Display for HorairesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "horaires « {} » : {}", self.input, self.kind)
    }
}

impl std::error::Error for HorairesError {}

/// Opening hours as a weekly table: for each weekday, sorted, disjoint, non-adjacent spans;
/// and the rules as the `opening-hours` crate evaluates them at an instant.
#[derive(Debug, Clone)]
pub struct Horaires {
    /// The spans of every day, Monday first.
    spans: Vec<Span>,
    /// The spans of day `d` are `spans[day_start[d]..day_start[d + 1]]`.
    day_start: [u16; 8],
    notes: Vec<Note>,
    /// The rules as the crate reads them (holidays and dates included). Read when parsed if
    /// opening depends on the date; otherwise read from the table on first use, since the
    /// crate's reading costs ~20 times the table's and the lieux index never needs it.
    regles: OnceLock<Regles>,
    /// The rules say more than the weekly table can (dates, weeks, sun…): the table is
    /// empty, and the words and the OSM written are the rules' own.
    particulier: bool,
    /// Whether opening depends on the date (holidays, particular rules), so that
    /// [`Horaires::is_open`] asks the crate rather than the table.
    dated: bool,
}

/// Same table, same notes, and for hours that depend on the date, same rules.
impl PartialEq for Horaires {
    fn eq(&self, other: &Horaires) -> bool {
        self.spans == other.spans
            && self.day_start == other.day_start
            && self.notes == other.notes
            && self.particulier == other.particulier
            && self.dated == other.dated
            && (!self.dated || self.regles.get() == other.regles.get())
    }
}

impl Eq for Horaires {}

impl Horaires {
    /// Parses an OSM `opening_hours` string (see the module documentation for the subset).
    pub fn parse(input: &str) -> Result<Horaires, HorairesError> {
        let fail = |start: usize, kind| HorairesError {
            input: shorten(input, 80),
            position: input[..start].chars().count(),
            kind,
        };
        let rules = lecture::rules(input).map_err(|(start, kind)| fail(start, kind));
        let rules = match rules {
            Ok(rules) if rules.is_empty() => return Err(fail(0, HorairesErrorKind::Empty)),
            Ok(rules) => rules,
            Err(HorairesError {
                kind: HorairesErrorKind::Unsupported { .. },
                ..
            }) if let Some(regles) = Regles::parse(input) => {
                // Valid OSM that the weekly table cannot hold: kept as written, evaluated by
                // the crate.
                let mut regles = regles;
                // The crate's writing must read back the same way (fuzzing found
                // `1950 mar` written `1950Mar`, which the weekly table misreads as an hour):
                // else the rules are kept as typed.
                if !matches!(
                    lecture::rules(&regles.osm),
                    Err((_, HorairesErrorKind::Unsupported { .. }))
                ) {
                    regles.osm = input.trim().to_string();
                }
                let mut horaires = evaluate(&[]);
                horaires.regles = OnceLock::from(regles);
                horaires.particulier = true;
                horaires.dated = true;
                return Ok(horaires);
            }
            Err(error) => return Err(error),
        };
        let mut horaires = evaluate(&rules);
        // The crate evaluates the table itself, which holds the tolerated deviations (`9h`)
        // fixed, unless holiday rules were written: those it reads from the input.
        let holidays = horaires
            .notes
            .iter()
            .any(|note| matches!(note, Note::Holidays { .. }));
        if let Some(regles) = holidays.then(|| Regles::parse(input)).flatten() {
            horaires.regles = OnceLock::from(regles);
            horaires.dated = true;
        }
        Ok(horaires)
    }

    /// The spans of one weekday, sorted.
    pub fn day(&self, day: Weekday) -> &[Span] {
        let d = day.index();
        &self.spans[self.day_start[d] as usize..self.day_start[d + 1] as usize]
    }

    /// Comments and ignored holiday rules, in the order written.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// Whether the lieu is open at this instant (Unix milliseconds), in Europe/Paris time,
    /// public holidays and dates included.
    pub fn is_open_at(&self, unix_ms: i64) -> bool {
        match self.regles() {
            Some(regles) => regles.is_open_at(unix_ms),
            None => self.is_open(LocalTime::paris(unix_ms)),
        }
    }

    /// Whether the lieu is open at this local time: to test many lieux at one instant (the
    /// lieux index), compute the `LocalTime` once. The weekly table answers, unless opening
    /// depends on the date (holidays, particular rules): then the crate does, at the instant.
    pub fn is_open(&self, at: LocalTime) -> bool {
        match self.regles.get() {
            Some(regles) if self.dated => regles.is_open_at(at.instant),
            _ => self
                .day(at.day)
                .iter()
                .any(|s| s.start <= at.minute && at.minute < s.end),
        }
    }

    /// Whether the lieu opens at some time on Saturday or Sunday.
    pub fn open_on_weekend(&self) -> bool {
        !self.day(Weekday::Sa).is_empty() || !self.day(Weekday::Su).is_empty()
    }

    /// Whether the rules say more than the weekly table can (dates, weeks, sun…), so that
    /// the table of [`Horaires::day`] is empty and the words show the OSM rules.
    pub fn is_particulier(&self) -> bool {
        self.particulier
    }

    /// The first instant after `unix_ms` (Unix milliseconds) at which the lieu opens or
    /// closes; `None` if that does not happen within a year and a month (always open, never
    /// open, or not before then).
    pub fn next_change_after(&self, unix_ms: i64) -> Option<i64> {
        self.regles()?.next_change_after(unix_ms)
    }

    /// The crate's rules, read from the weekly table on first use if not read when parsed.
    fn regles(&self) -> Option<&Regles> {
        if let Some(regles) = self.regles.get() {
            return Some(regles);
        }
        let regles = Regles::parse(&self.to_osm())?;
        Some(self.regles.get_or_init(|| regles))
    }

    /// A French description for people: one line per day or group of consecutive days with
    /// the same hours, then one line per note.
    /// E.g. `du lundi au vendredi : 9 h – 12 h et 14 h – 18 h 30`, `samedi : fermé`.
    pub fn in_words(&self) -> Vec<String> {
        if let Some(regles) = self.regles.get().filter(|_| self.particulier) {
            return vec![format!("horaires particuliers : {}", regles.osm)];
        }
        let mut lines = Vec::new();
        for (first, last) in self.groups() {
            let days = if first == 0 && last == 6 {
                "tous les jours".to_string()
            } else if first == last {
                Weekday::ALL[first].french().to_string()
            } else if last == first + 1 {
                format!(
                    "{} et {}",
                    Weekday::ALL[first].french(),
                    Weekday::ALL[last].french()
                )
            } else {
                format!(
                    "du {} au {}",
                    Weekday::ALL[first].french(),
                    Weekday::ALL[last].french()
                )
            };
            lines.push(format!(
                "{days} : {}",
                spans_in_words(self.day(Weekday::ALL[first]))
            ));
        }
        let mut seen = Vec::new();
        for note in &self.notes {
            let line = note.to_string();
            if !seen.contains(&line) {
                seen.push(line.clone());
                lines.push(line);
            }
        }
        lines
    }

    /// The weekly table written back in OSM, e.g. `Mo-Fr 09:00-12:00,14:00-18:30; Sa 09:00-12:00`,
    /// `Mo,We 10:00-12:00; Tu 14:00-16:00`
    /// (`off` if never open, `24/7` if always). Notes are not written.
    pub fn to_osm(&self) -> String {
        if let Some(regles) = self.regles.get().filter(|_| self.particulier) {
            return regles.osm.clone();
        }
        if self.spans.is_empty() {
            return "off".to_string();
        }
        if Weekday::ALL.iter().all(|&d| self.day(d) == [FULL_DAY]) {
            return "24/7".to_string();
        }
        // One rule per distinct set of spans, its days written as runs: `Mo-Tu,Th-Fr`.
        let mut rules = Vec::new();
        let mut done = [false; 7];
        for first in 0..7 {
            let spans = self.day(Weekday::ALL[first]);
            if done[first] || spans.is_empty() {
                continue;
            }
            let same: Vec<usize> = (first..7)
                .filter(|&d| self.day(Weekday::ALL[d]) == spans)
                .collect();
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for &d in &same {
                done[d] = true;
                match runs.last_mut() {
                    Some((_, last)) if *last + 1 == d => *last = d,
                    _ => runs.push((d, d)),
                }
            }
            let days: Vec<String> = runs
                .iter()
                .map(|&(a, b)| match a == b {
                    true => Weekday::ALL[a].osm().to_string(),
                    false => format!("{}-{}", Weekday::ALL[a].osm(), Weekday::ALL[b].osm()),
                })
                .collect();
            let times: Vec<String> = spans
                .iter()
                .map(|s| format!("{}-{}", hhmm(s.start), hhmm(s.end)))
                .collect();
            rules.push(format!("{} {}", days.join(","), times.join(",")));
        }
        rules.join("; ")
    }

    /// Runs of consecutive days (Monday to Sunday, no wrap) with the same spans, as
    /// (first, last) day indexes.
    fn groups(&self) -> Vec<(usize, usize)> {
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for d in 0..7 {
            match groups.last_mut() {
                Some((first, last))
                    if self.day(Weekday::ALL[*first]) == self.day(Weekday::ALL[d]) =>
                {
                    *last = d;
                }
                _ => groups.push((d, d)),
            }
        }
        groups
    }
}

const FULL_DAY: Span = Span { start: 0, end: DAY };

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn time_in_words(minutes: u16) -> String {
    match minutes % 60 {
        0 => format!("{} h", minutes / 60),
        m => format!("{} h {m:02}", minutes / 60),
    }
}

fn spans_in_words(spans: &[Span]) -> String {
    if spans.is_empty() {
        return "fermé".to_string();
    }
    if spans == [FULL_DAY] {
        return "24 h sur 24".to_string();
    }
    let parts: Vec<String> = spans
        .iter()
        .map(|s| format!("{} – {}", time_in_words(s.start), time_in_words(s.end)))
        .collect();
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} et {last}", rest.join(", ")),
        _ => parts.join(""),
    }
}

/// Text as shown in error messages: at most `max` characters, on one line.
fn shorten(input: &str, max: usize) -> String {
    let one_line: String = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    if one_line.chars().count() > max {
        let cut: String = one_line.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        one_line.to_string()
    }
}

/// An instant, with its weekday and minute of the day (0–1439) in Paris time: what the
/// weekly table needs, computed once for many lieux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub day: Weekday,
    pub minute: u16,
    /// The instant itself (Unix milliseconds), for rules that depend on the date.
    pub instant: i64,
}

impl LocalTime {
    /// The local time in Europe/Paris at this instant (Unix milliseconds).
    pub fn paris(unix_ms: i64) -> LocalTime {
        let local = paris(unix_ms);
        LocalTime {
            day: Weekday::ALL[local.weekday().num_days_from_monday() as usize],
            minute: (local.hour() * 60 + local.minute()) as u16,
            instant: unix_ms,
        }
    }
}
