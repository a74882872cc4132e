//! OSM `opening_hours`: never a panic; a weekly table written back parses to the same
//! table, and its questions (open now, next change, in words) answer.
#![no_main]

use relais_domain::horaires::{Horaires, Weekday};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(h) = Horaires::parse(text) else {
        return;
    };
    let osm = h.to_osm();
    let again = Horaires::parse(&osm).unwrap_or_else(|e| panic!("{text:?} → {osm:?}: {e}"));
    for d in Weekday::ALL {
        assert_eq!(h.day(d), again.day(d), "{text:?} → {osm:?}");
    }
    assert_eq!(again.to_osm(), osm);
    // 2026-03-29 00:30 UTC: the night of the change to summer time in Paris.
    let at = 1_774_744_200_000;
    let _ = h.is_open_at(at);
    if let Some(next) = h.next_change_after(at) {
        assert!(next > at, "{text:?}");
    }
    let _ = h.in_words();
});
