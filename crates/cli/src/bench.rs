//! `relais bench-territoires`: commune name look-ups over the 35,014 shipped communes,
//! against the obvious alternative (a linear scan of pre-folded names), in the same run.

use std::hint::black_box;
use std::time::Instant;

use relais_domain::lieux::{
    Dispositif, FormationLabel, Frais, ModaliteAcces, ModaliteAccompagnement, PriseEnCharge,
    Public, Service, Vocabulary,
};
use relais_domain::territoires::Point;
use relais_domain::text::search_key;
use relais_search::lieux::{Filter, IndexedLieu, LieuIndex, synthetic_like};
use relais_search::{MatchKind, TerritoryIndex};

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

    // Names typed with a typo (two letters swapped), which only the typo scan finds.
    let typos: Vec<String> = (0..1_000)
        .filter_map(|i| {
            let mut chars: Vec<char> = t.communes[(i * 7_919) % t.communes.len()]
                .nom
                .chars()
                .collect();
            (chars.len() >= 6 && chars[2] != chars[3]).then(|| {
                chars.swap(2, 3);
                chars.into_iter().collect()
            })
        })
        .filter(|q: &String| {
            index
                .search(q, 10)
                .iter()
                .all(|m| m.kind == MatchKind::Fuzzy)
        })
        .collect();
    let fuzzy = measure(iterations / 10, &typos, |q| index.search(q, 10).len());
    let fuzzy_scan = measure(scan_iterations / 10, &typos, |q| {
        let k = search_key(q);
        let mut hits: Vec<&(String, u32)> = keys
            .iter()
            .filter(|(name, _)| strsim::osa_distance(&k, name) <= 2)
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.1));
        hits.truncate(10);
        hits.len()
    });
    println!(
        "Noms tapés avec deux lettres inversées, que seule la tolérance aux fautes trouve — {} requêtes",
        typos.len()
    );
    println!("| méthode | itérations | médiane (µs) | p99 (µs) |");
    println!("|---|---|---|---|");
    println!(
        "| index trié puis noms de même initiale (Relais) | {} | {:.2} | {:.2} |",
        iterations / 10,
        fuzzy.0,
        fuzzy.1
    );
    println!(
        "| distance d’édition sur tous les noms | {} | {:.2} | {:.2} |",
        scan_iterations / 10,
        fuzzy_scan.0,
        fuzzy_scan.1
    );
    println!("rapport des médianes : {:.0}×", fuzzy_scan.0 / fuzzy.0);
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

/// `relais bench-mot-de-passe`: the cost of one Argon2id password hash with the parameters
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

/// The vocabularies as (name in the API, number of values, value names).
const KINDS: [&str; 8] = [
    "services",
    "publics",
    "prise_en_charge",
    "frais",
    "modalites_acces",
    "modalites_accompagnement",
    "dispositifs",
    "labels",
];

fn kind_mask(l: &IndexedLieu, kind: usize) -> u16 {
    [
        l.services,
        l.publics,
        l.prise_en_charge,
        l.frais,
        l.modalites_acces,
        l.modalites_accompagnement,
        l.dispositifs,
        l.formations_labels,
    ][kind]
}

fn value_name(kind: usize, bit: usize) -> &'static str {
    fn n<T: Vocabulary>(b: usize) -> &'static str {
        T::ALL.get(b).map_or("?", |v| v.as_str())
    }
    match kind {
        0 => n::<Service>(bit),
        1 => n::<Public>(bit),
        2 => n::<PriseEnCharge>(bit),
        3 => n::<Frais>(bit),
        4 => n::<ModaliteAcces>(bit),
        5 => n::<ModaliteAccompagnement>(bit),
        6 => n::<Dispositif>(bit),
        _ => n::<FormationLabel>(bit),
    }
}

