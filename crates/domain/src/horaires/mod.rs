//! Opening hours of a lieu, in the OSM `opening_hours` format (the `horaires` field of the
//! national schema), parsed once into a weekly table evaluated in Europe/Paris time.
//!
//! Supported: rules separated by `;` (a later rule replaces what earlier rules said about the
//! days it names) or `,` (an additional rule, added to earlier ones); weekdays `Mo`…`Su`,
//! ranges `Mo-Fr`, wrapping ranges `Fr-Mo`, lists `Mo,We`; time ranges `09:00-12:00,14:00-18:30`,
//! ranges past midnight `22:00-02:00` (the part after midnight belongs to the next day),
//! `24:00`; `off`/`closed`/`open`/`unknown`; `24/7`; a rule without days applies every day,
//! a rule without times applies all day. Public and school holidays (`PH`, `SH`) are
//! accepted and ignored with a note, since we do not know their dates; comments in quotes are
//! kept as notes. Tolerated deviations: `9:00`, `9h`, `9h30`, `9H30`, spaces around `-`,
//! lower case or three-letter days (`mon`, `Sun`), a space instead of a comma between two
//! time ranges, an en dash, `Mo-Fr: 09:00-12:00`.
//!
//! Refused with a reason: year, month, date and week selectors (`2024 Dec 25`, `Jan-Mar`,
//! `week 1-53/2`), `Mo[1]`, open ends `18:00+`, variable times (`sunset`), fallback rules
//! `||` other than a bare comment, and free French text (`Du lundi au vendredi…`).
//!
//! Times are minutes; an `off` rule with times closes only those times.
//!
//! Producers that write French prose (`Du lundi au vendredi de 9h à 12h`) are served by
//! [`french_text_to_osm`], which converts the regular cases to OSM and leaves the rest.

use std::fmt;

use chrono::{Datelike, Timelike};

use crate::calendrier::paris;

mod calendrier_osm;
mod prose;

use calendrier_osm::Regles;

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
    /// A rule about public (`PH`) or school (`SH`) holidays, ignored by the evaluation.
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
    /// A valid OSM construct that this subset does not evaluate.
    Unsupported { what: Unsupported, piece: String },
    /// A piece in the wrong place; `expected` says what could come there.
    Unexpected {
        piece: String,
        expected: &'static str,
    },
    /// A `"` with no closing `"`.
    UnclosedComment,
}

/// OSM constructs refused on purpose.
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

/// Opening hours as a weekly table: for each weekday, sorted, disjoint, non-adjacent spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Horaires {
    /// The spans of every day, Monday first.
    spans: Vec<Span>,
    /// The spans of day `d` are `spans[day_start[d]..day_start[d + 1]]`.
    day_start: [u16; 8],
    notes: Vec<Note>,
    /// The rules as the `opening-hours` crate evaluates them at an instant (holidays and
    /// dates included); always set once parsed.
    regles: Option<Regles>,
    /// The rules say more than the weekly table can (dates, weeks, sun…): the table is
    /// empty, and the words and the OSM written are the rules' own.
    particulier: bool,
}

