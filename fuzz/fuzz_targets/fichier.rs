//! A producer's file (CSV or JSON, any encoding) split into rows: never a panic, and
//! rows said in the order of the file, with lines from 1 (found: a row put on the line
//! before, when a quote was left open to the end of the file).
#![no_main]

use relais_domain::lieux::fichier;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The required columns are checked on half of the inputs (the other half reads the
    // rows of files that lack them).
    let check_required = data.len() % 2 == 0;
    let Ok(file) = fichier::read(data, check_required) else {
        return;
    };
    let lines: Vec<usize> = file.rows.iter().map(|r| r.line).collect();
    assert!(lines.iter().all(|&l| l >= 1), "{lines:?}");
    // Non-decreasing only: a lone `\r` (old Mac files) ends a record, not a line.
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
    let broken: Vec<usize> = file.broken.iter().map(|b| b.0).collect();
    assert!(broken.windows(2).all(|w| w[0] <= w[1]), "{broken:?}");
    for row in &file.rows {
        assert!(row.fields.keys().all(|k| file.columns.contains(k)));
    }
});
