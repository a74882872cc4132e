//! `relais bench-import-lieux`: import + merge of synthetic producers' files, timed, with
//! the process' peak memory.
//!
//! The files are drawn from real data: lieux placed in real communes (weighted by
//! population^0.6, so that big towns hold more lieux but not in proportion, as on the
//! national map), at a few hundred metres from their town hall, with the attributes of a
//! real lieu of the demo file (services, publics, horaires…). A share of the lieux is
//! published by 2 or 3 sources, each with its own spelling of the name, the address and
//! the phone, and coordinates a few metres apart: the merge has real work.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use relais_domain::comptes::Siret;
use relais_domain::lieux::{COLUMNS, SchemaVersion, read_row, write_row};
use relais_domain::territoires::Commune;
use relais_search::TerritoryIndex;
use relais_search::lieux::Rng;
use relais_services::lieux::fichier;
use relais_services::lieux::import::{ImportReport, ToMerge, store_file, store_path};
use relais_store::Db;

#[derive(clap::Args)]
pub struct Args {
    /// Lignes en tout, réparties entre les sources.
    #[arg(long, default_value_t = 100_000, value_name = "NOMBRE")]
    lignes: usize,
    /// Nombre de sources (de fichiers).
    #[arg(long, default_value_t = 5, value_name = "NOMBRE")]
    sources: usize,
    /// À la place : un seul fichier d’environ ce nombre de mégaoctets, importé seul.
    #[arg(long, value_name = "MO")]
    gros_fichier: Option<u64>,
    /// Avec --gros-fichier : lire tout le fichier en mémoire et le découper en entier avant
    /// d’enregistrer (comme les imports avant la lecture en flux), pour comparer.
    #[arg(long, requires = "gros_fichier")]
    en_memoire: bool,
    /// Où écrire les fichiers et la base SQLite (par défaut un nouveau dossier temporaire,
    /// vidé sauf avec --garder). Avec --base : une base PostgreSQL sans lieux à la place
    /// de SQLite.
    #[arg(long, value_name = "DOSSIER")]
    dossier: Option<PathBuf>,
    /// Fusionner après chaque fichier (comme les dépôts en ligne) au lieu d’une fois après
    /// tous (comme « relais import lieux » avec plusieurs fichiers).
    #[arg(long)]
    fusion_par_fichier: bool,
    /// Garder les fichiers et la base après la mesure.
    #[arg(long)]
    garder: bool,
}

pub async fn run(base: &crate::config::BaseArgs, args: &Args) -> anyhow::Result<()> {
    let dir = args.dossier.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("relais-bench-import-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let result = measure(base, args, &dir).await;
    if !args.garder {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn measure(base: &crate::config::BaseArgs, args: &Args, dir: &Path) -> anyhow::Result<()> {
    let territoires = TerritoryIndex::build(relais_services::territoires::parse_shipped()?);
    let started = Instant::now();
    let mut generator = Generator::new(&territoires)?;
    let files = match args.gros_fichier {
        Some(mb) => vec![generator.big_file(dir, mb * 1_000_000)?],
        None => generator.sources(dir, args.lignes, args.sources.max(1))?,
    };
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len()))
        .sum();
    println!(
        "génération : {} fichier(s), {} lignes, {:.1} Mo, {} lieux réels distincts ({:.1} s)",
        files.len(),
        files.iter().map(|f| f.rows).sum::<usize>(),
        bytes as f64 / 1e6,
        generator.unique,
        started.elapsed().as_secs_f64()
    );
    drop(generator);

    let db = match &base.base {
        Some(url) => Db::connect_bulk(url).await?,
        None => Db::open_data_dir_bulk(&dir.join("base")).await?,
    };
    db.migrate().await?;
    relais_services::territoires::ensure_loaded(&db).await?;
    let index = TerritoryIndex::build(relais_store::territoires::load_all(&db).await?);
    let before = relais_store::lieux::count(&db).await?;
    anyhow::ensure!(before == 0, "la base contient déjà {before} lieux");
    let rss_ready = vm("VmRSS");

    let total = Instant::now();
    let mut rows = 0;
    let mut merge = Duration::ZERO;
    let mut to_merge = ToMerge::default();
    let mut reports = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let source = format!("source-{}", i + 1);
        let t = Instant::now();
        let (report, pending) = if args.en_memoire {
            let bytes = std::fs::read(&f.path)?;
            let raw = fichier::read(&bytes, true)?;
            store_file(&db, &index, &source, &raw, &mut |_, _| {}).await?
        } else {
            store_path(&db, &index, &source, &f.path, &mut |_, _| {}).await?
        };
        let stored = t.elapsed();
        rows += report.read;
        to_merge.add(pending);
        let mut merged = None;
        if args.fusion_par_fichier {
            let t = Instant::now();
            std::mem::take(&mut to_merge).merge(&db, Vec::new()).await?;
            merged = Some(t.elapsed());
            merge += t.elapsed();
        }
        print_file(&source, f, &report, stored, merged);
        reports.push(report);
    }
    if !args.fusion_par_fichier {
        let t = Instant::now();
        to_merge.merge(&db, Vec::new()).await?;
        merge = t.elapsed();
        println!(
            "fusion des {} fichiers : {:.2} s",
            files.len(),
            merge.as_secs_f64()
        );
    }
    let reports = ToMerge::default().merge(&db, reports).await?;
    for r in &reports {
        println!(
            "{} : {} lignes fusionnées avec une autre fiche, {} paires à revoir",
            r.source, r.merged, r.review
        );
    }
    let spent = total.elapsed();
    let lieux = relais_store::lieux::count(&db).await?;
    db.close().await;
    println!(
        "total : {rows} lignes en {:.2} s ({:.0} lignes/s), dont fusion {:.2} s ; {lieux} lieux après fusion",
        spent.as_secs_f64(),
        rows as f64 / spent.as_secs_f64(),
        merge.as_secs_f64()
    );
    println!(
        "mémoire : pic {} (VmHWM du processus), {} avant l’import (territoires chargés){}",
        mb(vm("VmHWM")),
        mb(rss_ready),
        if args.en_memoire {
            " ; mode --en-memoire : fichier lu en entier"
        } else {
            " ; lecture en flux"
        }
    );
    Ok(())
}

