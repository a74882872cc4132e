//! Rows of a file read by the national schema (v1 and v0.1): never a panic; a lieu read
//! holds no invisible character, and written back as a v1.0.1 row it reads the same.
#![no_main]

use relais_domain::lieux::{fichier, read_row, schema, write_row, SchemaVersion};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(file) = fichier::read(data, false) else {
        return;
    };
    // The version the columns say on half of the inputs, the other one on the rest.
    let detected = SchemaVersion::detect(file.columns.iter().map(String::as_str));
    let version = match (detected, data.len() % 2) {
        (v, 0) => v,
        (SchemaVersion::V1, _) => SchemaVersion::V0_1,
        (SchemaVersion::V0_1, _) => SchemaVersion::V1,
    };
    {
        for row in &file.rows {
            let Ok(reading) = read_row(&row.fields, version) else {
                continue;
            };
            let lieu = reading.lieu;
            for text in [
                &lieu.id,
                &lieu.nom,
                &lieu.adresse.commune,
                &lieu.adresse.adresse,
            ] {
                assert!(schema::visible_text(text, false).is_none(), "{text:?}");
            }
            let written = write_row(&lieu);
            let again = read_row(written.as_slice(), SchemaVersion::V1)
                .unwrap_or_else(|r| panic!("{lieu:?} written as {written:?}: {r:?}"));
            assert_eq!(again.lieu, lieu, "{written:?}");
        }
    }
});
