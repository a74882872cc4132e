//! French prose opening hours converted to OSM: never a panic, and what it gives parses.
#![no_main]

use relais_domain::horaires::{french_text_to_osm, Horaires};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(osm) = french_text_to_osm(text) {
        if let Err(e) = Horaires::parse(&osm) {
            panic!("{text:?} → {osm:?}: {e}");
        }
    }
});