fn print_file(
    source: &str,
    f: &Generated,
    r: &ImportReport,
    stored: Duration,
    merge: Option<Duration>,
) {
    println!(
        "{source} ({}) : {} lues, {} gardées, {} rejetées, {} avertissements ; enregistrées en {:.2} s ({:.0} lignes/s){}",
        f.format,
        r.read,
        r.kept(),
        r.rejected.len(),
        r.warnings.len(),
        stored.as_secs_f64(),
        r.read as f64 / stored.as_secs_f64(),
        merge.map_or(String::new(), |m| format!(
            ", fusion {:.2} s",
            m.as_secs_f64()
        ))
    );
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or("inconnu".into(), |kb| {
        format!("{:.0} Mo", kb as f64 / 1024.0)
    })
}

/// A field of `/proc/self/status`, in kB (`VmHWM`: the peak resident memory).
fn vm(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

struct Generated {
    path: PathBuf,
    rows: usize,
    format: &'static str,
}

const KINDS: [&str; 12] = [
    "Médiathèque",
    "France Services",
    "Centre social",
    "Espace public numérique",
    "Maison de quartier",
    "Bibliothèque municipale",
    "Point numérique",
    "Maison des solidarités",
    "Tiers-lieu",
    "Centre communal d’action sociale",
    "Association Numérique pour tous",
    "Espace de vie sociale",
];
const STREETS: [&str; 16] = [
    "Jean Jaurès",
    "Victor Hugo",
    "de la République",
    "Pasteur",
    "de la Gare",
    "Jean Moulin",
    "du Général de Gaulle",
    "Gambetta",
    "de la Mairie",
    "des Écoles",
    "Jules Ferry",
    "de l’Église",
    "Voltaire",
    "du Stade",
    "Louise Michel",
    "Aristide Briand",
];
const WAYS: [(&str, &str); 6] = [
    ("rue", "r."),
    ("avenue", "av."),
    ("place", "pl."),
    ("boulevard", "bd"),
    ("allée", "all."),
    ("chemin", "ch."),
];

/// One lieu as it is in the world, before a source writes it down.
struct Truth<'a> {
    commune: &'a Commune,
    template: usize,
    kind: &'static str,
    street: &'static str,
    way: usize,
    number: u32,
    lat: f64,
    lon: f64,
    phone: String,
    siret: Option<String>,
}

struct Generator<'a> {
    rng: Rng,
    communes: Vec<&'a Commune>,
    /// Cumulated weights of `communes`.
    weights: Vec<f64>,
    /// Real lieux as rows of schema v1.0.1: the attributes the synthetic ones copy.
    templates: Vec<Vec<(&'static str, String)>>,
    unique: usize,
}

