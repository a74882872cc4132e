//! The territory index over the 35,014 shipped communes.

use std::sync::OnceLock;

use relais_domain::territoires::Point;
use relais_search::{MatchKind, TerritoryIndex};

fn index() -> &'static TerritoryIndex {
    static INDEX: OnceLock<TerritoryIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap())
    })
}

fn codes(q: &str, limit: usize) -> Vec<&'static str> {
    index()
        .search(q, limit)
        .iter()
        .map(|m| m.commune.code.as_str())
        .collect()
}

#[test]
fn saint_abbreviations_accents_and_articles_are_ignored() {
    assert_eq!(codes("st etienne", 1), ["42218"]);
    assert_eq!(codes("Saint-Étienne", 1), ["42218"]);
    assert_eq!(codes("SAINT ETIENNE", 1), ["42218"]);
    assert_eq!(codes("ile d yeu", 1), ["85113"]);
    assert_eq!(codes("l'île-d'yeu", 1), ["85113"]);
}

#[test]
fn saint_being_typed_keeps_the_saints() {
    for typed in ["sai", "Sain", "Saint", "Saint-", "Saint-Éti", "st e"] {
        let found = codes(typed, 50);
        assert!(
            found.contains(&"42218"),
            "{typed}: Saint-Étienne missing from {found:?}"
        );
    }
    assert_eq!(codes("saintes", 1), ["17415"], "Saintes is not a saint");
}

#[test]
fn ranking_is_exact_then_prefix_then_population() {
    let found = index().search("lyon", 5);
    assert_eq!(found[0].commune.code.as_str(), "69123");
    assert_eq!(found[0].kind, MatchKind::Exact);
    assert!(found[1..].iter().all(|m| m.kind >= MatchKind::Prefix));
    let paris = index().search("pari", 10);
    assert_eq!(paris[0].commune.nom, "Paris");
    let kinds: Vec<_> = paris
        .iter()
        .map(|m| (m.kind, std::cmp::Reverse(m.commune.population)))
        .collect();
    assert!(kinds.windows(2).all(|w| w[0] <= w[1]), "{kinds:?}");
}

#[test]
fn every_commune_is_found_by_its_own_name() {
    for c in &index().territoires().communes {
        let found = index().search(&c.nom, 2_000);
        assert!(
            found
                .iter()
                .any(|m| m.commune.code == c.code && m.kind == MatchKind::Exact),
            "{} ({}) not found",
            c.nom,
            c.code
        );
    }
}

#[test]
fn codes_postal_and_insee() {
    let st_etienne: Vec<_> = index()
        .by_postal_code("42000")
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(st_etienne, ["42218"]);
    assert!(index().by_postal_code("00000").is_empty());
    // Both Paris and its 1er arrondissement are served by 75001; the commune ranks first.
    assert_eq!(codes("75001", 2), ["75056", "75101"]);
    assert_eq!(codes("2A004", 1), ["2A004"]);
    assert_eq!(index().commune("2a004").unwrap().nom, "Ajaccio");
}

#[test]
fn nearest_commune_to_a_point() {
    let (c, d) = index()
        .nearest(Point {
            lat: 48.8584,
            lon: 2.2945,
        })
        .unwrap(); // Tour Eiffel
    assert_eq!(c.departement, "75");
    assert!(d < 3_000.0, "{d}");
    let (c, _) = index()
        .nearest(Point {
            lat: -21.1151,
            lon: 55.5364,
        })
        .unwrap(); // La Réunion
    assert_eq!(c.departement, "974");
}

#[test]
fn parent_chain() {
    let chain = index().chain("69381").unwrap();
    assert_eq!(chain.commune_parent.unwrap().nom, "Lyon");
    assert_eq!(chain.epci.unwrap().code, "200046977");
    assert_eq!(chain.departement.unwrap().nom, "Rhône");
    assert_eq!(chain.region.unwrap().nom, "Auvergne-Rhône-Alpes");
    assert!(index().chain("99999").is_none());
}

#[test]
fn empty_or_junk_queries_find_nothing() {
    assert!(codes("", 10).is_empty());
    assert!(codes(" '-' ", 10).is_empty());
    assert!(codes("zzzzzz", 10).is_empty());
    assert!(codes("lyon", 0).is_empty());
}

#[test]
fn typos_find_their_commune_after_the_exact_and_prefix_matches() {
    assert_eq!(codes("marseile", 1), ["13055"]);
    assert_eq!(codes("st etiene", 1), ["42218"]);
    assert_eq!(codes("Saint-Etiene", 1), ["42218"]);
    assert_eq!(codes("bordaux", 1), ["33063"]);
    // Being typed, with a typo: the beginning of the name.
    assert!(codes("marsiel", 5).contains(&"13055"));
    let found = index().search("marseile", 3);
    assert_eq!(found[0].kind, MatchKind::Fuzzy);
    // A query that matches otherwise gets no typo matches.
    let lyon = index().search("lyon", 10);
    assert_eq!(lyon[0].commune.code.as_str(), "69123");
    assert!(lyon.iter().all(|m| m.kind != MatchKind::Fuzzy));
}

#[test]
fn saint_typed_whole_is_not_the_start_of_strasbourg() {
    let found = codes("saint", 10);
    assert!(!found.contains(&"67482"), "{found:?}");
    assert!(
        found.contains(&"42218") || found.contains(&"97411"),
        "{found:?}"
    );
    // « st » alone may still be Strasbourg being typed.
    assert!(codes("stras", 3).contains(&"67482"));
}

#[test]
fn a_postal_code_lists_its_communes_before_insee_codes_of_the_same_digits() {
    // 13001 is the postal code of Marseille and its 1st arrondissement, and
    // Aix-en-Provence's INSEE code (a larger town than the arrondissement).
    let found = codes("13001", 5);
    assert_eq!(found[..3], ["13055", "13201", "13001"], "{found:?}");
}
