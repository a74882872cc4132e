//! Look-ups of territories: by code, postal code, name (autocomplete), nearest point, and
//! the chain commune → EPCI → département → région.

use std::cmp::Reverse;
use std::collections::HashMap;

use relais_domain::territoires::{Commune, Departement, Epci, Point, Region, Territoires};
use relais_domain::text::search_key;
use rstar::{AABB, PointDistance, RTree, RTreeObject};
use serde::Serialize;

/// How a name matched a query; the order is the ranking order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// The whole name (or the name without its article, "Le", "La"…) is the query.
    Exact,
    /// The name (or the name without its article) starts with the query.
    Prefix,
    /// A later word of the name starts with the query.
    Word,
    /// The postal code or INSEE code starts with the query.
    Code,
    /// Nothing else matched, and the name (or its beginning, being typed) is one or two
    /// typos away from the query (« marseile », « st etiene »).
    Fuzzy,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CommuneMatch<'a> {
    pub commune: &'a Commune,
    pub kind: MatchKind,
}

/// The parents of a commune.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Chain<'a> {
    pub commune: &'a Commune,
    /// For an arrondissement municipal: its commune (Paris, Lyon, Marseille).
    pub commune_parent: Option<&'a Commune>,
    pub epci: Option<&'a Epci>,
    pub departement: Option<&'a Departement>,
    pub region: Option<&'a Region>,
}

/// One searchable suffix of a commune's name: the key from a word boundary to the end.
struct NameEntry {
    key: Box<str>,
    key_len: u16,
    population: u32,
    commune: u32,
    /// Whether the suffix starts the name (possibly after a leading article).
    starts_name: bool,
}

/// A commune placed on the unit sphere, so that Euclidean distance orders like great-circle distance.
struct Located {
    xyz: [f64; 3],
    commune: u32,
}

impl RTreeObject for Located {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.xyz)
    }
}

impl PointDistance for Located {
    fn distance_2(&self, p: &[f64; 3]) -> f64 {
        (0..3).map(|i| (self.xyz[i] - p[i]).powi(2)).sum()
    }
}