impl Horaires {
    /// Parses an OSM `opening_hours` string (see the module documentation for the subset).
    pub fn parse(input: &str) -> Result<Horaires, HorairesError> {
        let fail = |start: usize, kind| HorairesError {
            input: shorten(input, 80),
            position: input[..start].chars().count(),
            kind,
        };
        let rules = tokenize(input)
            .and_then(|tokens| {
                Parser {
                    input,
                    tokens: &tokens,
                    next: 0,
                }
                .rules()
            })
            .map_err(|(start, kind)| fail(start, kind));
        let rules = match rules {
            Ok(rules) if rules.is_empty() => return Err(fail(0, HorairesErrorKind::Empty)),
            Ok(rules) => rules,
            Err(HorairesError {
                kind: HorairesErrorKind::Unsupported { .. },
                ..
            }) if let Some(regles) = Regles::parse(input) => {
                // Valid OSM that the weekly table cannot hold: kept as written, evaluated by
                // the crate.
                let mut horaires = evaluate(&[]);
                horaires.regles = Some(regles);
                horaires.particulier = true;
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
        horaires.regles = holidays
            .then(|| Regles::parse(input))
            .flatten()
            .or_else(|| Regles::parse(&horaires.to_osm()));
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
        match &self.regles {
            Some(regles) => regles.is_open_at(unix_ms),
            None => self.is_open(LocalTime::paris(unix_ms)),
        }
    }

    /// Whether the weekly table is open at this local time: to test many lieux at one instant
    /// (the lieux index), compute the `LocalTime` once. Holidays and dates are not seen here:
    /// [`Horaires::is_open_at`] sees them.
    pub fn is_open(&self, at: LocalTime) -> bool {
        self.day(at.day)
            .iter()
            .any(|s| s.start <= at.minute && at.minute < s.end)
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
    /// closes; `None` if that never happens (always open or never open).
    pub fn next_change_after(&self, unix_ms: i64) -> Option<i64> {
        self.regles.as_ref()?.next_change_after(unix_ms)
    }

    /// A French description for people: one line per day or group of consecutive days with
    /// the same hours, then one line per note.
    /// E.g. `du lundi au vendredi : 9 h – 12 h et 14 h – 18 h 30`, `samedi : fermé`.
    pub fn in_words(&self) -> Vec<String> {
        if let Some(regles) = self.regles.as_ref().filter(|_| self.particulier) {
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
        if let Some(regles) = self.regles.as_ref().filter(|_| self.particulier) {
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

/// A weekday and a minute of the day (0–1439), in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub day: Weekday,
    pub minute: u16,
}

impl LocalTime {
    /// The local time in Europe/Paris at this instant (Unix milliseconds).
    pub fn paris(unix_ms: i64) -> LocalTime {
        let local = paris(unix_ms);
        LocalTime {
            day: Weekday::ALL[local.weekday().num_days_from_monday() as usize],
            minute: (local.hour() * 60 + local.minute()) as u16,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tokens.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Day(Weekday),
    Holiday {
        school: bool,
    },
    /// Minutes, up to 48:00.
    Time(u16),
    Dash,
    Comma,
    Semicolon,
    Colon,
    Fallback,
    Plus,
    AllWeek,
    Open,
    Closed,
    Unknown,
    Comment(String),
}

/// A token with the byte range of its text.
#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

type Failure = (usize, HorairesErrorKind);

fn tokenize(input: &str) -> Result<Vec<Token>, Failure> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let tok = if c.is_ascii_digit() {
            let end = run_end(input, start, |c| {
                c.is_alphanumeric() || c == ':' || c == '/'
            });
            while chars.peek().is_some_and(|&(i, _)| i < end) {
                chars.next();
            }
            number(&input[start..end]).map_err(|kind| (start, kind))?
        } else if c.is_alphabetic() {
            let end = run_end(input, start, char::is_alphabetic);
            while chars.peek().is_some_and(|&(i, _)| i < end) {
                chars.next();
            }
            word(&input[start..end]).map_err(|kind| (start, kind))?
        } else if c == '"' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, c)) => text.push(c),
                    None => return Err((start, HorairesErrorKind::UnclosedComment)),
                }
            }
            let end = chars.peek().map_or(input.len(), |&(i, _)| i);
            tokens.push(Token {
                tok: Tok::Comment(text.trim().to_string()),
                start,
                end,
            });
            continue;
        } else {
            chars.next();

            match c {
                '-' | '–' => Tok::Dash,
                ',' => Tok::Comma,
                ';' => Tok::Semicolon,
                ':' => Tok::Colon,
                '+' => Tok::Plus,
                '|' if chars.peek().is_some_and(|&(_, c)| c == '|') => {
                    chars.next();
                    Tok::Fallback
                }
                '[' => {
                    return Err((
                        start,
                        HorairesErrorKind::Unsupported {
                            what: Unsupported::NthWeekday,
                            piece: bracket_piece(input, start),
                        },
                    ));
                }
                _ => return Err((start, HorairesErrorKind::UnexpectedChar(c.to_string()))),
            }
        };
        let end = chars.peek().map_or(input.len(), |&(i, _)| i);
        tokens.push(Token { tok, start, end });
    }
    Ok(tokens)
}

/// The byte index where a run of characters satisfying `keep` starting at `start` ends.
fn run_end(input: &str, start: usize, keep: impl Fn(char) -> bool) -> usize {
    input[start..]
        .char_indices()
        .find(|&(_, c)| !keep(c))
        .map_or(input.len(), |(i, _)| start + i)
}

fn bracket_piece(input: &str, start: usize) -> String {
    let rest = &input[start..];
    match rest.find(']') {
        Some(i) => rest[..=i].to_string(),
        None => rest.chars().take(10).collect(),
    }
}

/// A run starting with a digit: `09:00`, `9h30`, `14H`, `24/7`, or a year.
fn number(piece: &str) -> Result<Tok, HorairesErrorKind> {
    if piece == "24/7" {
        return Ok(Tok::AllWeek);
    }
    let bad = || HorairesErrorKind::BadTime(piece.to_string());
    let digits = piece.chars().take_while(char::is_ascii_digit).count();
    if digits == 4 && piece.len() == 4 {
        return Err(HorairesErrorKind::Unsupported {
            what: Unsupported::Year,
            piece: piece.to_string(),
        });
    }
    if digits > 2 {
        return Err(bad());
    }
    let hours: u16 = piece[..digits].parse().map_err(|_| bad())?;
    let rest = &piece[digits..];
    let minutes = if let Some(m) = rest.strip_prefix(':') {
        m
    } else if let Some(m) = rest.strip_prefix(['h', 'H']) {
        if m.is_empty() { "00" } else { m }
    } else {
        return Err(bad());
    };
    if minutes.len() != 2 || !minutes.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes >= 60 || hours > 48 || (hours == 48 && minutes > 0) {
        return Err(HorairesErrorKind::TimeOutOfRange(piece.to_string()));
    }
    Ok(Tok::Time(hours * 60 + minutes))
}

const FRENCH_WORDS: [&str; 22] = [
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "lundis",
    "mardis",
    "mercredis",
    "jeudis",
    "vendredis",
    "samedis",
    "dimanches",
    "du",
    "de",
    "au",
    "et",
    "le",
    "les",
    "matin",
    "fermé",
];

fn word(piece: &str) -> Result<Tok, HorairesErrorKind> {
    let lower = piece.to_lowercase();
    let day = |d| Ok(Tok::Day(d));
    match lower.as_str() {
        "mo" | "mon" => day(Weekday::Mo),
        "tu" | "tue" => day(Weekday::Tu),
        "we" | "wed" => day(Weekday::We),
        "th" | "thu" => day(Weekday::Th),
        "fr" | "fri" => day(Weekday::Fr),
        "sa" | "sat" => day(Weekday::Sa),
        "su" | "sun" => day(Weekday::Su),
        "ph" => Ok(Tok::Holiday { school: false }),
        "sh" => Ok(Tok::Holiday { school: true }),
        "open" => Ok(Tok::Open),
        "off" | "closed" => Ok(Tok::Closed),
        "unknown" => Ok(Tok::Unknown),
        "jan" | "feb" | "mar" | "apr" | "may" | "jun" | "jul" | "aug" | "sep" | "oct" | "nov"
        | "dec" => Err(HorairesErrorKind::Unsupported {
            what: Unsupported::Month,
            piece: piece.to_string(),
        }),
        "week" => Err(HorairesErrorKind::Unsupported {
            what: Unsupported::Week,
            piece: piece.to_string(),
        }),
        "easter" => Err(HorairesErrorKind::Unsupported {
            what: Unsupported::Easter,
            piece: piece.to_string(),
        }),
        "sunrise" | "sunset" | "dawn" | "dusk" => Err(HorairesErrorKind::Unsupported {
            what: Unsupported::VariableTime,
            piece: piece.to_string(),
        }),
        w if FRENCH_WORDS.contains(&w) || w == "à" => {
            Err(HorairesErrorKind::FreeText(piece.to_string()))
        }
        _ => Err(HorairesErrorKind::UnknownWord(piece.to_string())),
    }
}

// ---------------------------------------------------------------------------------------
// Rules.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Separator {
    /// `;`: replaces what earlier rules said about the named days.
    Normal,
    /// `,`: adds to earlier rules.
    Additional,
    /// `||`: applies where nothing else does.
    Fallback,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Open,
    Closed,
    Unknown,
}

