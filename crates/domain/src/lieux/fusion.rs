//! The cross-source merge of lieux: are two records of the same commune the same place
//! (`compare`), and what the merged lieu says (`merge`).
//!
//! A comparison adds up evidence: each signal gives points for or against, the sum
//! gives the decision. Weights and thresholds were measured on `data/lieux/carto-2020/`
//! (France Services overlaps the regional hubs; see docs/DATA.md, « Fusion »). Missing
//! or approximate coordinates are never evidence: the national pipeline scored them as a
//! perfect match (reference §3.2), Relais gives them no weight at all.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use super::schema::LIST_FIELDS;
use super::valeurs::PIVOT_UNKNOWN;
use crate::territoires::Point;
use crate::text::search_key;

/// Articles, which say nothing of a name nor of a street.
const ARTICLES: &[&str] = &[
    "a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les",
];

/// Words of a name that say nothing about which place it is: [`ARTICLES`], and the words of
/// the 2020 names found in every kind of lieu (measured: the most frequent tokens of
/// carto-2020's 1,889 names). Words that say what kind of place it is (médiathèque,
/// mairie, mission locale…) are kept: they tell two neighbours apart.
const GENERIC_NAME_WORDS: &[&str] = &[
    "sur",
    "sous",
    "lès",
    "les",
    "maison",
    "maisons",
    "msap",
    "mfs",
    "espace",
    "espaces",
    "numerique",
    "numeriques",
    "point",
    "public",
    "publique",
    "service",
    "services",
    "france",
    "multimedia",
    "cyber",
    "epn",
    "antenne",
    "accueil",
    "informatique",
    "salle",
    "site",
    "lieu",
    "ur",
];

/// Words of a street that are its kind, not its name (`rue`, `avenue`…); with [`ARTICLES`].
const GENERIC_STREET_WORDS: &[&str] = &[
    "rue",
    "r",
    "avenue",
    "av",
    "ave",
    "boulevard",
    "bd",
    "bld",
    "place",
    "pl",
    "chemin",
    "ch",
    "route",
    "rte",
    "allee",
    "allees",
    "all",
    "impasse",
    "imp",
    "quai",
    "cours",
    "square",
    "sq",
    "rond",
    "point",
    "esplanade",
    "parvis",
    "passage",
    "che",
    "prom",
    "promenade",
    "bis",
    "ter",
    "quater",
    "b",
    "t",
];

/// Words of a name that say what kind of place it is: shared alone, they make two names
/// close, not the same (« Médiathèque » and « Médiathèque Louise Michel »).
const KIND_WORDS: &[&str] = &[
    "mediatheque",
    "bibliotheque",
    "centre",
    "social",
    "sociale",
    "mairie",
    "ccas",
    "mission",
    "locale",
    "intercommunal",
    "communal",
    "action",
    "socioculturel",
    "mjc",
    "pimms",
    "association",
    "agence",
    "pole",
    "emploi",
    "communaute",
    "commune",
    "cc",
    "jeunesse",
    "jeune",
    "information",
    "pij",
    "fablab",
    "cyberbase",
    "base",
    "tiers",
    "poste",
    "caf",
    "msa",
    "cpam",
    "relai",
    "relais",
    "pays",
];

/// Words that say the lieu is a France Services (or its ancestors, MSAP / MFS).
const FRANCE_SERVICES_WORDS: &[&str] = &["msap", "mfs", "rfs"];

/// Folded phrases that say the lieu is a France Services or one of its ancestors (the
/// « maisons de services au public », a town's « plateforme des services au public »).
const FRANCE_SERVICES_PHRASES: &[&str] = &["france services", "services au public"];

/// Abbreviations of the kinds of lieux, written out so that « PIJ de Commentry » and
/// « Point Information Jeunesse » compare word for word.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("pij", "point information jeunesse"),
    ("bij", "bureau information jeunesse"),
    ("info", "information"),
    ("infos", "information"),
    ("cias", "centre intercommunal action sociale"),
    ("ccas", "centre communal action sociale"),
    ("cs", "centre social"),
    ("csc", "centre socioculturel"),
    ("milo", "mission locale"),
    ("epn", "espace public numerique"),
];

/// A folded name with its abbreviations written out ([`ABBREVIATIONS`]).
fn expand(key: &str) -> String {
    key.split(' ')
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(short, _)| *short == w)
                .map_or(w, |(_, long)| long)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mail and web hosts shared by unrelated lieux: the same one says nothing.
const SHARED_HOSTS: &[&str] = &[
    "gmail.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "laposte.fr",
    "pimms.org",
    "hotmail.fr",
    "hotmail.com",
    "yahoo.fr",
    "yahoo.com",
    "outlook.fr",
    "outlook.com",
    "sfr.fr",
    "neuf.fr",
    "live.fr",
    "facebook.com",
    "fr-fr.facebook.com",
    "m.facebook.com",
    "twitter.com",
    "instagram.com",
    "linkedin.com",
    "google.com",
    "sites.google.com",
    "wixsite.com",
    "jimdo.com",
    "franceservices.gouv.fr",
    "lannuaire.service-public.fr",
    "service-public.fr",
    "anct.gouv.fr",
    "cartographie.societenumerique.gouv.fr",
];

/// Points of evidence (see `Comparaison::score`).
pub mod poids {
    /// Same SIRET (same establishment).
    pub const SIRET: f64 = 4.0;
    /// Same SIREN, different establishment: same organisation, maybe another place.
    pub const SIREN: f64 = 1.0;
    /// Both SIREN known and different.
    pub const SIREN_AUTRE: f64 = -1.5;
    pub const TELEPHONE: f64 = 3.0;
    pub const COURRIEL: f64 = 3.0;
    /// Same mail domain (not a shared one such as orange.fr).
    pub const DOMAINE: f64 = 1.0;
    pub const SITE: f64 = 2.0;
    /// Distinctive words of the names: all of the shorter name in the longer one.
    pub const NOM_INCLUS: f64 = 3.0;
    /// Half of them at least.
    pub const NOM_PROCHE: f64 = 1.5;
    /// Both names have distinctive words, none shared.
    pub const NOM_AUTRE: f64 = -2.5;
    /// The same name, made of generic words only (« Point numérique »): weak evidence.
    pub const NOM_GENERIQUE: f64 = 1.5;
    /// Both say France Services (MSAP, MFS).
    pub const FRANCE_SERVICES: f64 = 1.5;
    /// Same number and street.
    pub const MEME_ADRESSE: f64 = 3.0;
    /// Same street, one number missing.
    pub const MEME_RUE: f64 = 1.5;
    /// Same street, other number.
    pub const AUTRE_NUMERO: f64 = -1.5;
    /// Streets without a word in common.
    pub const AUTRE_RUE: f64 = -1.5;
    /// Distance between exact positions.
    pub const DISTANCE_30: f64 = 2.0;
    pub const DISTANCE_100: f64 = 1.0;
    pub const DISTANCE_1000: f64 = -1.5;
    pub const DISTANCE_LOIN: f64 = -3.0;
}

