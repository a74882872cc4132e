//! `relais bench-activites`: N synthetic participations over real communes (30,000
//! mediators, 5 years) written to the database, the statistics index loaded from it, then
//! every dashboard query timed on the index and, for the same figures, by plain GROUP BYs
//! in the database (same run, same rows). Each query's figures are checked equal both ways.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use relais_domain::activites::rapport::{Anonymes, Rapport, jour};
use relais_domain::activites::statistiques::Filtres;
use relais_domain::activites::vocabulaires::{
    Genre, Materiel, StatutSocial, Thematique, TrancheAge, TypeActivite, TypeLieu,
};
use relais_domain::ids::{BeneficiaireId, LieuId, PersonId, StructureId};
use relais_domain::territoires::CommuneKind;
use relais_services::activites::Statistiques;
use relais_store::Db;
use relais_store::activites::masse::{self, Ligne};
use relais_store::activites::{NouvelleActivite, Participant, figures_par_group_by};

#[derive(clap::Args)]
pub struct Args {
    /// Participations écrites.
    #[arg(long, default_value_t = 10_000_000, value_name = "NOMBRE")]
    participations: usize,
    /// Médiateurs (trois par structure).
    #[arg(long, default_value_t = 30_000, value_name = "NOMBRE")]
    mediateurs: usize,
    /// Mesures de chaque requête sur l’index.
    #[arg(long, default_value_t = 30, value_name = "NOMBRE")]
    tours: usize,
    /// Mesures de chaque requête par GROUP BY (lentes).
    #[arg(long, default_value_t = 1, value_name = "NOMBRE")]
    tours_group_by: usize,
    /// Dossier de la base SQLite (par défaut un nouveau dossier temporaire, vidé après).
    /// Avec --base : une base PostgreSQL vide à la place.
    #[arg(long, value_name = "DOSSIER")]
    dossier: Option<PathBuf>,
}

/// A small deterministic generator: the same rows on both backends.
struct Alea(u64);

impl Alea {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
    /// An index in a cumulative table.
    fn cumulative(&mut self, cumul: &[f64]) -> usize {
        let x = self.unit() * cumul[cumul.len() - 1];
        cumul.partition_point(|c| *c <= x).min(cumul.len() - 1)
    }
}

fn cumulate(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .into_iter()
        .map(|w| {
            total += w;
            total
        })
        .collect()
}

// Shares seen in the national reports (rounded): most accompaniments are individual, most
// people over 60, more women than men.
const GENRES: [f64; 3] = [0.38, 0.55, 0.07];
const TRANCHES: [f64; 8] = [0.01, 0.03, 0.05, 0.12, 0.22, 0.22, 0.28, 0.07];
const STATUTS: [f64; 6] = [0.03, 0.22, 0.18, 0.45, 0.0, 0.12];
const THEMATIQUES: [f64; 19] = [
    0.05, 0.14, 0.03, 0.06, 0.1, 0.1, 0.05, 0.05, 0.04, 0.05, 0.01, 0.04, 0.05, 0.01, 0.02, 0.01,
    0.02, 0.02, 0.15,
];
const DUREES: [(u32, f64); 6] = [
    (15, 0.1),
    (30, 0.3),
    (45, 0.2),
    (60, 0.25),
    (90, 0.08),
    (120, 0.07),
];

struct Mediateur {
    id: PersonId,
    structure: usize,
}

struct Monde {
    communes: Vec<String>,
    cumul_communes: Vec<f64>,
    mediateurs: Vec<Mediateur>,
    cumul_mediateurs: Vec<f64>,
    /// Per structure: its commune and lieux.
    structures: Vec<(usize, Vec<LieuId>)>,
}

fn personne(alea: &mut Alea, commune: Option<String>) -> Participant {
    let statuts: Vec<f64> = StatutSocial::ALL
        .iter()
        .enumerate()
        .map(|(i, _)| STATUTS.get(i).copied().unwrap_or(0.05))
        .collect();
    Participant {
        beneficiaire: None,
        deja_accompagne: alea.chance(0.4),
        genre: Genre::ALL[alea.weighted(&GENRES)],
        tranche: TrancheAge::ALL[alea.weighted(&TRANCHES)],
        statut: StatutSocial::ALL[alea.weighted(&statuts)],
        commune,
    }
}

fn progress(label: &str, done: usize, total: usize, started: Instant) {
    eprint!(
        "\r{label} : {done} / {total} ({:.0} s)   ",
        started.elapsed().as_secs_f64()
    );
}