#[derive(Debug)]
struct Rule {
    text: String,
    separator: Separator,
    /// Bit d set for weekday d; `None` when the rule names no weekday.
    days: Option<u8>,
    /// `PH`/`SH` named among the days (`Sa,PH`): the weekdays apply, the holidays are noted.
    holidays_in_list: Option<bool>,
    /// The rule applies only on holidays (`PH off`, `SH Mo-Fr 10:00-12:00`): ignored.
    holidays_only: Option<bool>,
    /// Minutes from the start of the day; `end` may pass 1440 (next day).
    times: Vec<(u16, u16)>,
    all_week: bool,
    state: Option<State>,
    comment: Option<String>,
}

impl Rule {
    /// A rule made of a comment only: `"sur rendez-vous"`.
    fn is_bare_comment(&self) -> bool {
        !self.all_week
            && self.days.is_none()
            && self.holidays_only.is_none()
            && self.times.is_empty()
            && self.state.is_none()
    }
}

struct Parser<'a> {
    input: &'a str,
    tokens: &'a [Token],
    next: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.next).map(|t| &t.tok)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Tok> {
        self.tokens.get(self.next + ahead).map(|t| &t.tok)
    }

    /// The byte offset of the next token (or the end of the input).
    fn position(&self) -> usize {
        self.tokens
            .get(self.next)
            .map_or(self.input.len(), |t| t.start)
    }

    fn unexpected(&self, expected: &'static str) -> Failure {
        let piece = match self.tokens.get(self.next) {
            Some(t) => self.input[t.start..t.end].to_string(),
            None => "fin du texte".to_string(),
        };
        (
            self.position(),
            HorairesErrorKind::Unexpected { piece, expected },
        )
    }

    fn rules(mut self) -> Result<Vec<Rule>, Failure> {
        let mut rules = Vec::new();
        let mut separator = Separator::Normal;
        loop {
            let start = self.position();
            if let Some(mut rule) = self.rule(separator)? {
                let end = self
                    .tokens
                    .get(self.next.wrapping_sub(1))
                    .map_or(start, |t| t.end);
                rule.text = self.input[start..end.max(start)].to_string();
                if separator == Separator::Fallback && !rule.is_bare_comment() {
                    return Err((
                        start,
                        HorairesErrorKind::Unsupported {
                            what: Unsupported::Fallback,
                            piece: rule.text,
                        },
                    ));
                }
                rules.push(rule);
            }
            separator = match self.peek() {
                None => return Ok(rules),
                Some(Tok::Semicolon) => Separator::Normal,
                Some(Tok::Comma) => Separator::Additional,
                Some(Tok::Fallback) => Separator::Fallback,
                Some(_) => return Err(self.unexpected("« ; » entre deux règles")),
            };
            self.next += 1;
        }
    }

    /// One rule, or `None` for an empty one (`;;`, a trailing `;`).
    fn rule(&mut self, separator: Separator) -> Result<Option<Rule>, Failure> {
        let mut rule = Rule {
            text: String::new(),
            separator,
            days: None,
            holidays_in_list: None,
            holidays_only: None,
            times: Vec::new(),
            all_week: false,
            state: None,
            comment: None,
        };
        let first = self.next;
        if self.peek() == Some(&Tok::AllWeek) {
            self.next += 1;
            rule.all_week = true;
        } else {
            if self.starts_day_list() {
                let (days, holiday) = self.day_list()?;
                if self.starts_day_list() {
                    // Two selectors in a row, e.g. `SH Mo-Fr`: the first restricts the second.
                    match (days, holiday) {
                        (0, Some(school)) => {
                            let (days, _) = self.day_list()?;
                            rule.days = Some(days);
                            rule.holidays_only = Some(school);
                        }
                        _ => return Err(self.unexpected("une heure, « off » ou « ; »")),
                    }
                } else if days == 0 {
                    rule.holidays_only = holiday;
                } else {
                    rule.days = Some(days);
                    rule.holidays_in_list = holiday;
                }
                if self.peek() == Some(&Tok::Colon) {
                    self.next += 1;
                }
            }
            if matches!(self.peek(), Some(Tok::Time(_))) {
                rule.times = self.time_list()?;
            }
        }
        match self.peek() {
            Some(Tok::Open) => rule.state = Some(State::Open),
            Some(Tok::Closed) => rule.state = Some(State::Closed),
            Some(Tok::Unknown) => rule.state = Some(State::Unknown),
            _ => {}
        }
        if rule.state.is_some() {
            self.next += 1;
        }
        if let Some(Tok::Comment(text)) = self.peek() {
            rule.comment = Some(text.clone());
            self.next += 1;
        }
        if self.next == first {
            return match self.peek() {
                None | Some(Tok::Semicolon | Tok::Comma | Tok::Fallback) => Ok(None),
                Some(Tok::Time(_) | Tok::Dash) => Err(self.unexpected("un jour ou une heure")),
                _ => Err(self.unexpected("un jour (Mo…Su), une heure, « off » ou un commentaire")),
            };
        }
        Ok(Some(rule))
    }

    fn starts_day_list(&self) -> bool {
        matches!(self.peek(), Some(Tok::Day(_) | Tok::Holiday { .. }))
    }

    /// `Mo-Fr,Su,PH`: the weekdays as a bit set, and whether (and which) holidays were named.
    fn day_list(&mut self) -> Result<(u8, Option<bool>), Failure> {
        let mut days = 0u8;
        let mut holiday = None;
        loop {
            match self.peek() {
                Some(&Tok::Day(from)) => {
                    self.next += 1;
                    if self.peek() == Some(&Tok::Dash) {
                        self.next += 1;
                        let Some(&Tok::Day(to)) = self.peek() else {
                            return Err(self.unexpected("un jour après « - »"));
                        };
                        self.next += 1;
                        let mut d = from.index();
                        loop {
                            days |= 1 << d;
                            if d == to.index() {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    } else {
                        days |= 1 << from.index();
                    }
                }
                Some(&Tok::Holiday { school }) => {
                    self.next += 1;
                    holiday = Some(school);
                }
                _ => return Err(self.unexpected("un jour (Mo…Su)")),
            }
            let continues = self.peek() == Some(&Tok::Comma)
                && matches!(self.peek_at(1), Some(Tok::Day(_) | Tok::Holiday { .. }));
            if !continues {
                return Ok((days, holiday));
            }
            self.next += 1;
        }
    }

    /// `09:00-12:00,14:00-18:30` (a space instead of the comma is tolerated).
    fn time_list(&mut self) -> Result<Vec<(u16, u16)>, Failure> {
        let mut times = Vec::new();
        loop {
            let start_token = self.next;
            let Some(&Tok::Time(start)) = self.peek() else {
                return Err(self.unexpected("une heure"));
            };
            self.next += 1;
            match self.peek() {
                Some(Tok::Dash) => self.next += 1,
                Some(Tok::Plus) => {
                    let t = &self.tokens[start_token];
                    return Err((
                        t.start,
                        HorairesErrorKind::Unsupported {
                            what: Unsupported::OpenEnd,
                            piece: self.input[t.start..self.tokens[self.next].end].to_string(),
                        },
                    ));
                }
                _ => {
                    let t = &self.tokens[start_token];
                    return Err((
                        t.start,
                        HorairesErrorKind::MissingEnd(self.input[t.start..t.end].to_string()),
                    ));
                }
            }
            let Some(&Tok::Time(end)) = self.peek() else {
                return Err(self.unexpected("une heure de fin"));
            };
            self.next += 1;
            let piece = || {
                let (a, b) = (&self.tokens[start_token], &self.tokens[self.next - 1]);
                (a.start, self.input[a.start..b.end].to_string())
            };
            if start >= DAY {
                let (at, piece) = piece();
                return Err((at, HorairesErrorKind::TimeOutOfRange(piece)));
            }
            // An end at or before the start runs into the next day (`22:00-02:00`,
            // `00:00-00:00` is a whole day).
            let end = if end <= start { end + DAY } else { end };
            if end > 2 * DAY {
                let (at, piece) = piece();
                return Err((at, HorairesErrorKind::TimeOutOfRange(piece)));
            }
            times.push((start, end));
            if self.peek() == Some(&Tok::Plus) {
                let (at, piece) = piece();
                return Err((
                    at,
                    HorairesErrorKind::Unsupported {
                        what: Unsupported::OpenEnd,
                        piece: format!("{piece}+"),
                    },
                ));
            }
            match self.peek() {
                Some(Tok::Comma) if matches!(self.peek_at(1), Some(Tok::Time(_))) => self.next += 1,
                Some(Tok::Time(_)) => {}
                _ => return Ok(times),
            }
        }
    }
}

/// Applies the rules in order to a table of (start, end) per day, ends up to 2880, then folds
/// the parts past midnight into the next day.
fn evaluate(rules: &[Rule]) -> Horaires {
    let mut table: [Vec<(u16, u16)>; 7] = Default::default();
    let mut notes = Vec::new();
    for rule in rules {
        if let Some(comment) = rule.comment.as_ref().filter(|c| !c.is_empty()) {
            notes.push(Note::Comment(comment.clone()));
        }
        if rule.is_bare_comment() {
            // `"sur rendez-vous"`, `|| "sur rendez-vous"`: a note only. (The parser refuses
            // any other fallback rule.)
            continue;
        }
        if let Some(school) = rule.holidays_only {
            notes.push(Note::Holidays {
                school,
                closed: rule.state == Some(State::Closed) && rule.times.is_empty(),
                rule: rule.text.clone(),
            });
            continue;
        }
        if let Some(school) = rule.holidays_in_list {
            notes.push(Note::Holidays {
                school,
                closed: rule.state == Some(State::Closed) && rule.times.is_empty(),
                rule: rule.text.clone(),
            });
        }
        let days = if rule.all_week {
            0x7f
        } else {
            rule.days.unwrap_or(0x7f)
        };
        let times = if rule.times.is_empty() {
            vec![(0, DAY)]
        } else {
            rule.times.clone()
        };
        // Days named with only a comment (`Mo-Fr "sur rendez-vous"`) are not known to be open.
        let state = match rule.state {
            Some(state) => state,
            None if rule.times.is_empty() && !rule.all_week && rule.comment.is_some() => {
                State::Unknown
            }
            None => State::Open,
        };
        for (d, day) in table.iter_mut().enumerate() {
            if days & (1 << d) == 0 {
                continue;
            }
            match state {
                State::Open => {
                    if rule.separator == Separator::Normal {
                        day.clear();
                    }
                    day.extend_from_slice(&times);
                }
                State::Closed | State::Unknown if rule.times.is_empty() => day.clear(),
                State::Closed | State::Unknown => {
                    for &cut in &times {
                        *day = subtract(day, cut);
                    }
                }
            }
        }
    }
    let mut week: [Vec<Span>; 7] = Default::default();
    for (d, day) in table.iter().enumerate() {
        for &(start, end) in day {
            if start < DAY {
                week[d].push(Span {
                    start,
                    end: end.min(DAY),
                });
            }
            if end > DAY {
                week[(d + 1) % 7].push(Span {
                    start: start.max(DAY) - DAY,
                    end: end - DAY,
                });
            }
        }
    }
    let mut spans: Vec<Span> = Vec::new();
    let mut day_start = [0u16; 8];
    for (d, day) in week.iter_mut().enumerate() {
        day.sort();
        for &span in day.iter() {
            match spans[day_start[d] as usize..].last_mut() {
                Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
                _ => spans.push(span),
            }
        }
        day_start[d + 1] = spans.len() as u16;
    }
    Horaires {
        spans,
        day_start,
        notes,
        regles: None,
        particulier: false,
    }
}

/// `intervals` minus `cut`.
fn subtract(intervals: &[(u16, u16)], cut: (u16, u16)) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for &(start, end) in intervals {
        if end <= cut.0 || cut.1 <= start {
            out.push((start, end));
            continue;
        }
        if start < cut.0 {
            out.push((start, cut.0));
        }
        if cut.1 < end {
            out.push((cut.1, end));
        }
    }
    out
}