/// At or above: the same place (when `Comparaison::decision`'s other conditions hold).
pub const SEUIL_MEME: f64 = 5.0;
/// At or above (and below `SEUIL_MEME`): a human looks.
pub const SEUIL_REVUE: f64 = 3.0;

/// What a record says that a comparison needs, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Fiche {
    pub nom: String,
    /// The whole name folded (`search_key`), generic words included.
    pub nom_cle: String,
    /// Distinctive words of the name (without generic words nor the commune's name).
    pub mots_nom: BTreeSet<String>,
    pub numero: Option<String>,
    pub mots_rue: BTreeSet<String>,
    /// Only exact positions: `None` when missing or approximate.
    pub position: Option<Point>,
    pub siret: Option<String>,
    pub telephone: Option<String>,
    pub courriels: BTreeSet<String>,
    pub domaines: BTreeSet<String>,
    pub sites: BTreeSet<String>,
    pub france_services: bool,
}

impl Fiche {
    /// From a schema v1.0.1 row, its position, and whether that position is only the
    /// commune's.
    pub fn new<R: super::Row + ?Sized>(
        row: &R,
        position: Option<Point>,
        approximate: bool,
    ) -> Fiche {
        let get = |f: &str| row.get(f).unwrap_or("").trim();
        let commune: BTreeSet<String> = search_key(get("commune"))
            .split(' ')
            .map(str::to_string)
            .collect();
        let nom_key = search_key(get("nom"));
        let nom_cle = expand(&nom_key);
        let mots_nom = nom_cle
            .split(' ')
            .filter(|w| {
                !w.is_empty()
                    && !ARTICLES.contains(w)
                    && !GENERIC_NAME_WORDS.contains(w)
                    && !commune.contains(*w)
            })
            .filter(|w| !(w.len() == 1 && w.bytes().all(|b| b.is_ascii_alphabetic())))
            .map(plural)
            .collect();
        let (numero, mut mots_rue) = address(get("adresse"));
        // An address that is only the commune's name (« Toulouse »): no street to compare,
        // and a position geocoded to the town centre however the producer marks it.
        let only_commune = numero.is_none()
            && !mots_rue.is_empty()
            && mots_rue
                .iter()
                .all(|w| commune.contains(w) || commune.contains(&plural(w)));
        if only_commune {
            mots_rue.clear();
        }
        let siret = Some(get("pivot"))
            .filter(|p| {
                p.len() == 14 && *p != PIVOT_UNKNOWN && p.bytes().all(|b| b.is_ascii_digit())
            })
            .map(str::to_string);
        let list = |f: &str| -> Vec<String> {
            get(f)
                .split('|')
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let courriels: BTreeSet<String> = list("courriels").into_iter().collect();
        let domaines = courriels
            .iter()
            .filter_map(|c| c.rsplit_once('@').map(|(_, d)| d.to_string()))
            .filter(|d| !SHARED_HOSTS.contains(&d.as_str()))
            .collect();
        let sites = list("site_web")
            .iter()
            .filter_map(|u| host(u))
            .filter(|h| !SHARED_HOSTS.contains(&h.as_str()))
            .collect();
        let typologie = get("typologie");
        let france_services = get("dispositif_programmes_nationaux").contains("France Services")
            || typologie.split('|').any(|t| t == "RFS" || t == "MSAP")
            || nom_key
                .split(' ')
                .any(|w| FRANCE_SERVICES_WORDS.contains(&w))
            || FRANCE_SERVICES_PHRASES.iter().any(|p| nom_key.contains(p));
        Fiche {
            nom: get("nom").to_string(),
            nom_cle,
            mots_nom,
            numero,
            mots_rue,
            position: position.filter(|_| !approximate && !only_commune),
            siret,
            telephone: Some(get("telephone"))
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            courriels,
            domaines,
            sites,
            france_services,
        }
    }
}

/// `mediatheques` and `mediatheque` are one word.
fn plural(w: &str) -> String {
    match w.strip_suffix('s') {
        Some(stem) if stem.len() >= 4 => stem.to_string(),
        _ => w.to_string(),
    }
}

/// The house number (with `bis`, `ter`… folded into it) and the distinctive words of a
/// street line (`12 bis Rue Jean Jaurès` → `12bis`, {jean, jaures}).
fn address(line: &str) -> (Option<String>, BTreeSet<String>) {
    let key = search_key(line);
    let words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    let mut numero = None;
    let mut rue = BTreeSet::new();
    for (i, w) in words.iter().enumerate() {
        let digits = w.bytes().take_while(u8::is_ascii_digit).count();
        // A number in the street's name (`Place du 8 Mai 1945`) is not a house number.
        if i == 0 && digits > 0 && digits <= 4 {
            let suffix = match (&w[digits..], words.get(i + 1)) {
                ("", Some(&s)) if matches!(s, "bis" | "ter" | "quater" | "b" | "t") => s,
                (s, _) => s,
            };
            numero = Some(format!("{}{suffix}", &w[..digits]));
            continue;
        }
        // `5-9 rue…`: the second number of a range.
        if i == 1 && numero.is_some() && w.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if !ARTICLES.contains(w) && !GENERIC_STREET_WORDS.contains(w) {
            rue.insert(plural(w));
        }
    }
    (numero, rue)
}

/// The host of a web address, without `www.`.
fn host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let h = rest
        .split(['/', '?', '#'])
        .next()?
        .trim_start_matches("www.");
    (h.contains('.')).then(|| h.to_string())
}

/// Shared words over the words of the shorter set; `None` when either is empty.
fn containment(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let shared = a.intersection(b).count();
    Some(shared as f64 / a.len().min(b.len()) as f64)
}

/// How the two addresses compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccordAdresse {
    MemeAdresse,
    MemeRue,
    AutreNumero,
    AutreRue,
    /// One street unknown, or streets half alike.
    Inconnu,
}

/// How the two names compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccordNom {
    Inclus,
    Proche,
    Autre,
    /// One name has no distinctive word (e.g. France Services named after the commune).
    Inconnu,
}

