//! The diagnostic's item bank, read from `data/diagnostic` as the web crate compiles it in.

use std::collections::HashMap;
use std::path::PathBuf;

use relais_domain::diagnostic::banque::{self, Banque};

/// The bank of `data/diagnostic`; panics with every lint error if it has any.
pub fn banque() -> Banque {
    let dossier = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/diagnostic");
    let toml = std::fs::read_to_string(dossier.join("questions.toml")).unwrap();
    let svg: HashMap<String, String> = std::fs::read_dir(dossier.join("illustrations"))
        .unwrap()
        .map(|f| {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read_to_string(&f).unwrap())
        })
        .collect();
    match banque::lire(&toml, |name| svg.get(name).map(String::as_str)) {
        Ok(questions) => Banque::new(questions),
        Err(erreurs) => panic!("{erreurs:#?}"),
    }
}