fn unit_vector(p: Point) -> [f64; 3] {
    let (lat, lon) = (p.lat.to_radians(), p.lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// The start of a postal or INSEE code: two digits (or 2A, 2B for Corsica), then digits.
fn looks_like_code(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_digit()
        && (b[1].is_ascii_digit() || (b[0] == b'2' && matches!(b[1], b'a' | b'b')))
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// A possible answer: how it matched, its population (for ranking), its commune.
type Candidate = (MatchKind, Reverse<u32>, u32);

/// The `limit` best candidates, one per commune (its best match), in ranking order.
fn best_distinct(mut all: Vec<Candidate>, limit: usize) -> Vec<Candidate> {
    // A commune rarely appears more than twice: select a margin of the best, then
    // remove repeats; sort everything only if repeats ate the margin.
    let margin = limit * 4;
    if all.len() > margin {
        all.select_nth_unstable(margin - 1);
        let mut head = all[..margin].to_vec();
        head.sort_unstable();
        let head = dedup_communes(head);
        if head.len() >= limit {
            return head.into_iter().take(limit).collect();
        }
    }
    all.sort_unstable();
    dedup_communes(all).into_iter().take(limit).collect()
}

/// Longest key the typo scan reads (longer ones are not names being typed).
const MAX_TYPED: usize = 48;

/// Whether the whole of `name`, or a beginning of it, is at most `most` typos from `key`
/// (letters changed, added, removed or swapped with the next: optimal string alignment).
/// Written here rather than taken from `strsim`: only the cells within `most` of the
/// diagonal are computed, and the scan stops at the first row already beyond `most`,
/// which most names reach within a few letters: 15× faster than the full table
/// (`relais bench-territoires`, docs/BENCHMARKS.md).
fn begins_within(key: &[u8], name: &[u8], most: usize) -> bool {
    const FAR: usize = usize::MAX / 2;
    let m = name.len().min(key.len() + most);
    if m + most < key.len() {
        return false;
    }
    let mut rows = [[FAR; MAX_TYPED + 4]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate().take(m.min(most) + 1) {
        *cell = j;
    }
    for i in 1..=key.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        let (lo, hi) = (i.saturating_sub(most).max(1), (i + most).min(m));
        rows[cur][0] = if i <= most { i } else { FAR };
        if lo > 1 {
            rows[cur][lo - 1] = FAR;
        }
        let mut least = FAR;
        for j in lo..=hi {
            let cost = usize::from(key[i - 1] != name[j - 1]);
            let mut d = (rows[prev][j] + 1)
                .min(rows[cur][j - 1] + 1)
                .min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && key[i - 1] == name[j - 2] && key[i - 2] == name[j - 1] {
                d = d.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = d;
            least = least.min(d);
        }
        // The next row reads one cell further right, which this one left as it was.
        rows[cur][hi + 1] = FAR;
        if least > most {
            return false;
        }
    }
    // Beginnings shorter than the key by up to `most`, the whole name, or longer ones.
    let last = &rows[key.len() % 3];
    (key.len().saturating_sub(most)..=m).any(|j| last[j] <= most)
}

/// Keeps the first (best) candidate of each commune, in order.
fn dedup_communes(sorted: Vec<Candidate>) -> Vec<Candidate> {
    let mut seen = std::collections::HashSet::with_capacity(sorted.len());
    sorted.into_iter().filter(|c| seen.insert(c.2)).collect()
}

/// The key with its last word, an unfinished "saint" ("sai", "sain"), written "st".
fn saint_being_typed(key: &str) -> Option<String> {
    let (head, last) = key.rsplit_once(' ').map_or(("", key), |(h, l)| (h, l));
    (last.len() >= 3 && last.len() < 5 && "saint".starts_with(last)).then(|| {
        if head.is_empty() {
            "st".to_string()
        } else {
            format!("{head} st")
        }
    })
}

const ARTICLES: [&str; 4] = ["l", "le", "la", "les"];

pub struct TerritoryIndex {
    territoires: Territoires,
    by_code: HashMap<String, u32>,
    by_postal: HashMap<String, Vec<u32>>,
    /// Sorted by key: a query's matches are one contiguous range.
    names: Vec<NameEntry>,
    /// Postal and INSEE codes, sorted, for numeric queries.
    codes: Vec<(Box<str>, u32)>,
    located: RTree<Located>,
    epci: HashMap<String, u32>,
    departements: HashMap<String, u32>,
    regions: HashMap<String, u32>,
}

impl TerritoryIndex {
    pub fn build(territoires: Territoires) -> TerritoryIndex {
        let mut by_code = HashMap::new();
        let mut by_postal: HashMap<String, Vec<u32>> = HashMap::new();
        let mut names = Vec::new();
        let mut codes = Vec::new();
        let mut located = Vec::new();
        for (i, c) in territoires.communes.iter().enumerate() {
            let i = i as u32;
            by_code.insert(c.code.as_str().to_string(), i);
            codes.push((c.code.as_str().into(), i));
            for cp in &c.codes_postaux {
                by_postal
                    .entry(cp.as_str().to_string())
                    .or_default()
                    .push(i);
                codes.push((cp.as_str().into(), i));
            }
            let key = search_key(&c.nom);
            let after_article = key
                .split_once(' ')
                .is_some_and(|(first, _)| ARTICLES.contains(&first));
            // One entry per word boundary, so that "ile d yeu" finds "l ile d yeu".
            let mut start = 0;
            for word in 0.. {
                let starts_name = word == 0 || (word == 1 && after_article);
                let suffix = &key[start..];
                names.push(NameEntry {
                    key: suffix.into(),
                    key_len: suffix.len().min(u16::MAX as usize) as u16,
                    population: c.population,
                    commune: i,
                    starts_name,
                });
                match key[start..].find(' ') {
                    Some(offset) => start += offset + 1,
                    None => break,
                }
            }
            if let Some(p) = c.position {
                located.push(Located {
                    xyz: unit_vector(p),
                    commune: i,
                });
            }
        }
        names.sort_by(|a, b| a.key.cmp(&b.key));
        codes.sort();
        codes.dedup();
        let position = |items: &mut dyn Iterator<Item = String>| {
            items
                .enumerate()
                .map(|(i, code)| (code, i as u32))
                .collect::<HashMap<_, _>>()
        };
        let epci = position(&mut territoires.epci.iter().map(|e| e.code.clone()));
        let departements = position(&mut territoires.departements.iter().map(|d| d.code.clone()));
        let regions = position(&mut territoires.regions.iter().map(|r| r.code.clone()));
        TerritoryIndex {
            by_code,
            by_postal,
            names,
            codes,
            located: RTree::bulk_load(located),
            epci,
            departements,
            regions,
            territoires,
        }
    }

    pub fn territoires(&self) -> &Territoires {
        &self.territoires
    }

    fn at(&self, i: u32) -> &Commune {
        &self.territoires.communes[i as usize]
    }

    pub fn commune(&self, code: &str) -> Option<&Commune> {
        self.by_code
            .get(&code.to_ascii_uppercase())
            .map(|i| self.at(*i))
    }

    /// Communes served by a postal code, most populous first.
    pub fn by_postal_code(&self, code: &str) -> Vec<&Commune> {
        let mut out: Vec<&Commune> = self
            .by_postal
            .get(code.trim())
            .into_iter()
            .flatten()
            .map(|i| self.at(*i))
            .collect();
        out.sort_by(|a, b| b.population.cmp(&a.population).then(a.code.cmp(&b.code)));
        out
    }

    /// Autocomplete: communes whose name (any word of it) starts with the query, ignoring
    /// accents, case, punctuation and "Saint"/"St"; or, for a numeric query, whose postal
    /// or INSEE code starts with it. Ranked exact, prefix, later word, then by population.
    pub fn search(&self, query: &str, limit: usize) -> Vec<CommuneMatch<'_>> {
        let key = search_key(query);
        if key.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        if looks_like_code(&key) {
            let code = key.to_ascii_uppercase();
            // A whole postal code: its communes first, before INSEE codes of the same digits.
            for i in self.by_postal.get(&code).into_iter().flatten() {
                candidates.push((MatchKind::Exact, Reverse(self.at(*i).population), *i));
            }
            let start = self.codes.partition_point(|(c, _)| **c < *code);
            for (_, i) in self.codes[start..]
                .iter()
                .take_while(|(c, _)| c.starts_with(code.as_str()))
            {
                candidates.push((MatchKind::Code, Reverse(self.at(*i).population), *i));
            }
        }
        // « saint » typed whole is the word « st » of the names, not the start of
        // « Strasbourg ».
        let whole_saint = query
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .rfind(|w| !w.is_empty())
            .is_some_and(|w| w == "saint" || w == "sainte");
        self.match_names(&key, false, whole_saint, &mut candidates);
        // "Sai", "Sain" are "Saint" being typed: the names hold "st", so look there too.
        if let Some(alt) = saint_being_typed(&key) {
            self.match_names(&alt, true, false, &mut candidates);
        }
        // Typos are looked for only when nothing else answers: the scan costs far more
        // than the bisections above.
        if candidates.is_empty() && !looks_like_code(&key) {
            self.match_typos(&key, &mut candidates);
        }
        best_distinct(candidates, limit)
            .into_iter()
            .map(|(kind, _, i)| CommuneMatch {
                commune: self.at(i),
                kind,
            })
            .collect()
    }

    /// Name entries starting with `key`, classified. A `partial` key stands for a word
    /// still being typed, so it can only be a prefix, never exact; with `whole_word`, the
    /// key's last word is complete (a name goes on with a space, or ends).
    fn match_names(&self, key: &str, partial: bool, whole_word: bool, out: &mut Vec<Candidate>) {
        let start = self.names.partition_point(|e| *e.key < *key);
        // Entries sharing the prefix are contiguous: find the end by bisection too, so
        // the scan below reads only the entries, never their strings.
        let end = start + self.names[start..].partition_point(|e| e.key.starts_with(key));
        let entries = self.names[start..end].iter().filter(|e| {
            !whole_word || matches!(e.key.as_bytes().get(key.len()), None | Some(b' '))
        });
        out.extend(entries.map(|e| {
            let kind = match (e.starts_name, e.key_len as usize == key.len() && !partial) {
                (true, true) => MatchKind::Exact,
                (true, false) => MatchKind::Prefix,
                (false, _) => MatchKind::Word,
            };
            (kind, Reverse(e.population), e.commune)
        }));
    }

    /// Names (whole, or their beginning being typed) a typo or two from `key`: one for a
    /// key of up to 6 letters, two beyond. The first letter is taken as typed right, which
    /// keeps the scan to the names starting with it (a few thousand at most).
    fn match_typos(&self, key: &str, out: &mut Vec<Candidate>) {
        let key = key.as_bytes();
        if !(4..=MAX_TYPED).contains(&key.len()) {
            return;
        }
        let most = if key.len() <= 6 { 1 } else { 2 };
        let first = &key[..1];
        let start = self.names.partition_point(|e| e.key.as_bytes() < first);
        let end =
            start + self.names[start..].partition_point(|e| e.key.as_bytes().starts_with(first));
        for e in self.names[start..end].iter().filter(|e| e.starts_name) {
            if begins_within(key, e.key.as_bytes(), most) {
                out.push((MatchKind::Fuzzy, Reverse(e.population), e.commune));
            }
        }
    }

    /// The commune whose town hall (or centre) is nearest to `point`, with the distance in metres.
    pub fn nearest(&self, point: Point) -> Option<(&Commune, f64)> {
        let found = self.located.nearest_neighbor(&unit_vector(point))?;
        let commune = self.at(found.commune);
        let distance = commune
            .position
            .map(|p| p.distance_m(point))
            .unwrap_or(f64::INFINITY);
        Some((commune, distance))
    }

    pub fn chain(&self, code: &str) -> Option<Chain<'_>> {
        let commune = self.commune(code)?;
        let commune_parent = commune
            .commune_parent
            .as_ref()
            .and_then(|p| self.commune(p.as_str()));
        let epci_code = commune
            .epci
            .as_ref()
            .or(commune_parent.and_then(|p| p.epci.as_ref()));
        Some(Chain {
            commune,
            commune_parent,
            epci: epci_code
                .and_then(|c| self.epci.get(c))
                .map(|i| &self.territoires.epci[*i as usize]),
            departement: self
                .departements
                .get(&commune.departement)
                .map(|i| &self.territoires.departements[*i as usize]),
            region: self
                .regions
                .get(&commune.region)
                .map(|i| &self.territoires.regions[*i as usize]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::begins_within;
    use proptest::prelude::*;

    proptest! {
        /// The banded scan says what a full OSA distance (`strsim`) says of every
        /// beginning of the name, on words of few letters (so that typos are frequent).
        #[test]
        fn the_banded_scan_agrees_with_the_full_distance(
            key in "[abc ]{1,10}",
            name in "[abc ]{1,14}",
            most in 1usize..=2,
        ) {
            let m = name.len().min(key.len() + most);
            let full = (key.len().saturating_sub(most)..=m)
                .any(|j| strsim::osa_distance(&key, &name[..j]) <= most);
            prop_assert_eq!(begins_within(key.as_bytes(), name.as_bytes(), most), full);
        }
    }
}