/// Writes the synthetic world; returns (activities, participations, beneficiaries).
async fn charger(db: &Db, args: &Args, monde: &Monde) -> anyhow::Result<(usize, usize, usize)> {
    let now = relais_domain::calendrier::now_ms();
    let started = Instant::now();
    let ids: Vec<i64> = monde.mediateurs.iter().map(|m| m.id.0).collect();
    for chunk in ids.chunks(10_000) {
        masse::personnes(db, chunk, now).await?;
    }
    let structures: Vec<(i64, String)> = monde
        .structures
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (i as i64 + 1, monde.communes[*c].clone()))
        .collect();
    masse::structures(db, &structures, now).await?;
    let lieux: Vec<(LieuId, String)> = monde
        .structures
        .iter()
        .flat_map(|(c, lieux)| {
            lieux
                .iter()
                .map(|l| (l.clone(), monde.communes[*c].clone()))
        })
        .collect();
    masse::lieux(db, &lieux, now).await?;

    let mut alea = Alea(0x0005_EED0_FA11_5A1E);
    let debut = jour(2021, 1, 1) / 86_400_000;
    let fin = jour(2025, 12, 31) / 86_400_000;
    let day_weight = |d: i64| {
        let weekday = (d + 3).rem_euclid(7); // 0: Monday
        let w = match weekday {
            5 => 0.3,
            6 => 0.05,
            _ => 1.0,
        };
        w * (1.0 + 0.15 * ((d - debut) as f64 / 365.0))
    };
    let total_weight: f64 = (debut..=fin).map(day_weight).sum();
    // A little more than the mean size (2.18 measured), so that the last days reach N.
    let activites_voulues = args.participations as f64 / 2.17;
    let mut pools: Vec<Vec<(BeneficiaireId, Participant)>> =
        vec![Vec::new(); monde.structures.len()];
    let (mut next_activite, mut next_beneficiaire) = (1i64, 1i64);
    let mut participations = 0usize;
    let mut lignes: Vec<Ligne> = Vec::new();
    let mut nouveaux: Vec<(i64, i64, i64, Participant)> = Vec::new();
    let mut carry = 0.0;
    'days: for d in debut..=fin {
        carry += activites_voulues * day_weight(d) / total_weight;
        while carry >= 1.0 {
            carry -= 1.0;
            if participations >= args.participations {
                break 'days;
            }
            let m = &monde.mediateurs[alea.cumulative(&monde.cumul_mediateurs)];
            let (structure_commune, lieux) = &monde.structures[m.structure];
            let individuel = alea.chance(0.8);
            let size = if individuel { 1 } else { 3 + alea.below(10) };
            let size = size.min(args.participations - participations);
            let suivis_share = if individuel { 0.5 } else { 0.3 };
            let mut participants: Vec<Participant> = Vec::new();
            let mut premiers = Vec::new();
            for _ in 0..size {
                if !alea.chance(suivis_share) {
                    let p = personne(&mut alea, None);
                    premiers.push(!p.deja_accompagne);
                    participants.push(p);
                    continue;
                }
                let pool = &mut pools[m.structure];
                if pool.is_empty() || alea.chance(0.35) {
                    let commune = if alea.chance(0.8) {
                        *structure_commune
                    } else {
                        alea.cumulative(&monde.cumul_communes)
                    };
                    let id = BeneficiaireId(next_beneficiaire);
                    next_beneficiaire += 1;
                    let p = Participant {
                        beneficiaire: Some(id),
                        ..personne(&mut alea, Some(monde.communes[commune].clone()))
                    };
                    nouveaux.push((id.0, m.structure as i64 + 1, m.id.0, p.clone()));
                    pool.push((id, p.clone()));
                    premiers.push(true);
                    participants.push(p);
                } else {
                    let (id, p) = pool[alea.below(pool.len())].clone();
                    if participants.iter().any(|q| q.beneficiaire == Some(id)) {
                        continue;
                    }
                    premiers.push(false);
                    participants.push(p);
                }
            }
            if participants.is_empty() {
                continue;
            }
            let type_lieu = TypeLieu::ALL[alea.weighted(&[0.7, 0.1, 0.12, 0.08])];
            let lieu = (type_lieu == TypeLieu::LieuActivite)
                .then(|| lieux[alea.below(lieux.len())].clone());
            let commune = match type_lieu {
                TypeLieu::LieuActivite | TypeLieu::ADistance => *structure_commune,
                _ if alea.chance(0.7) => *structure_commune,
                _ => alea.cumulative(&monde.cumul_communes),
            };
            let mut thematiques = BTreeSet::new();
            for _ in 0..1 + alea.below(3) {
                thematiques.insert(Thematique::ALL[alea.weighted(&THEMATIQUES)]);
            }
            let mut materiel = BTreeSet::new();
            for _ in 0..alea.below(3) {
                materiel.insert(Materiel::ALL[alea.weighted(&[0.4, 0.35, 0.15, 0.05, 0.05])]);
            }
            let duree = DUREES[alea.weighted(&DUREES.map(|(_, w)| w))].0;
            participations += participants.len();
            let id = next_activite;
            next_activite += 1;
            lignes.push(Ligne {
                id,
                activite: NouvelleActivite {
                    cle: format!("bench-{id}"),
                    mediateur: m.id,
                    structure: StructureId(m.structure as i64 + 1),
                    rapport: Rapport {
                        type_activite: if individuel {
                            TypeActivite::Individuel
                        } else {
                            TypeActivite::Collectif
                        },
                        date: d * 86_400_000,
                        duree,
                        type_lieu,
                        lieu,
                        commune: monde.communes[commune].clone(),
                        thematiques,
                        demarches: BTreeSet::new(),
                        materiel,
                        autonomie: None,
                        niveau: None,
                        orientation: None,
                        precisions_demarche: String::new(),
                        titre_atelier: String::new(),
                        suivis: BTreeSet::new(),
                        anonymes: Anonymes::default(),
                    },
                    anonymes_json: String::new(),
                    participants,
                },
                premiers,
            });
            if lignes.len() >= 20_000 {
                masse::beneficiaires(db, &nouveaux, now).await?;
                nouveaux.clear();
                masse::activites(db, &lignes, now).await?;
                lignes.clear();
                progress(
                    "participations écrites",
                    participations,
                    args.participations,
                    started,
                );
            }
        }
    }
    masse::beneficiaires(db, &nouveaux, now).await?;
    masse::activites(db, &lignes, now).await?;
    masse::terminer(db).await?;
    progress(
        "participations écrites",
        participations,
        args.participations,
        started,
    );
    eprintln!();
    Ok((
        next_activite as usize - 1,
        participations,
        next_beneficiaire as usize - 1,
    ))
}