impl<'a> Generator<'a> {
    fn new(territoires: &'a TerritoryIndex) -> anyhow::Result<Self> {
        let all = &territoires.territoires().communes;
        // Paris, Lyon, Marseille: their lieux are in their arrondissements.
        let parents: std::collections::HashSet<&str> = all
            .iter()
            .filter_map(|a| {
                a.commune_parent
                    .as_ref()
                    .map(relais_domain::territoires::CodeInsee::as_str)
            })
            .collect();
        let communes: Vec<&Commune> = all
            .iter()
            .filter(|c| c.position.is_some() && !c.codes_postaux.is_empty() && c.population > 0)
            .filter(|c| !parents.contains(c.code.as_str()))
            .collect();
        let mut sum = 0.0;
        let weights = communes
            .iter()
            .map(|c| {
                sum += f64::from(c.population).powf(0.6);
                sum
            })
            .collect();
        let demo = fichier::read(relais_services::lieux::demo::FILE, true)?;
        let version = SchemaVersion::detect(demo.columns.iter().map(String::as_str));
        let templates: Vec<_> = demo
            .rows
            .iter()
            .filter_map(|r| read_row(&r.fields, version).ok())
            .map(|reading| write_row(&reading.lieu))
            .collect();
        anyhow::ensure!(!templates.is_empty(), "lieux réels illisibles");
        Ok(Generator {
            rng: Rng(20_261_123),
            communes,
            weights,
            templates,
            unique: 0,
        })
    }

    fn commune(&mut self) -> &'a Commune {
        let total = *self.weights.last().expect("communes");
        let x = self.rng.unit() * total;
        let i = self.weights.partition_point(|&w| w < x);
        self.communes[i.min(self.communes.len() - 1)]
    }

    fn truth(&mut self) -> Truth<'a> {
        self.unique += 1;
        let commune = self.commune();
        let hall = commune.position.expect("filtered");
        // Within about 1.5 km of the town hall.
        let (dlat, dlon) = (
            (self.rng.unit() - 0.5) * 0.027,
            (self.rng.unit() - 0.5) * 0.04,
        );
        let area = match commune.departement.as_str() {
            d if d.starts_with("97") => 6,
            d => match d.parse::<u32>().unwrap_or(1) {
                75 | 77 | 78 | 91..=95 => 1,
                _ => 2 + self.rng.below(4),
            },
        };
        let phone = format!("0{area}{:08}", self.rng.below(100_000_000));
        let siret = (self.rng.below(2) == 0).then(|| siret(&mut self.rng));
        Truth {
            commune,
            template: self.rng.below(self.templates.len()),
            kind: KINDS[self.rng.below(KINDS.len())],
            street: STREETS[self.rng.below(STREETS.len())],
            way: self.rng.below(WAYS.len()),
            number: 1 + self.rng.below(120) as u32,
            lat: hall.lat + dlat,
            lon: hall.lon + dlon,
            phone,
            siret,
        }
    }

    /// The lieu as source `variant` (0: the first that publishes it) writes it.
    fn row(&mut self, t: &Truth, id: &str, variant: usize) -> Vec<(&'static str, String)> {
        let mut row = self.templates[t.template].clone();
        let way = if variant == 1 {
            WAYS[t.way].1
        } else {
            WAYS[t.way].0
        };
        let name = format!("{} {}", t.kind, t.street);
        let (nom, adresse) = match variant {
            0 => (name, format!("{} {way} {}", t.number, t.street)),
            1 => (
                fold_upper(&name),
                format!("{}, {way} {}", t.number, t.street),
            ),
            _ => (
                format!("{name} de {}", t.commune.nom),
                format!("{} {way} {}", t.number, fold_upper(t.street)),
            ),
        };
        let telephone = match variant {
            0 => t.phone.clone(),
            1 => format!("+33{}", &t.phone[1..]),
            _ => t.phone.clone(),
        };
        // A few metres apart from one source to another.
        let jitter = |r: &mut Rng| (r.unit() - 0.5) * 0.0004;
        let (lat, lon) = (t.lat + jitter(&mut self.rng), t.lon + jitter(&mut self.rng));
        let day = 1 + self.rng.below(28);
        let month = 1 + self.rng.below(12);
        for (k, v) in &mut row {
            *v = match *k {
                "id" => id.to_string(),
                "pivot" => t.siret.clone().unwrap_or_else(|| "00000000000000".into()),
                "nom" => nom.clone(),
                "commune" => t.commune.nom.clone(),
                "code_postal" => t.commune.codes_postaux[0].as_str().to_string(),
                "code_insee" if variant == 1 => String::new(),
                "code_insee" => t.commune.code.as_str().to_string(),
                "adresse" => adresse.clone(),
                "latitude" => format!("{lat:.6}"),
                "longitude" => format!("{lon:.6}"),
                "telephone" => telephone.clone(),
                "courriels" | "site_web" | "structure_parente" | "fiche_acces_libre"
                | "prise_rdv" => String::new(),
                "source" => format!("Producteur {}", variant + 1),
                "date_maj" => format!("2025-{month:02}-{day:02}"),
                _ => std::mem::take(v),
            };
        }
        row
    }

    /// `rows` rows over `n` sources: 60 % of the lieux in one source, 30 % in two, 10 %
    /// in three; 0.5 % of the rows with a postal code in a wrong format (rejected).
    fn sources(&mut self, dir: &Path, rows: usize, n: usize) -> anyhow::Result<Vec<Generated>> {
        let formats: [&'static str; 3] = ["csv ,", "json", "csv ;"];
        let mut writers = (0..n)
            .map(|i| Writer::create(dir, i, formats[i % 3]))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut written = 0;
        while written < rows {
            let t = self.truth();
            let copies = match self.rng.below(10) {
                0..=5 => 1,
                6..=8 => 2,
                _ => 3,
            }
            .min(n)
            .min(rows - written);
            let first = self.rng.below(n);
            for variant in 0..copies {
                let s = (first + variant) % n;
                let id = format!("{}-{}", s + 1, self.unique);
                let mut row = self.row(&t, &id, variant);
                if self.rng.below(200) == 0 {
                    row[4].1 = "750 01".to_string();
                }
                writers[s].write(&row)?;
                written += 1;
            }
        }
        writers.into_iter().map(Writer::finish).collect()
    }

    /// One CSV of about `bytes` bytes, every lieu distinct.
    fn big_file(&mut self, dir: &Path, bytes: u64) -> anyhow::Result<Generated> {
        let mut w = Writer::create(dir, 0, "csv ,")?;
        while w.bytes < bytes {
            let t = self.truth();
            let id = format!("gros-{}", self.unique);
            let row = self.row(&t, &id, 0);
            w.write(&row)?;
        }
        w.finish()
    }
}