/// What is the same and what differs between two records.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparaison {
    pub nom: AccordNom,
    /// Shared distinctive words of the names over the shorter one's.
    pub nom_score: Option<f64>,
    /// The same whole name (folded, abbreviations written out), even when it has no
    /// distinctive word; or the same distinctive words.
    pub nom_identique: bool,
    pub adresse: AccordAdresse,
    /// Metres between exact positions; `None` when either is missing or approximate.
    pub distance_m: Option<f64>,
    pub siret: bool,
    pub siren: Option<bool>,
    pub telephone: bool,
    /// Both telephones known, and different.
    pub autre_telephone: bool,
    pub courriel: bool,
    pub domaine: bool,
    pub site: bool,
    pub france_services: bool,
    /// One says France Services and the other does not.
    pub france_services_seul: bool,
    /// One gives neither a telephone nor an e-mail.
    pub muet: bool,
    /// The words one name has and the other lacks say a kind of place ([`KIND_WORDS`]).
    pub autre_genre: bool,
    /// Each name says a kind of place the other does not (« Mairie de quartier Mansart »,
    /// « Bibliothèque Mansart »): two kinds of place.
    pub deux_genres: bool,
    pub score: f64,
}

/// What to do with a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    Same,
    Review,
    Different,
}

impl Comparaison {
    /// Something says it is the same organisation or place, beyond being at the same spot:
    /// two lieux in one building (a médiathèque and a mairie) share an address only.
    /// A France Services and another service of its building (« Vallée du Haut Anjou »
    /// and « Point Info Jeunes Vallées du Haut-Anjou ») share a name and an address but
    /// no contact, the other's name saying its own kind: there, only a contact says they
    /// are one. Without another kind (« Strasbourg Lizé » and the post office « Strasbourg
    /// Lize BP » that hosts it), the names do.
    pub fn identity(&self) -> bool {
        let names = matches!(self.nom, AccordNom::Inclus | AccordNom::Proche)
            || (self.nom_identique && self.same_spot());
        (names && !(self.france_services_seul && self.autre_genre))
            || self.contact()
            || self.site
            || self.france_services
    }

    /// A telephone, an e-mail or a SIRET in common.
    fn contact(&self) -> bool {
        self.telephone || self.courriel || self.siret
    }

    /// The names agree whole: every distinctive word of one in the other, or the same
    /// whole name.
    fn names_whole(&self) -> bool {
        self.nom == AccordNom::Inclus || self.nom_identique
    }

    /// The names agree whole and a contact agrees: the same service.
    fn same_service(&self) -> bool {
        self.names_whole() && self.contact()
    }

    /// The same service for sure, wherever each producer put it: the names agree whole and
    /// the SIRET, or both the telephone and the e-mail (an organisation's permanences
    /// often share one of them, rarely both).
    fn same_service_elsewhere(&self) -> bool {
        self.names_whole() && (self.siret || self.telephone && self.courriel)
    }

    /// Nothing says they are in different places. Positions are often a few hundred metres
    /// off (geocoded anew by each producer): within 1 km when the streets agree, and 2 km
    /// for [`Self::same_service_elsewhere`], they do not part two records; another street
    /// parts them unless it is that same service (a building on a corner, an address
    /// written otherwise).
    pub fn colocated(&self) -> bool {
        let sure = self.same_service_elsewhere();
        let reach = if sure {
            2000.0
        } else if self.streets_agree() {
            1000.0
        } else {
            300.0
        };
        let near = self.distance_m.is_none_or(|d| d <= reach);
        let other_street = match self.adresse {
            AccordAdresse::AutreNumero => true,
            AccordAdresse::AutreRue => !sure && !self.corner(),
            _ => false,
        };
        near && !other_street
    }

    /// The sum of the points of evidence ([`poids`]). [`Self::same_service_elsewhere`]
    /// loses no points for another street or up to 2 km: street names and positions are
    /// each producer's own.
    fn points(&self) -> f64 {
        use poids::*;
        let forgiven = self.same_service_elsewhere();
        let nom = match self.nom {
            AccordNom::Inclus => NOM_INCLUS,
            AccordNom::Proche => NOM_PROCHE,
            AccordNom::Autre => NOM_AUTRE,
            AccordNom::Inconnu if self.nom_identique => NOM_GENERIQUE,
            AccordNom::Inconnu => 0.0,
        };
        let adresse = match self.adresse {
            AccordAdresse::MemeAdresse => MEME_ADRESSE,
            AccordAdresse::MemeRue => MEME_RUE,
            AccordAdresse::AutreNumero => AUTRE_NUMERO,
            AccordAdresse::AutreRue if forgiven || self.corner() => 0.0,
            AccordAdresse::AutreRue => AUTRE_RUE,
            AccordAdresse::Inconnu => 0.0,
        };
        let distance = match self.distance_m {
            None => 0.0,
            Some(d) if d <= 30.0 => DISTANCE_30,
            Some(d) if d <= 100.0 => DISTANCE_100,
            Some(d) if d <= 300.0 => 0.0,
            // The same street a few hundred metres apart: one producer's geocoding is off.
            Some(d) if d <= 1000.0 && self.streets_agree() => 0.0,
            Some(d) if d <= 2000.0 && forgiven => 0.0,
            Some(d) if d <= 1000.0 => DISTANCE_1000,
            Some(_) => DISTANCE_LOIN,
        };
        let siret = match (self.siret, self.siren) {
            (true, _) => SIRET,
            (false, Some(true)) => SIREN,
            (false, Some(false)) => SIREN_AUTRE,
            (false, None) => 0.0,
        };
        let courriel = if self.courriel {
            COURRIEL
        } else if self.domaine {
            DOMAINE
        } else {
            0.0
        };
        let yes = |signal: bool, points: f64| if signal { points } else { 0.0 };
        nom + adresse
            + distance
            + siret
            + courriel
            + yes(self.telephone, TELEPHONE)
            + yes(self.site, SITE)
            + yes(self.france_services, FRANCE_SERVICES)
    }

    fn streets_agree(&self) -> bool {
        matches!(
            self.adresse,
            AccordAdresse::MemeAdresse | AccordAdresse::MemeRue
        )
    }

    /// Exact positions within 30 m: one building, whose entrances may be on two streets
    /// (each producer writes the one it knows).
    fn corner(&self) -> bool {
        self.distance_m.is_some_and(|d| d <= 30.0)
    }

    /// Both France Services with a telephone or an e-mail in common, their names not
    /// apart: one guichet, wherever each producer put it in the commune (a commune
    /// nouvelle spans villages a few kilometres apart; France Services lists each guichet
    /// under its commune's name).
    fn same_guichet(&self) -> bool {
        self.france_services && self.contact() && self.nom != AccordNom::Autre
    }

    /// The same number and street, or exact positions within 30 m.
    fn same_spot(&self) -> bool {
        self.adresse == AccordAdresse::MemeAdresse || self.corner()
    }

    /// [`Self::same_spot`] for two records of one producer: its positions at exactly the
    /// same point on a street without house numbers were geocoded from the same street
    /// name (38 records of one 2020 file share a single point in Toulouse); they say the
    /// street, not the building.
    fn same_spot_within_source(&self) -> bool {
        self.adresse == AccordAdresse::MemeAdresse
            || self.corner() && self.distance_m.is_some_and(|d| d >= 1.0)
    }

