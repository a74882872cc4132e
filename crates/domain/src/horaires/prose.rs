//! Opening hours written as French prose by producers that do not use OSM, converted to OSM
//! when the text is regular enough to be read without guessing:
//! `Du lundi au vendredi de 9h à 12h et de 14h à 17h`, `Mardi : 15h à 18h30 Mercredi : 9h30 à 12h`,
//! `Les lundi, mardi et jeudi de 08h30 à 17h00`, `9h-12h du lundi au vendredi`,
//! `Le lundi de 9h00 à 12h00 et sur rendez-vous.`
//!
//! Anything else gives `None`: an unknown word (`un mercredi sur deux`, `le premier lundi du
//! mois`, `sauf`, `semaine`…), days without hours, hours without days, a lone time.

use super::{DAY, Horaires, hhmm};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Word {
    Day(usize),
    Time(u16),
    /// `au`: between two days.
    To,
    /// `à`: between two days or two times.
    At,
    /// `-`: between two times, otherwise a separator.
    Dash,
    /// `sur rendez-vous`.
    Appointment,
    /// Words and punctuation that only join: `de`, `le`, `et`, `,`…
    Filler,
}

const DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

const FILLERS: [&str; 12] = [
    "de",
    "du",
    "le",
    "les",
    "et",
    "puis",
    "tous",
    "matin",
    "après-midi",
    "après-midis",
    "h",
    "matins",
];

/// The OSM form of French prose opening hours, or `None` when the text is not regular enough.
/// E.g. `Du lundi au vendredi de 9h à 12h` → `Mo-Fr 09:00-12:00`.
pub fn french_text_to_osm(text: &str) -> Option<String> {
    let words = words(text)?;
    // Rules as (days, times); days named before or after their times.
    let mut rules: Vec<(u8, Vec<(u16, u16)>)> = Vec::new();
    let mut days = 0u8;
    let mut times: Vec<(u16, u16)> = Vec::new();
    let mut last_day: Option<usize> = None;
    let mut day_range = false;
    let mut times_follow_days = false;
    let mut start: Option<u16> = None;
    let mut appointment = false;
    let mut previous = Word::Filler;
    for &word in &words {
        match word {
            Word::Day(d) => {
                // A day after the times of earlier days starts a new rule.
                if times_follow_days && !day_range {
                    rules.push((days, std::mem::take(&mut times)));
                    days = 0;
                    times_follow_days = false;
                }
                match (day_range, last_day) {
                    (true, Some(from)) => {
                        let mut i = from;
                        while i != d {
                            days |= 1 << i;
                            i = (i + 1) % 7;
                        }
                        days |= 1 << d;
                    }
                    _ => days |= 1 << d,
                }
                day_range = false;
                last_day = Some(d);
            }
            Word::To | Word::At if matches!(previous, Word::Day(_)) => day_range = true,
            Word::Time(t) => match start.take() {
                Some(s) => {
                    times.push((s, t));
                    times_follow_days = days != 0;
                }
                None => start = Some(t),
            },
            Word::At if start.is_some() => {}
            Word::Dash if start.is_some() => {}
            Word::Dash | Word::Filler => {}
            Word::Appointment => appointment = true,
            Word::To | Word::At => return None,
        }
        if word != Word::Filler {
            previous = word;
        }
    }
    if start.is_some() || day_range || days == 0 || times.is_empty() {
        return None;
    }
    rules.push((days, times));
    let mut osm = Vec::new();
    let mut named: [Vec<(u16, u16)>; 7] = Default::default();
    for (days, times) in rules {
        for &(s, e) in &times {
            if s >= DAY || e > DAY || e <= s {
                return None;
            }
            // A day named again adds hours (`mardi de 10h à 12h, le mardi de 14h à 16h`);
            // overlapping hours would rather be a correction, which we do not guess.
            for (d, earlier) in named.iter_mut().enumerate() {
                if days & (1 << d) != 0 {
                    if earlier.iter().any(|&(a, b)| s < b && a < e) {
                        return None;
                    }
                    earlier.push((s, e));
                }
            }
        }
        let days: Vec<&str> = (0..7)
            .filter(|d| days & (1 << d) != 0)
            .map(|d| ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"][d])
            .collect();
        let times: Vec<String> = times
            .iter()
            .map(|&(s, e)| format!("{}-{}", hhmm(s), hhmm(e)))
            .collect();
        osm.push(format!("{} {}", days.join(","), times.join(",")));
    }
    // Rules are additional (`,`): `mardi de 10h à 12h, le mardi de 14h à 16h`.
    let mut osm = Horaires::parse(&osm.join(", ")).ok()?.to_osm();
    if appointment {
        osm.push_str("; \"sur rendez-vous\"");
    }
    Some(osm)
}

/// The words of the text, or `None` at the first one that is not understood.
fn words(text: &str) -> Option<Vec<Word>> {
    let lower = text.to_lowercase();
    let mut words = Vec::new();
    let mut chars = lower.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() || matches!(c, ',' | ';' | ':' | '.' | '/') {
            chars.next();
            words.push(Word::Filler);
        } else if matches!(c, '-' | '–') {
            chars.next();
            words.push(Word::Dash);
        } else if c.is_ascii_digit() {
            let end = lower[i..]
                .find(|c: char| !(c.is_ascii_digit() || c == 'h' || c == ':'))
                .map_or(lower.len(), |n| i + n);
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
            words.push(Word::Time(time(&lower[i..end])?));
        } else if c.is_alphabetic() {
            let end = lower[i..]
                .find(|c: char| !(c.is_alphabetic() || c == '-'))
                .map_or(lower.len(), |n| i + n);
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
            let w = lower[i..end].trim_end_matches('-');
            let word = if let Some(d) = DAYS
                .iter()
                .position(|&day| w == day || w.strip_suffix('s') == Some(day))
            {
                Word::Day(d)
            } else {
                match w {
                    "au" => Word::To,
                    "à" => Word::At,
                    "midi" => Word::Time(12 * 60),
                    "rendez-vous" => Word::Appointment,
                    // `sur` only before `rendez-vous`, checked when that word comes.
                    "sur" if lower[end..].trim_start().starts_with("rendez-vous") => Word::Filler,
                    w if FILLERS.contains(&w) => Word::Filler,
                    _ => return None,
                }
            };
            words.push(word);
        } else {
            return None;
        }
    }
    Some(words)
}

