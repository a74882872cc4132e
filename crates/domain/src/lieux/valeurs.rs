//! Typed values of a lieu's fields: pivot (SIRET or RNA), telephone, date.

use std::fmt;

use crate::comptes::{CompteError, Siret};

/// The `pivot` of a lieu: the legal identifier of the structure that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pivot {
    /// 14 digits. The key is not required to be right (the schema does not check it).
    Siret(String),
    /// An association's number in the Répertoire national des associations: `W` and 9
    /// letters or digits.
    Rna(String),
}

/// The value producers write when they do not know the pivot (and that Relais writes
/// back, since the schema requires the column).
pub const PIVOT_UNKNOWN: &str = "00000000000000";

/// What reading a pivot found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PivotRead {
    Known(Pivot),
    /// A SIRET whose Luhn key is wrong: kept, with a warning.
    SiretBadKey(Pivot),
    /// Empty or `00000000000000`.
    Unknown,
    Invalid,
}

impl Pivot {
    pub fn read(raw: &str) -> PivotRead {
        let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() || s == PIVOT_UNKNOWN {
            return PivotRead::Unknown;
        }
        if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
            return match Siret::parse(&s) {
                Err(CompteError::SiretKey) => PivotRead::SiretBadKey(Pivot::Siret(s)),
                _ => PivotRead::Known(Pivot::Siret(s)),
            };
        }
        let upper = s.to_ascii_uppercase();
        if upper.len() == 10
            && upper.starts_with('W')
            && upper.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return PivotRead::Known(Pivot::Rna(upper));
        }
        PivotRead::Invalid
    }

    pub fn as_str(&self) -> &str {
        match self {
            Pivot::Siret(s) | Pivot::Rna(s) => s,
        }
    }
}

/// A telephone number in the schema's international form: `+33` and 9 digits, or an
/// overseas prefix (`+590`, `+594`, `+262`, `+596`, `+269`, `+687`, `+689`, `+508`,
/// `+681`) and 6 to 9 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Telephone(String);

/// Overseas prefixes of the schema's pattern.
const OVERSEAS: [&str; 9] = [
    "590", "594", "262", "596", "269", "687", "689", "508", "681",
];

/// National numbers of the overseas départements (10 digits, `0` then 9): the first
/// digits give the international prefix; the 9 digits stay as they are
/// (`0590 12 34 56` → `+590 590 12 34 56`).
const OVERSEAS_NATIONAL: [(&str, &str); 12] = [
    ("0590", "590"), // Guadeloupe, Saint-Martin, Saint-Barthélemy
    ("0690", "590"),
    ("0691", "590"),
    ("0594", "594"), // Guyane
    ("0694", "594"),
    ("0262", "262"), // La Réunion
    ("0263", "262"),
    ("0692", "262"),
    ("0693", "262"),
    ("0269", "262"), // Mayotte
    ("0639", "262"),
    ("0596", "596"), // Martinique (mobiles below)
];
const MARTINIQUE_MOBILES: [&str; 2] = ["0696", "0697"];

impl Telephone {
    /// Reads one number written in a French national form (`04 77 12 34 56`,
    /// `04.77.12.34.56`, `0590…`), an international one (`+33 (0)4 77…`, `0033 4 77…`)
    /// or with its leading zero lost by a spreadsheet (`477123456`).
    pub fn parse(raw: &str) -> Option<Telephone> {
        let s = raw.trim().replace("(0)", "");
        let mut plus = false;
        let mut digits = String::new();
        for (i, c) in s.chars().enumerate() {
            match c {
                '+' if i == 0 => plus = true,
                '0'..='9' => digits.push(c),
                ' ' | '\u{a0}' | '\u{202f}' | '.' | '-' | '(' | ')' | '/' => {}
                _ => return None,
            }
        }
        if !plus && let Some(rest) = digits.strip_prefix("00") {
            plus = true;
            digits = rest.to_string();
        }
        if plus {
            if let Some(rest) = digits.strip_prefix("33") {
                let rest = match rest.len() {
                    10 => rest.strip_prefix('0')?,
                    _ => rest,
                };
                return national_9(rest).map(|n| Telephone(format!("+33{n}")));
            }
            let prefix = OVERSEAS.iter().find(|p| digits.starts_with(*p))?;
            let rest = &digits[prefix.len()..];
            return (6..=9)
                .contains(&rest.len())
                .then(|| Telephone(format!("+{prefix}{rest}")));
        }
        match digits.len() {
            10 if digits.starts_with('0') => {
                let rest = &digits[1..];
                national_9(rest)?;
                let overseas = OVERSEAS_NATIONAL
                    .iter()
                    .find(|(national, _)| digits.starts_with(national))
                    .map(|(_, prefix)| *prefix)
                    .or_else(|| {
                        MARTINIQUE_MOBILES
                            .iter()
                            .any(|m| digits.starts_with(m))
                            .then_some("596")
                    });
                Some(Telephone(format!("+{}{rest}", overseas.unwrap_or("33"))))
            }
            9 => national_9(&digits).map(|n| Telephone(format!("+33{n}"))),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The 9 digits after the leading 0 of a French number: the first is 1 to 9.
fn national_9(digits: &str) -> Option<&str> {
    (digits.len() == 9 && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

impl fmt::Display for Telephone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A calendar date (proleptic Gregorian), as `date_maj` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

/// Why a date was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not `AAAA-MM-JJ`.
    Format,
    /// Well written, but no such day (`2023-02-30`).
    NoSuchDay,
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return Err(DateError::NoSuchDay);
        }
        let date = Date { year, month, day };
        // A day past the month's end counts on into the next month: the round trip says so.
        if Date::from_days(date.days()) != date {
            return Err(DateError::NoSuchDay);
        }
        Ok(date)
    }

    /// Reads the ISO form `AAAA-MM-JJ` and nothing else.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape {
            return Err(DateError::Format);
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| DateError::Format);
        let year = i32::try_from(n(0..4)?).map_err(|_| DateError::Format)?;
        Date::new(year, n(5..7)?, n(8..10)?)
    }

