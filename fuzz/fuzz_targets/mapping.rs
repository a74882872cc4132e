//! A mapping (TOML) read and applied to a producer's file: never a panic. The input is
//! the mapping, then a 0xFF byte, then the file (no valid UTF-8 holds 0xFF).
#![no_main]

use relais_domain::lieux::{fichier, mapping::Mapping};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (toml, file) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"id,nom,adresse,commune\n1,A,1 rue B,Lyon\n"[..]),
    };
    let Ok(text) = std::str::from_utf8(toml) else {
        return;
    };
    let Ok(mapping) = Mapping::parse(text) else {
        return;
    };
    let Ok(raw) = fichier::read(file, false) else {
        return;
    };
    if let Ok(mapped) = mapping.apply(&raw, "fuzz") {
        assert_eq!(
            mapped.rows.len() + mapped.broken.len(),
            raw.rows.len() + raw.broken.len()
        );
    }
});