/// `9h`, `9h30`, `09h00`, `9:30`, or a bare hour `14` (as in `de 14 à 18h`).
fn time(piece: &str) -> Option<u16> {
    let (hours, minutes) = match piece.split_once(['h', ':']) {
        Some((h, m)) => (h, m),
        None => (piece, ""),
    };
    if hours.is_empty() || hours.len() > 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = match minutes.len() {
        0 => 0,
        2 => minutes.parse().ok()?,
        _ => return None,
    };
    (hours <= 24 && minutes < 60 && hours * 60 + minutes <= DAY).then_some(hours * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_prose_converts() {
        for (text, osm) in [
            (
                "Du lundi au vendredi de 8h30 à 12h00 et de 13h30 à 17h00",
                "Mo-Fr 08:30-12:00,13:30-17:00",
            ),
            ("Mercredi de 14h à 15H30", "We 14:00-15:30"),
            ("mercredi de 14 à 18h", "We 14:00-18:00"),
            ("MERCREDI 17h - 19h", "We 17:00-19:00"),
            ("Tous les mardis de 9h00 à 12h00", "Tu 09:00-12:00"),
            (
                "Les lundi, mardi, jeudi et vendredi de 09h00 à 17h00",
                "Mo-Tu,Th-Fr 09:00-17:00",
            ),
            (
                "Mardi : 15h à18h30 Mercredi : 9h30 à 12h30 et 14h à 18h30 Samedi : 9h30 à 12h30",
                "Tu 15:00-18:30; We 09:30-12:30,14:00-18:30; Sa 09:30-12:30",
            ),
            (
                "9h-12h et 14h-17h du lundi au vendredi",
                "Mo-Fr 09:00-12:00,14:00-17:00",
            ),
            (
                "mardi de 10h à 12h, le mardi de 14h à 16h",
                "Tu 10:00-12:00,14:00-16:00",
            ),
            ("Du Lundi au samedi : 8h30 à 20h", "Mo-Sa 08:30-20:00"),
            (
                "Le lundi de 9h00 à 12h00 et sur rendez-vous.",
                "Mo 09:00-12:00; \"sur rendez-vous\"",
            ),
            ("Du lundi au vendredi de 9h à midi", "Mo-Fr 09:00-12:00"),
            ("jeudi de 14h à 15h30, et 15h30 à 17h", "Th 14:00-17:00"),
        ] {
            assert_eq!(french_text_to_osm(text).as_deref(), Some(osm), "{text}");
            assert!(Horaires::parse(osm).is_ok());
        }
    }

    #[test]
    fn irregular_prose_is_left_alone() {
        for text in [
            "Du lundi au vendredi",
            "Un mercredi sur deux de 9h00 à 12h00",
            "Le premier mercredi du mois de 14h00 à 17h00",
            "Les mardis d'octobre à juin de 9h00 à 17h00",
            "Du lundi au vendredi de 08h30 à 12h00, sauf le mercredi après-midi",
            "La semaine de 9h00 à 12h00",
            "Ligne Irigo N° 6, 11 - arrêt les Deniers",
            "Les deuxième et quatrième jeudis du mois de 13h030 à 15h00",
            "Une fois par mois à la demande",
            "lundi de 9h à",
            // Friday named twice with overlapping hours: a correction or a mistake.
            "lundi/vendredi 9h-12h et 14h-20h // vendredi 9h-12h et 14h-18h",
            "9h à 12h",
            "",
        ] {
            assert_eq!(french_text_to_osm(text), None, "{text}");
        }
    }
}