fn add_value(f: &mut Filter, kind: usize, bit: usize) {
    fn v<T: Vocabulary>(list: &mut Vec<T>, b: usize) {
        list.push(T::ALL[b]);
    }
    match kind {
        0 => v(&mut f.services, bit),
        1 => v(&mut f.publics, bit),
        2 => v(&mut f.prise_en_charge, bit),
        3 => v(&mut f.frais, bit),
        4 => v(&mut f.modalites_acces, bit),
        5 => v(&mut f.modalites_accompagnement, bit),
        6 => v(&mut f.dispositifs, bit),
        _ => v(&mut f.formations_labels, bit),
    }
}

/// Two filters: a value of one vocabulary and a value of another.
#[derive(Clone, Copy)]
struct Pair {
    a: (usize, usize),
    b: (usize, usize),
}

impl Pair {
    fn filter(self) -> Filter {
        let mut f = Filter::default();
        add_value(&mut f, self.a.0, self.a.1);
        add_value(&mut f, self.b.0, self.b.1);
        f
    }
    fn passes(self, l: &IndexedLieu) -> bool {
        kind_mask(l, self.a.0) & (1 << self.a.1) != 0
            && kind_mask(l, self.b.0) & (1 << self.b.1) != 0
    }
    fn describe(self) -> String {
        format!(
            "{}={} + {}={}",
            KINDS[self.a.0],
            value_name(self.a.0, self.a.1),
            KINDS[self.b.0],
            value_name(self.b.0, self.b.1)
        )
    }
}

/// Pairs of values of two vocabularies, by share of lieux having both: the one nearest
/// (in ratio) to each target share, the rarest that exists, and one that no lieu has.
fn choose_pairs(lieux: &[IndexedLieu]) -> Vec<(Pair, f64)> {
    let mut counts: std::collections::HashMap<(usize, usize, usize, usize), usize> =
        Default::default();
    let mut values = Vec::new();
    for l in lieux {
        values.clear();
        for k in 0..8 {
            let m = kind_mask(l, k);
            values.extend((0..16).filter(|b| m & (1 << b) != 0).map(|b| (k, b)));
        }
        for (i, a) in values.iter().enumerate() {
            for b in &values[i + 1..] {
                if a.0 != b.0 {
                    *counts.entry((a.0, a.1, b.0, b.1)).or_default() += 1;
                }
            }
        }
    }
    let mut shares: Vec<(Pair, f64)> = counts
        .into_iter()
        .map(|((ka, ba, kb, bb), n)| {
            (
                Pair {
                    a: (ka, ba),
                    b: (kb, bb),
                },
                n as f64 / lieux.len() as f64,
            )
        })
        .collect();
    shares.sort_by(|x, y| {
        y.1.total_cmp(&x.1)
            .then((x.0.a, x.0.b).cmp(&(y.0.a, y.0.b)))
    });
    let mut chosen: Vec<(Pair, f64)> = Vec::new();
    for target in [0.30, 0.10, 0.03, 0.01, 0.003, 0.001, 0.0003] {
        if let Some(best) = shares.iter().min_by(|x, y| {
            (x.1 / target)
                .ln()
                .abs()
                .total_cmp(&(y.1 / target).ln().abs())
        }) && !chosen
            .iter()
            .any(|c| (c.0.a, c.0.b) == (best.0.a, best.0.b))
        {
            chosen.push(*best);
        }
    }
    if let Some(rarest) = shares.last()
        && !chosen
            .iter()
            .any(|c| (c.0.a, c.0.b) == (rarest.0.a, rarest.0.b))
    {
        chosen.push(*rarest);
    }
    // A pair no lieu has: the walk must prove there is nothing.
    'none: for ka in 0..8 {
        for kb in ka + 1..8 {
            for ba in 0..16 {
                for bb in 0..16 {
                    let p = Pair {
                        a: (ka, ba),
                        b: (kb, bb),
                    };
                    let has_a = lieux.iter().any(|l| kind_mask(l, ka) & (1 << ba) != 0);
                    let has_b = lieux.iter().any(|l| kind_mask(l, kb) & (1 << bb) != 0);
                    if has_a && has_b && !shares.iter().any(|s| (s.0.a, s.0.b) == (p.a, p.b)) {
                        chosen.push((p, 0.0));
                        break 'none;
                    }
                }
            }
        }
    }
    chosen
}