    /// The decision for two records of one producer, which lists a place twice by
    /// mistake but two services of one building (a centre social and the France Services
    /// it hosts, a médiathèque and its cyber-espace, each with its own telephone) on
    /// purpose: the same only when the rules say so, the names agree whole (every
    /// distinctive word of one in the other) and a contact agrees too (telephone, e-mail,
    /// SIRET) — or the whole name is the same at the same spot. Never sent to review: a
    /// person would learn nothing the producer did not already say.
    pub fn decision_within_source(&self) -> Decision {
        let twins = self.nom_identique && self.same_spot_within_source();
        // Or a contact at the same spot, the names not apart: one service under two names
        // (« Espace Alfred Sisley », « EPN des quartiers Sud-Est (Espace Sisley) »), not a
        // France Services and its neighbour at one switchboard, nor two kinds of place (the
        // CCAS and the centre social of a town hall).
        let renamed = self.contact()
            && !self.autre_telephone
            && !self.france_services_seul
            && self.nom != AccordNom::Autre
            && !self.deux_genres
            && self.same_spot();
        // One producer writes each of its places' own address: another street, or more
        // than 300 m away on a street that is not the same, is another place (an
        // adviser's two permanences).
        let apart = matches!(
            self.adresse,
            AccordAdresse::AutreRue | AccordAdresse::AutreNumero
        ) || (!self.streets_agree() && self.distance_m.is_some_and(|d| d > 300.0));
        // Or one record gives no contact at all, at the same spot as another under a name
        // not apart nor of another kind: the same place listed again without its contacts
        // (« Point numérique de Nevers » at the préfecture's « Point d'accueil numérique »,
        // « PANDA Bourroches » in the « MJC-Centre social des Bourroches »).
        let bare = self.muet
            && self.nom != AccordNom::Autre
            && !self.deux_genres
            && !self.france_services_seul
            && self.same_spot_within_source();
        let judged = self.decision() == Decision::Same && (self.same_service() || twins || renamed);
        if (judged || bare) && !apart {
            Decision::Same
        } else {
            Decision::Different
        }
    }

    pub fn decision(&self) -> Decision {
        // The same name at the same number and street is the same lieu, however generic
        // the name: nothing is left for a person to see.
        let twins = self.nom_identique && self.same_spot();
        if (self.score >= SEUIL_MEME && self.identity() || twins) && self.colocated()
            || self.same_guichet()
        {
            Decision::Same
        } else if self.score >= SEUIL_REVUE {
            Decision::Review
        } else {
            Decision::Different
        }
    }
}

