//! The reading of a `horaires` string into the weekly table: tokens (with the tolerated
//! deviations: `9h`, `mon`, en dash…), rules, and their evaluation into days × spans and
//! notes. What this subset refuses, the `opening-hours` crate may still read
//! (`calendrier_osm`).

use std::sync::OnceLock;

use super::{DAY, Horaires, HorairesErrorKind, Note, Span, Unsupported, Weekday};

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

/// Where (byte offset) and what went wrong.
pub(super) type Failure = (usize, HorairesErrorKind);

/// The rules of `input`, in order.
pub(super) fn rules(input: &str) -> Result<Vec<Rule>, Failure> {
    let tokens = tokenize(input)?;
    Parser {
        input,
        tokens: &tokens,
        next: 0,
    }
    .rules()
}

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
pub(super) struct Rule {
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
pub(super) fn evaluate(rules: &[Rule]) -> Horaires {
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
        if let Some(school) = rule.holidays_only.or(rule.holidays_in_list) {
            notes.push(Note::Holidays {
                school,
                closed: rule.state == Some(State::Closed) && rule.times.is_empty(),
                rule: rule.text.clone(),
            });
            if rule.holidays_only.is_some() {
                continue;
            }
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
        regles: OnceLock::new(),
        particulier: false,
        dated: false,
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
