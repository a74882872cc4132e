//! What « ouvert maintenant » costs per lieu: the weekly table (`Horaires::is_open`, what the
//! lieux index calls) against the `opening-hours` crate (`Horaires::is_open_at`), over the
//! opening hours of the 687 real lieux of the demo file. Figures in docs/BENCHMARKS.md.
//!
//! `cargo run --release -p relais-domain --example bench_horaires`

use std::hint::black_box;
use std::time::Instant;

use relais_domain::horaires::{Horaires, LocalTime};

const ROUNDS: u32 = 200;

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    );
    let file = std::fs::read_to_string(path).expect("the demo file");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&file).expect("a JSON array");
    let written: Vec<&str> = rows
        .iter()
        .filter_map(|row| row.get("horaires")?.as_str())
        .filter(|h| !h.trim().is_empty())
        .collect();

    let start = Instant::now();
    let parsed: Vec<Horaires> = written
        .iter()
        .filter_map(|h| Horaires::parse(h).ok())
        .collect();
    println!(
        "{} horaires written, {} read, parsed in {:.1} µs each",
        written.len(),
        parsed.len(),
        per_item_ns(start, parsed.len(), 1) / 1000.0
    );

    // A Wednesday 10:30 in Paris (2026-03-04) and 14 July 2026 at 10:30, a public holiday.
    for (what, unix_ms) in [
        ("mercredi 4 mars 2026, 10 h 30", 1_772_616_600_000i64),
        ("14 juillet 2026, 10 h 30", 1_784_017_800_000),
    ] {
        let at = LocalTime::paris(unix_ms);
        let start = Instant::now();
        let mut open_table = 0;
        for _ in 0..ROUNDS {
            open_table = parsed.iter().filter(|h| black_box(h).is_open(at)).count();
        }
        let table_ns = per_item_ns(start, parsed.len(), ROUNDS);
        let start = Instant::now();
        let mut open_rules = 0;
        for _ in 0..ROUNDS {
            open_rules = parsed
                .iter()
                .filter(|h| black_box(h).is_open_at(unix_ms))
                .count();
        }
        let rules_ns = per_item_ns(start, parsed.len(), ROUNDS);
        println!(
            "{what}: weekly table {table_ns:.1} ns per lieu ({open_table} open), \
             opening-hours {rules_ns:.0} ns per lieu ({open_rules} open)"
        );
    }
}

fn per_item_ns(start: Instant, items: usize, rounds: u32) -> f64 {
    start.elapsed().as_nanos() as f64 / (items as f64 * f64::from(rounds))
}
