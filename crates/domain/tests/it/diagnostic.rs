//! Relais' own item bank (`data/diagnostic/`): it passes its lint, and the adaptive test on
//! it places simulated respondents as the issue asks, better than a fixed form of the same
//! length, without showing any item to more than 30 % of them.

use std::collections::HashMap;
use std::path::PathBuf;

use relais_domain::diagnostic::adaptatif::{
    Alea, REGLES, abilites, forme_fixe, simuler, simuler_forme_fixe,
};
use relais_domain::diagnostic::banque;

fn dossier() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/diagnostic")
}

fn questions() -> Vec<banque::Question> {
    let toml = std::fs::read_to_string(dossier().join("questions.toml")).unwrap();
    let mut svg = HashMap::new();
    for f in std::fs::read_dir(dossier().join("illustrations")).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        svg.insert(name, std::fs::read_to_string(&f).unwrap());
    }
    banque::lire(&toml, |name| svg.get(name).map(String::as_str)).unwrap_or_else(|erreurs| {
        panic!(
            "{}",
            erreurs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn the_item_bank_passes_its_lint() {
    let q = questions();
    assert!(q.iter().filter(|q| q.relue).count() >= banque::MINIMUM);
}

#[test]
fn the_adaptive_test_on_the_bank_places_people_within_a_level() {
    let q = questions();
    let items = banque::items(&q);
    let thetas = abilites(5_000, &mut Alea(2026));
    let adaptatif = simuler(&items, REGLES, &thetas, &mut Alea(17));
    assert!(adaptatif.a_un_niveau_pres >= 0.9, "{adaptatif:?}");
    assert!(adaptatif.items_moyen <= 15.0, "{adaptatif:?}");
    assert!(adaptatif.exposition_max <= 0.3, "{adaptatif:?}");
    let forme = forme_fixe(&items, adaptatif.items_moyen.round() as usize);
    let fixe = simuler_forme_fixe(&items, REGLES, &forme, &thetas, &mut Alea(17));
    assert!(
        adaptatif.rmse < fixe.rmse && adaptatif.a_un_niveau_pres >= fixe.a_un_niveau_pres,
        "{adaptatif:?}\n{fixe:?}"
    );
}
