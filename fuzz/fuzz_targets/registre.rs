//! A register of structures (CSV or JSON) read into checked rows: never a panic, and each
//! row kept or said.
#![no_main]

use relais_domain::comptes::registre::lire;
use relais_domain::lieux::fichier;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(raw) = fichier::read(data, false) else {
        return;
    };
    let lu = lire(&raw, &[]);
    // Every line read is kept, or said with at least one reason.
    let kept: Vec<usize> = lu.lignes.iter().map(|l| l.line).collect();
    let said: Vec<usize> = lu.rejets.iter().map(|r| r.line).collect();
    let read = raw.rows.iter().map(|r| r.line).chain(raw.broken.iter().map(|b| b.0));
    for line in read {
        assert!(kept.contains(&line) || said.contains(&line), "line {line}");
    }
    assert!(kept.len() <= raw.rows.len());
});