/// The obvious alternative: every lieu, its filters, its distance, the 20 nearest kept.
fn brute_nearest(lieux: &[IndexedLieu], p: Point, k: usize, pair: Pair) -> Vec<(f64, usize)> {
    let mut best: std::collections::BinaryHeap<(Dist, usize)> = Default::default();
    for (i, l) in lieux.iter().enumerate() {
        let Some(q) = l.location.position else {
            continue;
        };
        if !pair.passes(l) {
            continue;
        }
        let d = q.distance_m(p);
        if best.len() < k {
            best.push((Dist(d), i));
        } else if d < best.peek().unwrap().0.0 {
            best.pop();
            best.push((Dist(d), i));
        }
    }
    let mut out: Vec<(f64, usize)> = best.into_iter().map(|(d, i)| (d.0, i)).collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

#[derive(PartialEq)]
struct Dist(f64);
impl Eq for Dist {}
impl PartialOrd for Dist {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Dist {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)])
}

/// The 687 real lieux of the demo (Auvergne-Rhône-Alpes hub, 2022), as the index sees
/// them: their attributes are what synthetic lieux copy.
fn real_sample(territoires: &TerritoryIndex) -> Vec<IndexedLieu> {
    relais_services::lieux::recherche::sample(relais_services::lieux::demo::FILE, territoires)
}

/// `relais bench-lieux --csv-schema`: `n` synthetic lieux with the real attributes (as
/// measured), written as a CSV of the national schema v1.0.1 for `relais import lieux`
/// (the API benchmark at scale). Names and addresses are numbered so that no two are the
/// same lieu for the merge.
pub fn schema_csv(n: usize, path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let territoires = TerritoryIndex::build(relais_services::territoires::parse_shipped()?);
    let sample = real_sample(&territoires);
    anyhow::ensure!(!sample.is_empty(), "lieux réels illisibles");
    let lieux = synthetic_like(n, 42, &territoires, &sample);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let columns = relais_domain::lieux::COLUMNS;
    writeln!(w, "{}", columns.join(","))?;
    fn list<T: Vocabulary>(bits: u16) -> String {
        T::ALL
            .iter()
            .enumerate()
            .filter(|(b, _)| bits & (1 << b) != 0)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join("|")
    }
    let mut written = 0;
    for (i, l) in lieux.iter().enumerate() {
        let Some(commune) = l
            .location
            .code_insee
            .as_deref()
            .and_then(|c| territoires.commune(c))
        else {
            continue;
        };
        let Some(code_postal) = commune.codes_postaux.first() else {
            continue;
        };
        let (lat, lon) = l
            .location
            .position
            .map_or((String::new(), String::new()), |p| {
                (format!("{:.6}", p.lat), format!("{:.6}", p.lon))
            });
        let value = |column: &str| -> String {
            match column {
                "id" => l.id.to_string(),
                "nom" => format!("Lieu de synthèse {i} — {}", commune.nom),
                "commune" => commune.nom.clone(),
                "code_postal" => code_postal.as_str().to_string(),
                "code_insee" => commune.code.as_str().to_string(),
                "adresse" => format!("{} rue de la Synthèse", i + 1),
                "latitude" => lat.clone(),
                "longitude" => lon.clone(),
                "horaires" => l
                    .horaires
                    .as_ref()
                    .map_or(String::new(), relais_domain::horaires::Horaires::to_osm),
                "source" => "relais bench-lieux".to_string(),
                "date_maj" => "2026-01-01".to_string(),
                "services" => list::<Service>(l.services),
                "publics_specifiquement_adresses" => list::<Public>(l.publics),
                "prise_en_charge_specifique" => list::<PriseEnCharge>(l.prise_en_charge),
                "frais_a_charge" => list::<Frais>(l.frais),
                "dispositif_programmes_nationaux" => list::<Dispositif>(l.dispositifs),
                "formations_labels" => list::<FormationLabel>(l.formations_labels),
                "modalites_acces" => list::<ModaliteAcces>(l.modalites_acces),
                "modalites_accompagnement" => {
                    list::<ModaliteAccompagnement>(l.modalites_accompagnement)
                }
                _ => String::new(),
            }
        };
        let row: Vec<String> = columns
            .iter()
            .map(|c| format!("\"{}\"", value(c).replace('"', "\"\"")))
            .collect();
        writeln!(w, "{}", row.join(","))?;
        written += 1;
    }
    w.flush()?;
    println!(
        "écrit : {} ({written} lieux de synthèse aux attributs réels, schéma v1.0.1)",
        path.display()
    );
    Ok(())
}

