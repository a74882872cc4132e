//! `relais bench-pass`: N redemption attempts on M passes from C clients through the
//! counter's JSON API (loopback HTTP, each client a mediator's session), against `/healthz`
//! on the same server in the same run. Then the outcome is checked: every pass used
//! exactly once (once in the answers, once in the ledger), every other attempt refused as
//! « déjà utilisé ».

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::StructureId;
use relais_domain::pass::programme::{
    FinanceurSaisi, NiveauTerritoire, ProgrammeSaisi, Public, ServicePass,
};
use relais_services::comptes as comptes_svc;
use relais_services::pass::{self as svc, DemandeQualification};
use relais_store::Db;

use crate::bench_mandats::{CSRF, access, healthz, on_db, percentile, serve};

#[derive(clap::Args)]
pub struct Args {
    /// Tentatives d’utilisation envoyées.
    #[arg(long, default_value_t = 1_000_000, value_name = "NOMBRE")]
    tentatives: u64,
    /// Pass émis (en carnets de 10).
    #[arg(long, default_value_t = 10_000, value_name = "NOMBRE")]
    pass: usize,
    /// Clients simultanés (un médiateur chacun).
    #[arg(long, default_value_t = 64, value_name = "NOMBRE")]
    clients: usize,
    /// Durée de la charge sur /healthz, en secondes.
    #[arg(long, default_value_t = 10, value_name = "SECONDES")]
    secondes_healthz: u64,
    /// Au-delà, les clients s’arrêtent même si toutes les tentatives ne sont pas parties.
    #[arg(long, default_value_t = 900, value_name = "SECONDES")]
    secondes_max: u64,
    /// Dossier de la base SQLite (par défaut un nouveau dossier temporaire, vidé après).
    /// Avec --base : une base PostgreSQL vide à la place.
    #[arg(long, value_name = "DOSSIER")]
    dossier: Option<PathBuf>,
}

pub async fn run(base: &crate::config::BaseArgs, args: &Args) -> anyhow::Result<()> {
    on_db(base, args.dossier.as_ref(), "bench-pass", async |db| {
        run_on(db, args).await
    })
    .await
}

/// A national programme of `pass` passes of 10 € in booklets of 10, a qualified
/// structure with `clients` mediators signed in: (its id, their cookies, the codes).
async fn seed(
    db: &Db,
    pass: usize,
    clients: usize,
) -> anyhow::Result<(StructureId, Vec<String>, Vec<String>)> {
    db.migrate().await?;
    relais_services::territoires::ensure_loaded(db).await?;
    let now = relais_domain::calendrier::now_ms();
    let structure = |siret: &'static str, nom: &'static str| {
        comptes_svc::create_structure(
            db,
            siret,
            nom,
            StructureKind::Collectivite,
            "",
            "42218",
            None,
        )
    };
    let porteuse = structure("21420218600018", "Porteuse du banc").await?;
    let lieu = structure("13002526500013", "Lieu du banc").await?;
    let person = async |i: usize| {
        comptes_svc::create_account(
            db,
            &format!("banc{i}@pass.relais.test"),
            "Banc",
            &format!("N{i}"),
            "une phrase de passe du banc",
            None,
        )
        .await
    };
    let referent = person(clients).await?;
    comptes_svc::grant_role(db, referent, porteuse, Role::Referent, None).await?;
    comptes_svc::grant_role(db, referent, lieu, Role::Referent, None).await?;
    let financeur = FinanceurSaisi {
        nom: "État".into(),
        siret: "13002526500013".into(),
        part: "100".into(),
        iban: "FR7630001007941234567890185".into(),
        bic: "BDFEFRPPCCT".into(),
    };
    let programme = ProgrammeSaisi {
        nom: "Pass du banc".into(),
        financeurs: vec![financeur],
        valeur_centimes: 1000,
        taille_carnet: 10,
        budget_centimes: pass as i64 * 1000,
        achat_minimum_centimes: 0,
        dernier_jour: relais_domain::calendrier::paris_days(now) + 365,
        grace_jours: 0,
        territoires: vec![(NiveauTerritoire::Departement, "42".into())],
        publics: BTreeSet::from([Public::ToutPublic]),
        services: BTreeSet::from([ServicePass::AtelierCollectif]),
    };
    let porteur = access(referent, porteuse, Role::Referent)?;
    let programme = svc::creer_programme(db, &porteur, &programme, now).await?;
    let demande = DemandeQualification {
        titulaire: "Lieu du banc".into(),
        iban: "FR7630006000011234567890189".into(),
        bic: "AGRIFRPP".into(),
        services: vec![ServicePass::AtelierCollectif],
    };
    let q = svc::demander_qualification(
        db,
        &access(referent, lieu, Role::Referent)?,
        programme,
        &demande,
        now,
    )
    .await?;
    svc::decider_qualification(db, &porteur, q, true, "", now).await?;
    let mut codes = Vec::with_capacity(pass);
    for numero in svc::emettre(db, &porteur, programme, pass.div_ceil(10), None, now).await? {
        let carnet = relais_store::pass::carnet(db, programme, numero)
            .await?
            .context("carnet émis introuvable")?;
        codes.extend(carnet.codes);
    }
    let client = comptes_svc::Client {
        ip: "127.0.0.1".into(),
        user_agent: "banc".into(),
    };
    let mut cookies = Vec::with_capacity(clients);
    for i in 0..clients {
        let p = person(i).await?;
        comptes_svc::grant_role(db, p, lieu, Role::Mediateur, None).await?;
        let opened = comptes_svc::open_session(db, p, Stage::Active, &client).await?;
        cookies.push(format!(
            "relais_csrf={CSRF}; relais_session={}",
            opened.token
        ));
    }
    Ok((lieu, cookies, codes))
}