    /// The date of a count of days since 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let (year, month, day) = crate::calendrier::civil_from_days(days);
        Date {
            year: year as i32,
            month,
            day,
        }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        crate::calendrier::days_from_civil(i64::from(self.year), self.month, self.day)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn day(self) -> u32 {
        self.day
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Checks a web address and writes it the one way: `http(s)://host…`, with `https://`
/// added to an address that starts with `www.`. `None` when it is not one.
pub fn web_url(raw: &str) -> Option<String> {
    let s = raw.trim();
    let www = s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www."));
    let with_scheme = if www && s.len() > 4 {
        format!("https://{s}")
    } else {
        s.to_string()
    };
    let lower = with_scheme.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':' | '@' | '_'));
    (host_ok && !with_scheme.contains(char::is_whitespace)).then_some(with_scheme)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn telephones() {
        let t = |s: &str| Telephone::parse(s).map(|t| t.0);
        assert_eq!(t("04 77 12 34 56").as_deref(), Some("+33477123456"));
        assert_eq!(t("04.77.12.34.56").as_deref(), Some("+33477123456"));
        assert_eq!(t("+33 (0)4 77 12 34 56").as_deref(), Some("+33477123456"));
        assert_eq!(t("0033 4 77 12 34 56").as_deref(), Some("+33477123456"));
        assert_eq!(t("+33477123456").as_deref(), Some("+33477123456"));
        assert_eq!(t("477123456").as_deref(), Some("+33477123456"));
        assert_eq!(t("0590 81 23 45").as_deref(), Some("+590590812345"));
        assert_eq!(t("06 96 12 34 56").as_deref(), Some("+596696123456"));
        assert_eq!(t("0639 12 34 56").as_deref(), Some("+262639123456"));
        assert_eq!(t("02 62 12 34 56").as_deref(), Some("+262262123456"));
        assert_eq!(t("+687 12 34 56").as_deref(), Some("+687123456"));
        assert_eq!(t("3631"), None);
        assert_eq!(t("04 77 12 34"), None);
        assert_eq!(t("tél. 04 77 12 34 56"), None);
        assert_eq!(t("+44 20 7946 0958"), None);
    }

    #[test]
    fn pivots() {
        assert_eq!(
            Pivot::read("130 025 265 00013"),
            PivotRead::Known(Pivot::Siret("13002526500013".into()))
        );
        assert_eq!(
            Pivot::read("13002526500014"),
            PivotRead::SiretBadKey(Pivot::Siret("13002526500014".into()))
        );
        assert_eq!(
            Pivot::read("w751234567"),
            PivotRead::Known(Pivot::Rna("W751234567".into()))
        );
        assert_eq!(Pivot::read("00000000000000"), PivotRead::Unknown);
        assert_eq!(Pivot::read(""), PivotRead::Unknown);
        assert_eq!(Pivot::read("130025265"), PivotRead::Invalid);
    }

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Ok("2024-02-29")
        );
        assert_eq!(Date::parse("2023-02-29"), Err(DateError::NoSuchDay));
        assert_eq!(Date::parse("2023-13-01"), Err(DateError::NoSuchDay));
        for no_such_day in ["2100-02-29", "2024-04-31", "2024-01-00", "2024-12-99"] {
            assert_eq!(
                Date::parse(no_such_day),
                Err(DateError::NoSuchDay),
                "{no_such_day}"
            );
        }
        assert!(Date::parse("2000-02-29").is_ok());
        assert_eq!(Date::parse("2023-1-01"), Err(DateError::Format));
        assert_eq!(Date::parse("02/01/2023"), Err(DateError::Format));
        assert_eq!(Date::parse("+023-01-01"), Err(DateError::Format));
        assert_eq!(Date::from_days(0), Date::new(1970, 1, 1).unwrap());
    }

    #[test]
    fn urls() {
        assert_eq!(
            web_url("www.exemple.fr").as_deref(),
            Some("https://www.exemple.fr")
        );
        assert_eq!(
            web_url(" http://exemple.fr/a?b=c ").as_deref(),
            Some("http://exemple.fr/a?b=c")
        );
        assert_eq!(web_url("exemple"), None);
        assert_eq!(web_url("https://"), None);
        assert_eq!(web_url("https://exemple.fr/a b"), None);
        assert_eq!(web_url("mailto:a@b.fr"), None);
        assert_eq!(web_url("a'A’"), None);
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -700_000i64..2_900_000) {
            let d = Date::from_days(days);
            prop_assert_eq!(d.days(), days);
            prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
        }

        #[test]
        fn telephone_is_stable(raw in "[0+][0-9 .]{8,16}") {
            if let Some(t) = Telephone::parse(&raw) {
                prop_assert_eq!(Telephone::parse(t.as_str()), Some(t));
            }
        }
    }
}