fn monde(args: &Args, t: &relais_domain::territoires::Territoires) -> Monde {
    let communes: Vec<&relais_domain::territoires::Commune> = t
        .communes
        .iter()
        .filter(|c| c.kind == CommuneKind::CommuneActuelle)
        .collect();
    let cumul_communes = cumulate(communes.iter().map(|c| f64::from(c.population.max(50))));
    let mut alea = Alea(0x0C07_71E5);
    let n_structures = args.mediateurs.div_ceil(3);
    let mut structures = Vec::new();
    let mut next_lieu = 0;
    for _ in 0..n_structures {
        let commune = alea.cumulative(&cumul_communes);
        let lieux = (0..1 + alea.below(2))
            .map(|_| {
                next_lieu += 1;
                LieuId(format!("bench{next_lieu:011x}"))
            })
            .collect();
        structures.push((commune, lieux));
    }
    let mediateurs: Vec<Mediateur> = (0..args.mediateurs)
        .map(|i| Mediateur {
            id: PersonId(i as i64 + 1),
            structure: i / 3,
        })
        .collect();
    // Some mediators report much more than others.
    let cumul_mediateurs = cumulate(mediateurs.iter().map(|_| 0.2 + 3.0 * alea.unit().powi(2)));
    Monde {
        communes: communes
            .iter()
            .map(|c| c.code.as_str().to_string())
            .collect(),
        cumul_communes,
        mediateurs,
        cumul_mediateurs,
        structures,
    }
}