/// The pairs of records worth comparing (indices, `a < b`, in order): those that share
/// a word of the name or of the street, the whole name, a telephone, an e-mail or its
/// domain, a site, a SIREN, or exact positions within about 100 m. Any other pair scores
/// below [`SEUIL_REVUE`] (at most France Services on both sides), so it is not compared:
/// a commune of thousands of records costs what their likenesses cost, not its square.
pub fn comparable_pairs(fiches: &[&Fiche]) -> Vec<(usize, usize)> {
    // A cell of 0.001° of latitude by 0.0015° of longitude is at least 100 m a side in
    // France (up to 51° N); positions within 100 m are in the same or a neighbouring cell.
    let cell = |p: Point| {
        (
            (p.lat / 0.001).floor() as i64,
            (p.lon / 0.0015).floor() as i64,
        )
    };
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_cell: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, f) in fiches.iter().enumerate() {
        let keys = f
            .mots_nom
            .iter()
            .map(|w| format!("n:{w}"))
            .chain(f.mots_rue.iter().map(|w| format!("r:{w}")))
            .chain((!f.nom_cle.is_empty()).then(|| format!("N:{}", f.nom_cle)))
            .chain(f.telephone.iter().map(|t| format!("t:{t}")))
            .chain(f.courriels.iter().map(|c| format!("c:{c}")))
            .chain(f.domaines.iter().map(|d| format!("d:{d}")))
            .chain(f.sites.iter().map(|h| format!("s:{h}")))
            .chain(f.siret.iter().map(|s| format!("S:{}", &s[..9])));
        for k in keys {
            by_key.entry(k).or_default().push(i);
        }
        if let Some(p) = f.position {
            by_cell.entry(cell(p)).or_default().push(i);
        }
    }
    let mut pairs: HashSet<(usize, usize)> = HashSet::new();
    let mut add = |a: usize, b: usize| {
        if a != b {
            pairs.insert((a.min(b), a.max(b)));
        }
    };
    for group in by_key.values() {
        for (k, &a) in group.iter().enumerate() {
            for &b in &group[k + 1..] {
                add(a, b);
            }
        }
    }
    for (&(y, x), group) in &by_cell {
        for dy in -1..=1 {
            for dx in -1..=1 {
                if let Some(near) = by_cell.get(&(y + dy, x + dx)) {
                    for &a in group {
                        for &b in near {
                            add(a, b);
                        }
                    }
                }
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs
}

/// Whether `a`'s name says a kind of place that `b`'s does not.
fn own_kind(a: &Fiche, b: &Fiche) -> bool {
    a.mots_nom
        .difference(&b.mots_nom)
        .any(|w| KIND_WORDS.contains(&w.as_str()))
}

/// How near a lieu of a neighbouring commune must be to be compared: a lieu placed a few
/// hundred metres off (each producer geocodes anew) or given the commune next door (a
/// postal code shared by several communes).
pub const VOISINAGE_M: f64 = 300.0;

/// The pairs of points (indices, `a < b`, in order) of different communes within
/// `reach_m` of each other.
pub fn neighbours(points: &[(Point, &str)], reach_m: f64) -> Vec<(usize, usize)> {
    // Cells at least `reach_m` a side in France (up to 51° N): pairs within reach are in
    // the same or a neighbouring cell.
    let (dlat, dlon) = (reach_m / 111_000.0, reach_m / 70_000.0);
    let cell = |p: Point| ((p.lat / dlat).floor() as i64, (p.lon / dlon).floor() as i64);
    let mut by_cell: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, (p, _)) in points.iter().enumerate() {
        by_cell.entry(cell(*p)).or_default().push(i);
    }
    let mut out = Vec::new();
    for (i, (p, commune)) in points.iter().enumerate() {
        let (y, x) = cell(*p);
        for dy in -1..=1 {
            for dx in -1..=1 {
                for &j in by_cell.get(&(y + dy, x + dx)).into_iter().flatten() {
                    let (q, other) = points[j];
                    if i < j && other != *commune && p.distance_m(q) <= reach_m {
                        out.push((i, j));
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// Compares two records of the same commune. Symmetric.
pub fn compare(a: &Fiche, b: &Fiche) -> Comparaison {
    let nom_score = containment(&a.mots_nom, &b.mots_nom);
    let only_kinds = a
        .mots_nom
        .intersection(&b.mots_nom)
        .all(|w| KIND_WORDS.contains(&w.as_str()));
    let nom = match nom_score {
        None => AccordNom::Inconnu,
        Some(s) if s >= 0.999 && (!only_kinds || a.mots_nom == b.mots_nom) => AccordNom::Inclus,
        Some(s) if s >= 0.5 => AccordNom::Proche,
        Some(s) if s > 0.0 => AccordNom::Inconnu,
        Some(_) => AccordNom::Autre,
    };
    let rue = containment(&a.mots_rue, &b.mots_rue);
    let adresse = match (rue, &a.numero, &b.numero) {
        (Some(r), Some(x), Some(y)) if r >= 0.8 && x == y => AccordAdresse::MemeAdresse,
        (Some(r), Some(_), Some(_)) if r >= 0.8 => AccordAdresse::AutreNumero,
        (Some(r), _, _) if r >= 0.8 => AccordAdresse::MemeRue,
        (Some(0.0), _, _) => AccordAdresse::AutreRue,
        _ => AccordAdresse::Inconnu,
    };
    let courriel = !a.courriels.is_disjoint(&b.courriels);
    let mut c = Comparaison {
        nom,
        nom_score,
        nom_identique: !a.nom_cle.is_empty() && a.nom_cle == b.nom_cle
            || !a.mots_nom.is_empty() && a.mots_nom == b.mots_nom,
        adresse,
        distance_m: match (a.position, b.position) {
            (Some(p), Some(q)) => Some(p.distance_m(q)),
            _ => None,
        },
        siret: matches!((&a.siret, &b.siret), (Some(x), Some(y)) if x == y),
        siren: match (&a.siret, &b.siret) {
            (Some(x), Some(y)) => Some(x[..9] == y[..9]),
            _ => None,
        },
        telephone: matches!((&a.telephone, &b.telephone), (Some(x), Some(y)) if x == y),
        autre_telephone: matches!((&a.telephone, &b.telephone), (Some(x), Some(y)) if x != y),
        courriel,
        domaine: !courriel && !a.domaines.is_disjoint(&b.domaines),
        site: !a.sites.is_disjoint(&b.sites),
        france_services: a.france_services && b.france_services,
        france_services_seul: a.france_services != b.france_services,
        autre_genre: own_kind(a, b) || own_kind(b, a),
        deux_genres: own_kind(a, b) && own_kind(b, a),
        muet: [a, b]
            .iter()
            .any(|f| f.telephone.is_none() && f.courriels.is_empty()),
        score: 0.0,
    };
    c.score = c.points();
    c
}

/// One record going into a merge.
#[derive(Debug, Clone, PartialEq)]
pub struct Membre<'a> {
    pub source: &'a str,
    /// Schema v1.0.1 row (empty values absent or empty).
    pub row: &'a BTreeMap<String, String>,
    /// Whether its coordinates are its own (not the commune's).
    pub exact: bool,
}

/// Which source gave a field's value, and the date of that source's record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Origine {
    pub source: String,
    pub date_maj: String,
}

/// The origins of a lieu's fields as stored: each origin once, and for each field the
/// places of its origins in that list (a lieu of one record named the same source and
/// date for each of its thirty fields: half of the lieu's stored size).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Origines {
    pub sources: Vec<Origine>,
    pub champs: BTreeMap<String, Vec<usize>>,
}

impl Origines {
    pub fn new<'a>(fields: impl IntoIterator<Item = (&'a str, &'a [Origine])>) -> Self {
        let mut out = Origines::default();
        for (field, origines) in fields {
            let places = origines
                .iter()
                .map(|o| match out.sources.iter().position(|s| s == o) {
                    Some(i) => i,
                    None => {
                        out.sources.push(o.clone());
                        out.sources.len() - 1
                    }
                })
                .collect();
            out.champs.insert(field.to_string(), places);
        }
        out
    }

    /// The origins of `field`, the first one first.
    pub fn of(&self, field: &str) -> Vec<&Origine> {
        self.champs
            .get(field)
            .map(|places| places.iter().filter_map(|&i| self.sources.get(i)).collect())
            .unwrap_or_default()
    }
}

/// The merged row and, for each field, where its value comes from (the first origin is
/// the one that gave a scalar, or the freshest of a list's).
#[derive(Debug, Clone, PartialEq)]
pub struct Fusion {
    pub row: BTreeMap<String, String>,
    pub provenance: BTreeMap<String, Vec<Origine>>,
    /// The member whose position the merged lieu takes.
    pub position_de: usize,
}

fn value<'a>(row: &'a BTreeMap<String, String>, field: &str) -> &'a str {
    let v = row.get(field).map_or("", |v| v.trim());
    if field == "pivot" && v == PIVOT_UNKNOWN {
        ""
    } else {
        v
    }
}

/// Merges records of one place. Freshest `date_maj` first (on a tie, the earlier
/// member): a scalar takes the freshest non-empty value (a value beats an empty one),
/// lists are united (freshest values first, without duplicates), latitude and longitude
/// go together and come from the freshest member with exact ones.
pub fn merge(membres: &[Membre<'_>]) -> Fusion {
    let mut order: Vec<usize> = (0..membres.len()).collect();
    // Stable sort: equal dates keep the caller's order.
    order
        .sort_by(|&i, &j| value(membres[j].row, "date_maj").cmp(value(membres[i].row, "date_maj")));
    let origine = |i: usize| Origine {
        source: membres[i].source.to_string(),
        date_maj: value(membres[i].row, "date_maj").to_string(),
    };
    let mut row = BTreeMap::new();
    let mut provenance = BTreeMap::new();
    let fields: BTreeSet<&str> = membres
        .iter()
        .flat_map(|m| m.row.keys().map(String::as_str))
        .filter(|f| *f != "latitude" && *f != "longitude")
        .collect();
    for field in fields {
        if LIST_FIELDS.contains(&field) {
            let mut values: Vec<&str> = Vec::new();
            let mut from = Vec::new();
            for &i in &order {
                let mut gave = false;
                for v in value(membres[i].row, field).split('|').map(str::trim) {
                    if !v.is_empty() && !values.contains(&v) {
                        values.push(v);
                        gave = true;
                    }
                }
                if gave {
                    from.push(origine(i));
                }
            }
            if !values.is_empty() {
                row.insert(field.to_string(), values.join("|"));
                provenance.insert(field.to_string(), from);
            }
        } else if let Some(&i) = order
            .iter()
            .find(|&&i| !value(membres[i].row, field).is_empty())
        {
            row.insert(field.to_string(), value(membres[i].row, field).to_string());
            provenance.insert(field.to_string(), vec![origine(i)]);
        }
    }
    let has_position = |i: usize| {
        !value(membres[i].row, "latitude").is_empty()
            && !value(membres[i].row, "longitude").is_empty()
    };
    let position_de = order
        .iter()
        .copied()
        .find(|&i| membres[i].exact && has_position(i))
        .or_else(|| order.iter().copied().find(|&i| has_position(i)))
        .unwrap_or(order.first().copied().unwrap_or(0));
    if has_position(position_de) {
        for f in ["latitude", "longitude"] {
            row.insert(
                f.to_string(),
                value(membres[position_de].row, f).to_string(),
            );
            provenance.insert(f.to_string(), vec![origine(position_de)]);
        }
    }
    Fusion {
        row,
        provenance,
        position_de,
    }
}

/// Union-find over `n` items: the clusters of pairs judged the same.
#[derive(Debug, Clone)]
pub struct Partition {
    parent: Vec<usize>,
}

impl Partition {
    pub fn new(n: usize) -> Partition {
        Partition {
            parent: (0..n).collect(),
        }
    }

    pub fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.parent[r] != r {
            r = self.parent[r];
        }
        let mut j = i;
        while self.parent[j] != r {
            let next = self.parent[j];
            self.parent[j] = r;
            j = next;
        }
        r
    }

    /// Joins the clusters of `a` and `b`; the smaller root stays the root, so that the
    /// result does not depend on the order of the unions.
    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            self.parent[hi] = lo;
        }
    }

    /// The clusters, each sorted, by their first item.
    pub fn clusters(&mut self) -> Vec<Vec<usize>> {
        let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..self.parent.len() {
            let r = self.find(i);
            by.entry(r).or_default().push(i);
        }
        by.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(fields: &[(&str, &str)]) -> BTreeMap<String, String> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn fiche(fields: &[(&str, &str)], position: Option<(f64, f64)>) -> Fiche {
        let mut all = vec![("commune", "Semur-en-Auxois")];
        all.extend_from_slice(fields);
        Fiche::new(
            &row(&all),
            position.map(|(lat, lon)| Point { lat, lon }),
            false,
        )
    }

    #[test]
    fn origins_are_stored_once_and_read_back_per_field() {
        let ville = Origine {
            source: "ville".into(),
            date_maj: "2024-01-02".into(),
        };
        let reseau = Origine {
            source: "reseau".into(),
            date_maj: "2025-03-04".into(),
        };
        let both = [reseau.clone(), ville.clone()];
        let o = Origines::new([
            ("nom", &both[..1]),
            ("services", &both[..]),
            ("horaires", std::slice::from_ref(&ville)),
        ]);
        assert_eq!(o.sources, [reseau.clone(), ville.clone()]);
        assert_eq!(o.of("services"), [&reseau, &ville]);
        assert_eq!(o.of("horaires"), [&ville]);
        assert!(o.of("adresse").is_empty());
    }

    #[test]
    fn names_lose_generic_words_and_the_commune() {
        let f = fiche(&[("nom", "MSAP de Semur-en-Auxois")], None);
        assert!(f.mots_nom.is_empty());
        assert!(f.france_services);
        let f = fiche(&[("nom", "Médiathèques Jean-Paul Sartre")], None);
        assert_eq!(
            f.mots_nom.iter().map(String::as_str).collect::<Vec<_>>(),
            ["jean", "mediatheque", "paul", "sartre"]
        );
    }

    #[test]
    fn addresses_split_number_and_street() {
        let (n, r) = address("12 bis Rue Jean Jaurès");
        assert_eq!(n.as_deref(), Some("12bis"));
        assert_eq!(r.into_iter().collect::<Vec<_>>(), ["jaure", "jean"]);
        let (n, r) = address("Place du 8 Mai 1945");
        assert_eq!(n, None);
        assert!(r.contains("8") && r.contains("mai"));
        let (n, _) = address("3B avenue Pasteur");
        assert_eq!(n.as_deref(), Some("3b"));
    }

    #[test]
    fn same_place_two_sources() {
        let a = fiche(
            &[
                ("nom", "MSAP Semur-en-Auxois"),
                ("adresse", "1 Avenue Pasteur"),
            ],
            Some((47.4905, 4.3340)),
        );
        let b = fiche(
            &[
                ("nom", "Semur-en-Auxois"),
                ("adresse", "1 avenue pasteur"),
                ("dispositif_programmes_nationaux", "France Services"),
                ("telephone", "+33662270101"),
            ],
            Some((47.4906, 4.3341)),
        );
        let c = compare(&a, &b);
        assert_eq!(c.adresse, AccordAdresse::MemeAdresse);
        assert!(c.france_services);
        assert_eq!(c.decision(), Decision::Same, "{c:?}");
    }

    #[test]
    fn neighbours_in_one_building_are_not_merged_without_identity() {
        let a = fiche(
            &[("nom", "Médiathèque"), ("adresse", "1 Avenue Pasteur")],
            Some((47.4905, 4.3340)),
        );
        let b = fiche(
            &[("nom", "Mairie"), ("adresse", "1 Avenue Pasteur")],
            Some((47.4905, 4.3340)),
        );
        assert_ne!(compare(&a, &b).decision(), Decision::Same);
    }

    #[test]
    fn a_generic_name_is_weak_evidence_not_a_veto() {
        let at = |nom: &str, adresse: &str, position: Option<(f64, f64)>| {
            fiche(&[("nom", nom), ("adresse", adresse)], position)
        };
        // The same generic name at the same number and street: merged without review,
        // with or without positions.
        for position in [None, Some((45.0, 4.0))] {
            let c = compare(
                &at("Point Numérique", "3 rue de la Gare", position),
                &at("POINT NUMERIQUE", "3 Rue de la Gare", position),
            );
            assert!(c.nom_identique);
            assert_eq!(c.decision(), Decision::Same, "{c:?}");
        }
        // Within 30 m, on a street written differently: the same name is identity.
        let c = compare(
            &at("Médiation numérique", "Place du Marché", Some((45.0, 4.0))),
            &at(
                "Médiation numérique",
                "2 place du marche",
                Some((45.0001, 4.0)),
            ),
        );
        assert_eq!(c.decision(), Decision::Same, "{c:?}");
        // Another generic name in the same building stays apart.
        let c = compare(
            &at("Point Numérique", "3 rue de la Gare", None),
            &at(
                "Accueil individuel en accès libre",
                "3 rue de la Gare",
                None,
            ),
        );
        assert!(!c.nom_identique);
        assert_ne!(c.decision(), Decision::Same, "{c:?}");
        // The same generic name in another street is not the same lieu.
        let c = compare(
            &at("Point Numérique", "3 rue de la Gare", None),
            &at("Point Numérique", "12 avenue Foch", None),
        );
        assert_ne!(c.decision(), Decision::Same, "{c:?}");
    }

    #[test]
    fn neighbours_are_the_pairs_of_two_communes_within_reach() {
        // A deterministic scatter over a few kilometres and three communes.
        let mut seed = 7u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f64 / 10_000.0
        };
        let communes = ["01001", "01002", "01003"];
        let points: Vec<(Point, &str)> = (0..400)
            .map(|i| {
                let p = Point {
                    lat: 45.0 + next() * 0.03,
                    lon: 5.0 + next() * 0.04,
                };
                (p, communes[i % 3])
            })
            .collect();
        let mut brute = Vec::new();
        for i in 0..points.len() {
            for j in i + 1..points.len() {
                if points[i].1 != points[j].1 && points[i].0.distance_m(points[j].0) <= VOISINAGE_M
                {
                    brute.push((i, j));
                }
            }
        }
        assert!(brute.len() > 100, "{}", brute.len());
        assert_eq!(neighbours(&points, VOISINAGE_M), brute);
    }

    #[test]
    fn abbreviations_are_written_out() {
        let a = fiche(
            &[
                ("nom", "Point Information Jeunesse"),
                ("adresse", "Rue de l'Hôtel de Ville"),
                ("telephone", "+33470092836"),
                ("courriels", "pij@example.fr"),
            ],
            Some((46.0, 3.0)),
        );
        let b = fiche(
            &[
                ("nom", "PIJ de Semur-en-Auxois"),
                ("adresse", "Le forum"),
                ("telephone", "+33470092836"),
                ("courriels", "pij@example.fr"),
            ],
            Some((46.007, 3.0)),
        );
        assert_eq!(a.mots_nom, b.mots_nom);
        let c = compare(&a, &b);
        assert_eq!(c.nom, AccordNom::Inclus);
        // 780 m apart on two streets, but the whole name, the telephone and the e-mail.
        assert_eq!(c.decision(), Decision::Same, "{c:?}");
        let cias = |nom: &str| fiche(&[("nom", nom)], None).nom_cle;
        assert_eq!(
            cias("CIAS du Haut-Anjou"),
            cias("Centre Intercommunal Action Sociale du Haut Anjou")
        );
    }

    #[test]
    fn one_france_services_guichet_across_its_commune() {
        // France Services lists each guichet under its commune's name; a hub names it
        // after its host. The same telephone in the same commune, 2.3 km apart (a commune
        // nouvelle): one guichet.
        let listed = fiche(
            &[
                ("nom", "Semur-en-Auxois"),
                ("adresse", "La Légeardière"),
                ("telephone", "+33241305055"),
                ("dispositif_programmes_nationaux", "France Services"),
            ],
            Some((47.0, 4.0)),
        );
        let hosted = fiche(
            &[
                ("nom", "CS du Chemillois - France Services"),
                ("adresse", "5 rue de la Gabardière"),
                ("telephone", "+33241305055"),
            ],
            Some((47.02, 4.0)),
        );
        assert_eq!(compare(&listed, &hosted).decision(), Decision::Same);
        // Without a contact in common, two France Services of one commune stay apart.
        let other = fiche(
            &[
                ("nom", "France Services du Chemillois"),
                ("adresse", "5 rue de la Gabardière"),
                ("telephone", "+33241000000"),
            ],
            Some((47.02, 4.0)),
        );
        assert_ne!(compare(&listed, &other).decision(), Decision::Same);
        // A post office that hosts the France Services, at its address: the same place;
        // another kind of service in the building (Point Info Jeunes) is not.
        let fs = fiche(
            &[
                ("nom", "Auxois Lizé"),
                ("adresse", "3 rue de Hautefort"),
                ("dispositif_programmes_nationaux", "France Services"),
            ],
            Some((47.0, 4.0)),
        );
        let poste = fiche(
            &[("nom", "Auxois Lize BP"), ("adresse", "3 Rue de Hautefort")],
            Some((47.0, 4.0)),
        );
        let pij = fiche(
            &[
                ("nom", "Point Info Jeunes Auxois Lizé"),
                ("adresse", "3 Rue de Hautefort"),
            ],
            Some((47.0, 4.0)),
        );
        assert_eq!(compare(&fs, &poste).decision(), Decision::Same);
        assert_ne!(compare(&fs, &pij).decision(), Decision::Same);
    }

    #[test]
    fn a_corner_building_has_two_streets() {
        let fs = |adresse: &str, lat: f64| {
            fiche(
                &[
                    ("nom", "Semur-en-Auxois"),
                    ("adresse", adresse),
                    ("dispositif_programmes_nationaux", "France Services"),
                ],
                Some((lat, 4.0)),
            )
        };
        let c = compare(
            &fs("2 avenue Jacques Fourcade", 47.0),
            &fs("21 place du Corps Franc Pommiès", 47.00016),
        );
        assert_eq!(c.decision(), Decision::Same, "{c:?}");
        // 60 m apart on two streets: not one building.
        let c = compare(
            &fs("2 avenue Jacques Fourcade", 47.0),
            &fs("21 place du Corps Franc Pommiès", 47.00054),
        );
        assert_ne!(c.decision(), Decision::Same, "{c:?}");
    }

    #[test]
    fn one_producer_lists_a_place_again_without_its_contacts() {
        let at = |nom: &str, contact: bool| {
            let mut f = vec![("nom", nom), ("adresse", "40 rue de la Préfecture")];
            if contact {
                f.push(("telephone", "+33386607080"));
            }
            fiche(&f, Some((47.0, 4.0)))
        };
        let c = compare(
            &at("Point numérique de Semur-en-Auxois", false),
            &at("Préfecture - Point d'Accueil Numérique", true),
        );
        assert_eq!(c.decision_within_source(), Decision::Same, "{c:?}");
        // Two kinds of place at one address: a mairie de quartier and a library.
        let c = compare(
            &at("Mairie de quartier Mansart", false),
            &at("Bibliothèque Mansart", false),
        );
        assert_eq!(c.decision_within_source(), Decision::Different, "{c:?}");
        // A CCAS and a centre social at one switchboard.
        let c = compare(&at("CCAS", true), &at("Centre social", true));
        assert_eq!(c.decision_within_source(), Decision::Different, "{c:?}");
        // The same name on a street without numbers, geocoded by the producer to one
        // point: the street, not the building.
        let street = |nom: &str| {
            fiche(
                &[("nom", nom), ("adresse", "Rue Marie France Brive")],
                Some((43.6, 1.4)),
            )
        };
        let c = compare(&street("Assos"), &street("Asso"));
        assert!(c.nom_identique);
        assert_eq!(c.decision_within_source(), Decision::Different, "{c:?}");
    }

    #[test]
    fn an_address_that_is_only_the_commune_places_nothing() {
        let at = |nom: &str| {
            Fiche::new(
                &row(&[
                    ("nom", nom),
                    ("adresse", "Toulouse"),
                    ("commune", "Toulouse"),
                ]),
                Some(Point {
                    lat: 43.6,
                    lon: 1.43,
                }),
                false,
            )
        };
        let (a, b) = (
            at("Maison de la citoyenneté Est"),
            at("Maison de la citoyenneté Sud Est"),
        );
        assert!(a.position.is_none() && a.mots_rue.is_empty());
        let c = compare(&a, &b);
        assert_eq!((c.distance_m, c.adresse), (None, AccordAdresse::Inconnu));
        assert_ne!(c.decision(), Decision::Same, "{c:?}");
    }

    #[test]
    fn missing_or_approximate_positions_are_no_evidence() {
        let with = |p: Option<(f64, f64)>, approx: bool| {
            Fiche::new(
                &row(&[("nom", "Cyber-base"), ("commune", "X"), ("adresse", "")]),
                p.map(|(lat, lon)| Point { lat, lon }),
                approx,
            )
        };
        let a = with(None, false);
        let b = with(Some((45.0, 4.0)), false);
        let c = compare(&a, &b);
        assert_eq!(c.distance_m, None);
        let town_hall = with(Some((45.0, 4.0)), true);
        assert_eq!(compare(&town_hall, &b).distance_m, None);
        // Same name only: not enough.
        assert_ne!(c.decision(), Decision::Same);
    }

    #[test]
    fn far_apart_is_never_the_same() {
        let a = fiche(
            &[
                ("nom", "Onlineformapro"),
                ("telephone", "+33384769083"),
                ("adresse", "Rue Pablo Picasso"),
            ],
            Some((47.22, 5.94)),
        );
        let b = fiche(
            &[
                ("nom", "Onlineformapro"),
                ("telephone", "+33384769083"),
                ("adresse", "Chemin de Palente"),
            ],
            Some((47.26, 6.04)),
        );
        assert_ne!(compare(&a, &b).decision(), Decision::Same);
    }

    #[test]
    fn merge_takes_freshest_value_fills_empty_and_unites_lists() {
        let old = row(&[
            ("nom", "EPN"),
            ("telephone", "+33380000000"),
            ("services", "Aide aux démarches administratives"),
            ("date_maj", "2020-12-31"),
            ("latitude", "47.1"),
            ("longitude", "4.1"),
            ("pivot", "12345678900011"),
        ]);
        let new = row(&[
            ("nom", "Espace numérique"),
            ("services", "Maîtrise des outils numériques du quotidien"),
            ("date_maj", "2024-01-01"),
            ("latitude", "47.2"),
            ("longitude", "4.2"),
            ("pivot", PIVOT_UNKNOWN),
        ]);
        let f = merge(&[
            Membre {
                source: "a",
                row: &old,
                exact: true,
            },
            Membre {
                source: "b",
                row: &new,
                exact: false,
            },
        ]);
        assert_eq!(f.row["nom"], "Espace numérique");
        assert_eq!(f.provenance["nom"][0].source, "b");
        assert_eq!(f.row["telephone"], "+33380000000");
        assert_eq!(f.provenance["telephone"][0].date_maj, "2020-12-31");
        assert_eq!(f.row["pivot"], "12345678900011", "unknown pivot is empty");
        assert_eq!(
            f.row["services"],
            "Maîtrise des outils numériques du quotidien|Aide aux démarches administratives"
        );
        assert_eq!(f.provenance["services"].len(), 2);
        assert_eq!(f.row["date_maj"], "2024-01-01");
        // The fresher one's position is only its commune's: the exact one wins.
        assert_eq!((f.row["latitude"].as_str(), f.position_de), ("47.1", 0));
    }

    #[test]
    fn partition_clusters() {
        let mut p = Partition::new(5);
        p.union(3, 1);
        p.union(4, 3);
        assert_eq!(p.clusters(), vec![vec![0], vec![1, 3, 4], vec![2]]);
    }

    fn arb_row() -> impl Strategy<Value = BTreeMap<String, String>> {
        let field = prop::sample::select(vec![
            "nom",
            "telephone",
            "services",
            "courriels",
            "adresse",
            "date_maj",
            "horaires",
        ]);
        prop::collection::btree_map(
            field.prop_map(str::to_string),
            "[a-c]{0,2}(\\|[a-c]{1,2}){0,2}",
            0..7,
        )
    }

    proptest! {
        #[test]
        fn merge_loses_no_value(a in arb_row(), b in arb_row()) {
            let f = merge(&[
                Membre { source: "a", row: &a, exact: true },
                Membre { source: "b", row: &b, exact: true },
            ]);
            for r in [&a, &b] {
                for (k, v) in r {
                    for part in v.split('|').filter(|p| !p.trim().is_empty()) {
                        let got = f.row.get(k).map(String::as_str).unwrap_or("");
                        if LIST_FIELDS.contains(&k.as_str()) {
                            prop_assert!(got.split('|').any(|g| g == part.trim()), "{k}: {part} ∉ {got}");
                        } else {
                            prop_assert!(!got.is_empty(), "{k}: a value beats an empty one");
                        }
                    }
                }
            }
            // Each value has its origin.
            prop_assert_eq!(f.row.keys().collect::<Vec<_>>(), f.provenance.keys().collect::<Vec<_>>());
            // Merging a record with itself gives the record (empty values dropped).
            let alone = merge(&[Membre { source: "a", row: &a, exact: true }]);
            let kept = |k: &str, v: &str| if LIST_FIELDS.contains(&k) {
                v.split('|').any(|p| !p.trim().is_empty())
            } else {
                !v.trim().is_empty()
            };
            let cleaned: BTreeMap<String, String> = a.iter()
                .filter(|(k, v)| kept(k, v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            prop_assert_eq!(alone.row.keys().collect::<Vec<_>>(), cleaned.keys().collect::<Vec<_>>());
        }

        #[test]
        fn comparison_is_symmetric(
            n1 in "[A-Ca-c ]{0,12}", n2 in "[A-Ca-c ]{0,12}",
            a1 in "[0-9]{0,2} [a-c]{0,6}", a2 in "[0-9]{0,2} [a-c]{0,6}",
            d in 0.0f64..0.02, t in any::<bool>(),
        ) {
            let x = fiche(&[("nom", &n1), ("adresse", &a1), ("telephone", if t { "+33100000000" } else { "" })], Some((45.0, 4.0)));
            let y = fiche(&[("nom", &n2), ("adresse", &a2), ("telephone", "+33100000000")], Some((45.0 + d, 4.0)));
            let (p, q) = (compare(&x, &y), compare(&y, &x));
            prop_assert_eq!(p.score, q.score);
            prop_assert_eq!(p.decision(), q.decision());
        }
    }
}
