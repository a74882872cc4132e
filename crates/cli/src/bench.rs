//! `relais bench-territoires`: commune name look-ups over the 35,014 shipped communes,
//! against the obvious alternative (a linear scan of pre-folded names), in the same run.

use std::hint::black_box;
use std::time::Instant;

use relais_domain::text::search_key;
use relais_search::TerritoryIndex;

pub fn territoires(iterations: usize) -> anyhow::Result<()> {
    let t = relais_services::territoires::parse_shipped()?;
    let started = Instant::now();
    let index = TerritoryIndex::build(t.clone());
    let build = started.elapsed();
    // Queries people type: a prefix (3 characters up to the whole name) of real names,
    // drawn deterministically across the list.
    let queries: Vec<String> = (0..1_000)
        .map(|i| {
            let nom = &t.communes[(i * 7_919) % t.communes.len()].nom;
            let chars: Vec<char> = nom.chars().collect();
            let len = (3 + i % 10).min(chars.len());
            chars[..len].iter().collect()
        })
        .collect();
    let keys: Vec<(String, u32)> = t
        .communes
        .iter()
        .map(|c| (search_key(&c.nom), c.population))
        .collect();

    let indexed = measure(iterations, &queries, |q| index.search(q, 10).len());
    let scan_iterations = (iterations / 100).max(100);
    let scanned = measure(scan_iterations, &queries, |q| {
        let k = search_key(q);
        let mut hits: Vec<&(String, u32)> =
            keys.iter().filter(|(name, _)| name.contains(&k)).collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.1));
        hits.truncate(10);
        hits.len()
    });
    println!(
        "Recherche de communes par nom — {} communes, {} requêtes distinctes",
        t.communes.len(),
        queries.len()
    );
    println!(
        "construction de l’index : {:.1} ms",
        build.as_secs_f64() * 1e3
    );
    println!("| méthode | itérations | médiane (µs) | p99 (µs) |");
    println!("|---|---|---|---|");
    println!(
        "| index trié (Relais) | {iterations} | {:.2} | {:.2} |",
        indexed.0, indexed.1
    );
    println!(
        "| parcours linéaire | {scan_iterations} | {:.2} | {:.2} |",
        scanned.0, scanned.1
    );
    println!("rapport des médianes : {:.0}×", scanned.0 / indexed.0);
    Ok(())
}

/// Median and 99th percentile in microseconds of `f` over the queries, cycled.
fn measure(iterations: usize, queries: &[String], f: impl Fn(&str) -> usize) -> (f64, f64) {
    let mut samples: Vec<f64> = (0..iterations)
        .map(|i| {
            let q = &queries[i % queries.len()];
            let start = Instant::now();
            black_box(f(black_box(q)));
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

/// `relais bench-password`: the cost of one Argon2id password hash with the parameters
/// Relais uses (a login verifies one hash, so this is its CPU cost).
pub async fn password(iterations: usize) -> anyhow::Result<()> {
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        black_box(relais_services::comptes::hash_password("une longue phrase de passe").await?);
        samples.push(start.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "Argon2id, m = {} MiB, t = {}, p = 1 — {iterations} hachages, un à la fois",
        relais_services::comptes::ARGON2_MEMORY_KIB / 1024,
        relais_services::comptes::ARGON2_PASSES
    );
    println!(
        "médiane {:.1} ms, min {:.1} ms, max {:.1} ms ; au plus {:.0} connexions par seconde et par cœur",
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
        1e3 / samples[samples.len() / 2]
    );
    Ok(())
}