/// What one client saw: the passes it used, the refusals « déjà utilisé », the other
/// answers (first one kept), and each attempt's latency (ms).
#[derive(Default)]
struct Vu {
    utilises: Vec<usize>,
    deja: u64,
    autres: u64,
    premier_autre: Option<String>,
    latences: Vec<f64>,
}

async fn run_on(db: &Db, args: &Args) -> anyhow::Result<()> {
    let t = Instant::now();
    let (lieu, cookies, codes) = seed(db, args.pass.max(1), args.clients.max(1)).await?;
    println!(
        "base {} : {} pass émis, {} médiateurs connectés ({:.1} s)",
        db.backend().name(),
        codes.len(),
        cookies.len(),
        t.elapsed().as_secs_f64()
    );
    let (base, server) = serve(db).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let h = healthz(
        &http,
        &base,
        args.clients,
        Duration::from_secs(args.secondes_healthz.max(1)),
    )
    .await;

    let url = format!("{base}/api/v1/structures/{lieu}/pass/utilisations");
    let (codes, cookies) = (Arc::new(codes), Arc::new(cookies));
    let counter = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(args.secondes_max.max(1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients.max(1) {
        let (http, url, codes, cookies, counter) = (
            http.clone(),
            url.clone(),
            codes.clone(),
            cookies.clone(),
            counter.clone(),
        );
        let total = args.tentatives;
        tasks.push(tokio::spawn(async move {
            let mut vu = Vu::default();
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= total || Instant::now() >= end {
                    break;
                }
                // A pass drawn at random (splitmix64 of n): every pass tried, in no order.
                let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                let i = ((z ^ (z >> 31)) % codes.len() as u64) as usize;
                let body = serde_json::json!({
                    "code": codes[i],
                    "cle": format!("banc-{n:016}"),
                    "service": "atelier_collectif",
                });
                let t = Instant::now();
                let res = http
                    .post(&url)
                    .header("cookie", &cookies[c])
                    .header("x-csrf-token", CSRF)
                    .json(&body)
                    .send()
                    .await;
                let outcome = match res {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let text = r.text().await.unwrap_or_default();
                        match status {
                            200 => Ok(true),
                            409 if text.contains("\"deja_utilise\"") => Ok(false),
                            _ => Err(format!("{status} {text}")),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                vu.latences.push(t.elapsed().as_secs_f64() * 1e3);
                match outcome {
                    Ok(true) => vu.utilises.push(i),
                    Ok(false) => vu.deja += 1,
                    Err(e) => {
                        vu.autres += 1;
                        vu.premier_autre.get_or_insert(e);
                    }
                }
            }
            vu
        }));
    }
    let mut par_pass = vec![0u32; codes.len()];
    let (mut deja, mut autres, mut latences, mut premier_autre) = (0, 0, Vec::new(), None);
    for task in tasks {
        let vu = task.await?;
        for i in vu.utilises {
            par_pass[i] += 1;
        }
        deja += vu.deja;
        autres += vu.autres;
        latences.extend(vu.latences);
        premier_autre = premier_autre.or(vu.premier_autre);
    }
    let duree = started.elapsed().as_secs_f64();
    server.abort();
    let envoyees = latences.len() as u64;
    let utilises: u64 = par_pass.iter().map(|&n| u64::from(n)).sum();
    let ledger = relais_store::pass::uses_between(db, i64::MIN, i64::MAX, None, None)
        .await?
        .len() as u64;
    let rate = envoyees as f64 / duree;
    println!(
        "| charge ({} clients) | par seconde | p50 (ms) | p99 (ms) | erreurs |",
        args.clients
    );
    println!("|---|---|---|---|---|");
    println!(
        "| GET /healthz ({} s) | {:.0} | {:.2} | {:.2} | {} |",
        args.secondes_healthz, h.0, h.1, h.2, h.3
    );
    let (p50, p99) = if latences.is_empty() {
        (0.0, 0.0)
    } else {
        (
            percentile(&mut latences, 0.5),
            percentile(&mut latences, 0.99),
        )
    };
    println!(
        "| POST …/pass/utilisations ({envoyees} tentatives en {duree:.1} s) | {rate:.0} | {p50:.2} | {p99:.2} | {autres} |"
    );
    println!("tentatives / requêtes /healthz : {:.3}", rate / h.0);
    println!(
        "pass utilisés : {utilises} réponses 200 pour {} pass, {} lignes au registre ; refus « déjà utilisé » : {deja} ; autres réponses : {autres}",
        codes.len(),
        ledger
    );
    if let Some(e) = premier_autre {
        eprintln!("première autre réponse : {e}");
    }
    let jamais = par_pass.iter().filter(|&&n| n == 0).count();
    let deux = par_pass.iter().filter(|&&n| n > 1).count();
    anyhow::ensure!(deux == 0, "{deux} pass ont été acceptés plus d’une fois");
    anyhow::ensure!(
        ledger == utilises,
        "le registre compte {ledger} utilisations pour {utilises} acceptations"
    );
    anyhow::ensure!(autres == 0, "{autres} réponses ni 200 ni « déjà utilisé »");
    anyhow::ensure!(
        utilises + deja == envoyees,
        "{envoyees} tentatives, {utilises} acceptées, {deja} refusées"
    );
    if envoyees == args.tentatives {
        anyhow::ensure!(jamais == 0, "{jamais} pass jamais acceptés");
        println!(
            "chaque pass utilisé exactement une fois ; toute autre tentative refusée « déjà utilisé »"
        );
    } else {
        println!(
            "arrêté à {} s : {envoyees} tentatives sur {} ; {jamais} pass pas encore utilisés",
            args.secondes_max, args.tentatives
        );
    }
    Ok(())
}