/// `relais bench-lieux`: nearest 20 lieux with two filters over synthetic lieux (real
/// communes, real attribute combinations), against a brute-force scan in the same run.
pub fn lieux(
    sizes: &[usize],
    queries: usize,
    dump: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let territoires = TerritoryIndex::build(relais_services::territoires::parse_shipped()?);
    let sample = real_sample(&territoires);
    anyhow::ensure!(!sample.is_empty(), "lieux réels illisibles");
    println!(
        "Lieux de synthèse : autour des mairies de communes réelles (poids √population, à moins de 3 km), \
         chacun avec les attributs d’un des {} lieux réels de la démo (tirés au hasard : répartition et \
         corrélations réelles des valeurs) ; 5 % sans position.",
        sample.len()
    );
    println!(
        "Requête : les 20 plus proches avec deux filtres, d’un point tiré comme les lieux (même répartition)."
    );
    let distributions: [(&str, &[IndexedLieu]); 2] = [
        ("attributs réels (démo)", &sample),
        (
            "parts fixées à la main, valeurs rares comprises (`synthetic`)",
            &[],
        ),
    ];
    for &n in sizes {
        for (distribution, sample) in distributions {
            one_size(n, distribution, sample, &territoires, queries, dump)?;
        }
    }
    Ok(())
}