/// A valid SIRET (its key checked as `Siret::parse` does) of 14 digits.
fn siret(rng: &mut Rng) -> String {
    loop {
        let digits: String = (0..14)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        if !digits.starts_with('0') && Siret::parse(&digits).is_ok() {
            return digits;
        }
    }
}

/// Upper case without accents, as some producers write names.
fn fold_upper(s: &str) -> String {
    relais_domain::text::search_key(s).to_uppercase()
}

struct Writer {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    format: &'static str,
    rows: usize,
    bytes: u64,
}

impl Writer {
    fn create(dir: &Path, i: usize, format: &'static str) -> anyhow::Result<Self> {
        let ext = if format == "json" { "json" } else { "csv" };
        let path = dir.join(format!("source-{}.{ext}", i + 1));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let header = match format {
            "json" => "[".to_string(),
            "csv ;" => COLUMNS.join(";") + "\n",
            _ => COLUMNS.join(",") + "\n",
        };
        out.write_all(header.as_bytes())?;
        Ok(Writer {
            path,
            out,
            format,
            rows: 0,
            bytes: header.len() as u64,
        })
    }

    fn write(&mut self, row: &[(&'static str, String)]) -> anyhow::Result<()> {
        let line = match self.format {
            "json" => {
                let fields: Vec<String> = row
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| format!("\"{k}\":{}", json_string(v)))
                    .collect();
                let sep = if self.rows == 0 { "\n" } else { ",\n" };
                format!("{sep}{{{}}}", fields.join(","))
            }
            f => {
                let sep = if f == "csv ;" { ";" } else { "," };
                let fields: Vec<String> = row
                    .iter()
                    .map(|(_, v)| {
                        if v.contains([',', ';', '"', '\n', '\r']) {
                            format!("\"{}\"", v.replace('"', "\"\""))
                        } else {
                            v.clone()
                        }
                    })
                    .collect();
                fields.join(sep) + "\n"
            }
        };
        self.out.write_all(line.as_bytes())?;
        self.bytes += line.len() as u64;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<Generated> {
        if self.format == "json" {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        Ok(Generated {
            path: self.path,
            rows: self.rows,
            format: self.format,
        })
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