/// The dashboards timed: (label, filters).
fn requetes(monde: &Monde, t: &relais_domain::territoires::Territoires) -> Vec<(String, Filtres)> {
    let annee = Filtres {
        du: Some(jour(2025, 1, 1)),
        au: Some(jour(2025, 12, 31)),
        ..Filtres::default()
    };
    let communes_where =
        |keep: &dyn Fn(&relais_domain::territoires::Commune) -> bool| -> BTreeSet<String> {
            t.communes
                .iter()
                .filter(|c| keep(c))
                .map(|c| c.code.as_str().to_string())
                .collect()
        };
    let epci = t
        .communes
        .iter()
        .find(|c| c.code.as_str() == "42218")
        .and_then(|c| c.epci.clone())
        .unwrap_or_default();
    let m0 = &monde.mediateurs[0];
    vec![
        ("France, 5 ans".into(), Filtres::default()),
        ("France, 2025".into(), annee.clone()),
        (
            "France, 2025, ateliers collectifs".into(),
            Filtres {
                types: BTreeSet::from([TypeActivite::Collectif]),
                ..annee.clone()
            },
        ),
        (
            "France, 2025, démarches administratives".into(),
            Filtres {
                thematiques: BTreeSet::from([Thematique::AideAuxDemarchesAdministratives]),
                ..annee.clone()
            },
        ),
        (
            "Région Auvergne-Rhône-Alpes, 2025".into(),
            Filtres {
                communes: communes_where(&|c| c.region == "84"),
                ..annee.clone()
            },
        ),
        (
            "Département de la Loire, 5 ans".into(),
            Filtres {
                communes: communes_where(&|c| c.departement == "42"),
                ..Filtres::default()
            },
        ),
        (
            format!("EPCI {epci} (Saint-Étienne Métropole), 2025"),
            Filtres {
                communes: communes_where(&|c| c.epci.as_deref() == Some(epci.as_str())),
                ..annee.clone()
            },
        ),
        (
            "Commune de Lyon, 5 ans".into(),
            Filtres {
                communes: BTreeSet::from(["69123".to_string()]),
                ..Filtres::default()
            },
        ),
        (
            "Une structure (3 médiateurs), 5 ans".into(),
            Filtres {
                structures: BTreeSet::from([StructureId(m0.structure as i64 + 1)]),
                ..Filtres::default()
            },
        ),
        (
            "Un médiateur, 5 ans".into(),
            Filtres {
                mediateurs: BTreeSet::from([m0.id]),
                ..Filtres::default()
            },
        ),
        (
            "Équipe d’un coordinateur (30 médiateurs), 2025".into(),
            Filtres {
                mediateurs: (0..30)
                    .map(|i| monde.mediateurs[i * 997 % monde.mediateurs.len()].id)
                    .collect(),
                ..annee
            },
        ),
    ]
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    kib("VmRSS:") / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(base: &crate::config::BaseArgs, args: &Args) -> anyhow::Result<()> {
    crate::bench_mandats::on_db(base, args.dossier.as_ref(), "bench-activites", async |db| {
        run_on(db, args).await
    })
    .await
}

async fn run_on(db: &Db, args: &Args) -> anyhow::Result<()> {
    db.migrate().await?;
    relais_services::territoires::ensure_loaded(db).await?;
    anyhow::ensure!(
        relais_store::activites::derniere_version(db).await? == 0,
        "cette base contient déjà des activités"
    );
    let t = relais_services::territoires::parse_shipped()?;
    let monde = monde(args, &t);
    let started = Instant::now();
    let (activites, participations, beneficiaires) = charger(db, args, &monde)
        .await
        .context("écriture des activités")?;
    let load = started.elapsed();
    println!("Base : {}", db.backend().name());
    println!(
        "Écrit : {activites} activités, {participations} participations, {beneficiaires} bénéficiaires suivis, {} médiateurs, en {:.0} s ({:.0} participations/s)",
        monde.mediateurs.len(),
        load.as_secs_f64(),
        participations as f64 / load.as_secs_f64()
    );

    let before = rss_mib();
    let stats = Statistiques::new();
    let started = Instant::now();
    stats.rattraper(db).await?;
    let index_load = started.elapsed();
    let after = rss_mib();
    let (a, p) = stats.taille();
    anyhow::ensure!(
        p == participations,
        "l’index tient {p} participations, {participations} écrites"
    );
    println!(
        "Index : {a} activités, {p} participations chargées en {:.1} s ; l’index tient {:.0} Mio ; mémoire résidente du processus {before:.0} → {after:.0} Mio (avec le cache de pages de SQLite)",
        index_load.as_secs_f64(),
        stats.octets() as f64 / 1_048_576.0
    );

    println!();
    println!("| Tableau de bord | p50 index (ms) | p95 index (ms) | GROUP BY (ms) | rapport |");
    println!("|---|---:|---:|---:|---:|");
    for (label, f) in requetes(&monde, &t) {
        let mut times = Vec::new();
        let mut figures = None;
        for _ in 0..args.tours.max(1) {
            let started = Instant::now();
            figures = Some(stats.figures(db, &f).await?);
            times.push(ms(started.elapsed()));
        }
        let mut reference = Vec::new();
        let mut by_sql = None;
        for _ in 0..args.tours_group_by.max(1) {
            let started = Instant::now();
            by_sql = Some(figures_par_group_by(db, &f).await?);
            reference.push(ms(started.elapsed()));
        }
        anyhow::ensure!(
            figures == by_sql,
            "« {label} » : l’index et le GROUP BY diffèrent"
        );
        let p50 = crate::bench_mandats::percentile(&mut times, 0.5);
        let p95 = crate::bench_mandats::percentile(&mut times, 0.95);
        let sql = crate::bench_mandats::percentile(&mut reference, 0.5);
        println!(
            "| {label} ({} participations) | {p50:.1} | {p95:.1} | {sql:.0} | {:.0}× |",
            figures.map_or(0, |f| f.totaux.participations),
            sql / p50.max(0.001)
        );
    }
    Ok(())
}