fn one_size(
    n: usize,
    distribution: &str,
    sample: &[IndexedLieu],
    territoires: &TerritoryIndex,
    queries: usize,
    dump: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    {
        let started = Instant::now();
        // An empty sample: the hand-set shares of `synthetic`.
        let lieux = synthetic_like(n, 42, territoires, sample);
        let generated = started.elapsed();
        let pairs = choose_pairs(&lieux[..lieux.len().min(100_000)]);
        let started = Instant::now();
        let index = LieuIndex::build(lieux.clone());
        let built = started.elapsed();
        let points: Vec<Point> = synthetic_like(queries, 99, territoires, sample)
            .into_iter()
            .filter_map(|l| l.location.position)
            .collect();
        println!(
            "\n## {n} lieux, {distribution} (générés en {:.1} s, index construit en {:.2} s), {} points × {} paires",
            generated.as_secs_f64(),
            built.as_secs_f64(),
            points.len(),
            pairs.len()
        );
        println!(
            "| filtres | part des lieux | index : médiane (µs) | p99 (µs) | index après un parcours complet (cache froid) : médiane (µs) | parcours complet : médiane (µs) | rapport des médianes |"
        );
        println!("|---|---|---|---|---|---|---|");
        let brute_every = (n / 25_000).clamp(1, 40);
        let mut all = Vec::new();
        let mut all_cold = Vec::new();
        let mut all_brute = Vec::new();
        // Lines for scripts (scripts/bench/lieux-postgis reads them).
        let mut machine = Vec::new();
        for &(pair, share) in &pairs {
            let f = pair.filter();
            // Queries one after the other, as a server answers them.
            let mut times = Vec::with_capacity(points.len());
            for &p in &points {
                let t = Instant::now();
                black_box(index.nearest(black_box(p), 20, &f));
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
            // Then the full scan, each followed by the same query on the index, which
            // finds its caches emptied by the scan (megabytes read): the cold case.
            let mut brute_times = Vec::new();
            let mut cold_times = Vec::new();
            for &p in points.iter().step_by(brute_every) {
                let t = Instant::now();
                let expected = black_box(brute_nearest(&lieux, p, 20, pair));
                brute_times.push(t.elapsed().as_secs_f64() * 1e6);
                let t = Instant::now();
                let found = black_box(index.nearest(black_box(p), 20, &f));
                cold_times.push(t.elapsed().as_secs_f64() * 1e6);
                {
                    // Same lieux at the same distances: the index is exact.
                    anyhow::ensure!(
                        found.len() == expected.len()
                            && found
                                .iter()
                                .zip(&expected)
                                .all(|(a, b)| (a.1 - b.0).abs() <= 1e-6 * b.0.max(1.0)),
                        "résultats différents de la force brute pour {}",
                        pair.describe()
                    );
                }
            }
            all.extend_from_slice(&times);
            all_cold.extend_from_slice(&cold_times);
            all_brute.extend_from_slice(&brute_times);
            let (m, p99) = percentiles(times);
            let (cm, _) = percentiles(cold_times);
            let (bm, _) = percentiles(brute_times);
            machine.push(format!(
                "PAIR {} {} {} {} {m:.2} {p99:.2}",
                pair.a.0,
                1u32 << pair.a.1,
                pair.b.0,
                1u32 << pair.b.1
            ));
            println!(
                "| {} | {:.3} % | {m:.2} | {p99:.2} | {cm:.2} | {bm:.0} | {:.0}× |",
                pair.describe(),
                share * 100.0,
                bm / m
            );
        }
        let (m, p99) = percentiles(all);
        let (bm, bp99) = percentiles(all_brute);
        let (cm, _) = percentiles(all_cold);
        println!(
            "| **toutes** | — | **{m:.2}** | **{p99:.2}** | {cm:.2} | {bm:.0} (p99 {bp99:.0}) | **{:.0}×** |",
            bm / m
        );
        for line in machine {
            println!("{line}");
        }
        println!(
            "RESULT n={n} median_us={m:.2} p99_us={p99:.2} cold_median_us={cm:.2} brute_median_us={bm:.0}"
        );
        // The PostGIS comparison takes the data with rare values.
        if let (Some(path), true) = (dump, sample.is_empty()) {
            dump_csv(path, &lieux, &points, &pairs)?;
            println!(
                "écrit : {} et {}.requetes.csv",
                path.display(),
                path.display()
            );
        }
    }
    Ok(())
}

/// The lieux (id, lat, lon, one bitmask per vocabulary) and the queries (point and the
/// two filters as vocabulary number and bitmask), for the PostGIS comparison.
fn dump_csv(
    path: &std::path::Path,
    lieux: &[IndexedLieu],
    points: &[Point],
    pairs: &[(Pair, f64)],
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "id,lat,lon,{}", KINDS.join(","))?;
    for l in lieux {
        let Some(p) = l.location.position else {
            continue;
        };
        write!(w, "{},{},{}", l.id, p.lat, p.lon)?;
        for k in 0..8 {
            write!(w, ",{}", kind_mask(l, k))?;
        }
        writeln!(w)?;
    }
    let mut q = std::io::BufWriter::new(std::fs::File::create(format!(
        "{}.requetes.csv",
        path.display()
    ))?);
    writeln!(q, "lat,lon,kind_a,mask_a,kind_b,mask_b")?;
    for &(pair, _) in pairs {
        for p in points {
            writeln!(
                q,
                "{},{},{},{},{},{}",
                p.lat,
                p.lon,
                pair.a.0,
                1u32 << pair.a.1,
                pair.b.0,
                1u32 << pair.b.1
            )?;
        }
    }
    w.flush()?;
    q.flush()?;
    Ok(())
}
