//! Benchmarks of the mandates: `relais bench-oidc` (authorize → token → userinfo round trips
//! per second against `/healthz`, same server, same run) and `relais bench-journal`
//! (`relais journal verifier` over a journal of N entries, against reading the same rows).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use relais_domain::authz::{Actor, Membership};
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::AutorisationId;
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::mandats::{Demande, Demarche, cle_usager, modele};
use relais_services::comptes as comptes_svc;
use relais_services::mandats::{self as mandats, Consentement, fournisseur};
use relais_store::Db;
use relais_store::mandats::Identite;
use sha2::{Digest, Sha256};

#[derive(clap::Args)]
pub struct OidcArgs {
    /// Durée de chaque charge, en secondes.
    #[arg(long, default_value_t = 10, value_name = "SECONDES")]
    secondes: u64,
    /// Clients simultanés (un aidant chacun).
    #[arg(long, default_value_t = 16, value_name = "NOMBRE")]
    clients: usize,
    /// Dossier de la base SQLite (par défaut un nouveau dossier temporaire, vidé après).
    /// Avec --base : une base PostgreSQL vide à la place.
    #[arg(long, value_name = "DOSSIER")]
    dossier: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct JournalArgs {
    /// Entrées du journal.
    #[arg(long, default_value_t = 1_000_000, value_name = "NOMBRE")]
    entrees: usize,
    /// Vérifications mesurées.
    #[arg(long, default_value_t = 3, value_name = "NOMBRE")]
    tours: usize,
    /// Dossier de la base SQLite (par défaut un nouveau dossier temporaire, vidé après).
    /// Avec --base : une base PostgreSQL vide à la place.
    #[arg(long, value_name = "DOSSIER")]
    dossier: Option<PathBuf>,
}

/// Runs a benchmark on its database: PostgreSQL at `base`, else SQLite in `dossier` or in a
/// temporary folder removed afterwards; the database is closed whatever the outcome.
pub(crate) async fn on_db(
    base: &crate::config::BaseArgs,
    dossier: Option<&PathBuf>,
    name: &str,
    run: impl AsyncFnOnce(&Db) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let (db, temp) = match &base.base {
        Some(url) => (Db::connect(url).await?, None),
        None => {
            let dir = dossier.cloned().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("relais-{name}-{}", std::process::id()))
            });
            std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
            let db = Db::open_data_dir(&dir).await?;
            (db, dossier.is_none().then_some(dir))
        }
    };
    let result = run(&db).await;
    db.close().await;
    if let Some(dir) = temp {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// The CSRF token of the benchmarks' signed-in clients (cookie and form or header).
pub(crate) const CSRF: &str = "0123456789abcdef0123456789abcdef";

/// The proof that `person` holds `role` in `structure`, as the guard would give it.
pub(crate) fn access(
    person: relais_domain::ids::PersonId,
    structure: relais_domain::ids::StructureId,
    role: Role,
) -> anyhow::Result<relais_domain::authz::StructureAccess> {
    Actor {
        person_id: person,
        memberships: vec![Membership { structure, role }],
        global_roles: Vec::new(),
        acting_structure: Some(structure),
    }
    .structure(structure, &[role])
    .map_err(|e| anyhow!("{e}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(crate) fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

// --- journal -------------------------------------------------------------------------------

pub async fn journal(base: &crate::config::BaseArgs, args: &JournalArgs) -> anyhow::Result<()> {
    on_db(base, args.dossier.as_ref(), "bench-journal", async |db| {
        journal_on(db, args).await
    })
    .await
}

async fn journal_on(db: &Db, args: &JournalArgs) -> anyhow::Result<()> {
    db.migrate().await?;
    let (before, _) = relais_store::journal::head(db).await?;
    anyhow::ensure!(
        before == 0,
        "le journal de cette base n’est pas vide ({before} entrées)"
    );
    let t = Instant::now();
    let mut written = 0usize;
    while written < args.entrees {
        let n = (args.entrees - written).min(50_000);
        let batch: Vec<NewEntry> = (written..written + n)
            .map(|i| {
                let action = JournalAction::ALL[i % JournalAction::ALL.len()];
                NewEntry::new(action, "autorisation", (i % 9_973).to_string()).with_details(
                    format!(
                        "{{\"mandat\":{},\"demarche\":\"social\",\"n\":{i}}}",
                        i % 5_000
                    ),
                )
            })
            .collect();
        let mut tx = db.begin().await?;
        relais_store::journal::append_batch(&mut tx, &batch).await?;
        relais_store::commit(tx).await?;
        written += n;
        eprint!("\rjournal : {written} / {} entrées écrites", args.entrees);
    }
    eprintln!();
    println!(
        "base {} : {} entrées écrites en {:.1} s",
        db.backend().name(),
        written,
        t.elapsed().as_secs_f64()
    );
    let mut verify = Vec::new();
    let mut read = Vec::new();
    for _ in 0..args.tours.max(1) {
        let t = Instant::now();
        let verdict = relais_store::journal::verify(db).await?;
        verify.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(
            matches!(verdict, relais_domain::journal::Verification::Intact { entries } if entries as usize == written),
            "vérification inattendue : {verdict}"
        );
        let t = Instant::now();
        let rows = relais_store::journal::read_all_rows(db).await?;
        read.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(rows == written, "{rows} lignes lues");
    }
    let (v, r) = (median(verify), median(read));
    println!(
        "vérification de la chaîne ({} tours) : médiane {v:.2} s ({:.0} entrées/s)",
        args.tours,
        written as f64 / v
    );
    println!("lecture seule des mêmes lignes, même pagination : médiane {r:.2} s");
    println!("vérifier / lire : {:.2}×", v / r);
    Ok(())
}

// --- OpenID Connect ------------------------------------------------------------------------

const REDIRECT: &str = "http://127.0.0.1:9/demarche/retour";

/// One aidant of the load: their cookie and the authorization they use.
struct Aidant {
    cookie: String,
    autorisation: AutorisationId,
}

pub async fn oidc(base: &crate::config::BaseArgs, args: &OidcArgs) -> anyhow::Result<()> {
    on_db(base, args.dossier.as_ref(), "bench-oidc", async |db| {
        oidc_on(db, args).await
    })
    .await
}

async fn seed(db: &Db, n: usize) -> anyhow::Result<(Vec<Aidant>, String, String)> {
    db.migrate().await?;
    relais_services::territoires::ensure_loaded(db).await?;
    let now = relais_domain::calendrier::now_ms();
    fournisseur::tourner_cles(db, now).await?;
    let all: BTreeSet<Demarche> = Demarche::ALL.into_iter().collect();
    let s = comptes_svc::create_structure(
        db,
        "21420218600018",
        "Structure du banc",
        StructureKind::Collectivite,
        "",
        "42218",
        None,
    )
    .await?;
    let mut aidants = Vec::new();
    for i in 0..n {
        let email = format!("aidant{i}@banc.relais.test");
        let person = comptes_svc::create_account(
            db,
            &email,
            "Aidant",
            &format!("N{i}"),
            "une phrase de passe du banc",
            None,
        )
        .await?;
        comptes_svc::grant_role(db, person, s, Role::Aidant, None).await?;
        let access = access(person, s, Role::Aidant)?;
        let demande = Demande::new(s, person, &["social"], "annee", &all)?;
        let consentement = Consentement {
            cle: cle_usager(
                b"le sel du banc, trente-deux octets ou plus",
                &format!("fc-{i}"),
            ),
            identite: Identite {
                given_name: "Camille".into(),
                family_name: format!("Usager{i}"),
                birthdate: "1950-01-01".into(),
                birthplace: None,
                birthcountry: None,
                gender: None,
                email: None,
            },
        };
        let m = mandats::creer(db, &access, &demande, &consentement, &modele(), now).await?;
        let autorisation = relais_store::mandats::autorisations_du_mandat(db, m.id).await?[0].id;
        let client = comptes_svc::Client {
            ip: "127.0.0.1".into(),
            user_agent: "banc".into(),
        };
        let opened = comptes_svc::open_session(db, person, Stage::Active, &client).await?;
        aidants.push(Aidant {
            cookie: format!("relais_csrf={CSRF}; relais_session={}", opened.token),
            autorisation,
        });
    }
    let client =
        fournisseur::enregistrer_client(db, None, "Démarche du banc", REDIRECT, &["social"], now)
            .await?;
    Ok((aidants, client.client_id, client.secret))
}

/// One round trip: the aidant's choice at /authorize (the page, then the form), the code
/// exchanged at /token, then /userinfo.
async fn round_trip(
    http: &reqwest::Client,
    base: &str,
    a: &Aidant,
    client_id: &str,
    secret: &str,
    n: u64,
) -> anyhow::Result<()> {
    let verifier = format!("verificateur-du-banc-{n:020}-0123456789abcdef");
    let challenge = data_encoding::BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()));
    let params = [
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid social given_name family_name"),
        ("state", "etat-du-banc"),
        ("nonce", "nonce-du-banc"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let query = serde_urlencoded::to_string(params)?;
    let page = http
        .get(format!("{base}/oidc/authorize?{query}"))
        .header("cookie", &a.cookie)
        .send()
        .await?;
    anyhow::ensure!(page.status() == 200, "authorize : {}", page.status());
    let _ = page.bytes().await?;
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let autorisation = a.autorisation.to_string();
    form.push(("csrf", CSRF));
    form.push(("autorisation", &autorisation));
    let res = http
        .post(format!("{base}/oidc/authorize"))
        .header("cookie", &a.cookie)
        .form(&form)
        .send()
        .await?;
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| anyhow!("authorize (choix) : {}", res.status()))?;
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .ok_or_else(|| anyhow!("pas de code : {location}"))?
        .to_string();
    let token: serde_json::Value = http
        .post(format!("{base}/oidc/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await?
        .json()
        .await?;
    let access = token["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("token : {token}"))?;
    let info = http
        .get(format!("{base}/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await?;
    anyhow::ensure!(info.status() == 200, "userinfo : {}", info.status());
    let _ = info.bytes().await?;
    Ok(())
}

/// Relais on `db`, on a free loopback port, as `relais serve` runs it (no access log):
/// its address and its task.
pub(crate) async fn serve(db: &Db) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let index =
        relais_search::TerritoryIndex::build(relais_store::territoires::load_all(db).await?);
    let app = relais_web::router(relais_web::AppState {
        db: db.clone(),
        policy: comptes_svc::Policy::default(),
        territoires: Arc::new(index),
        lieux: Arc::new(relais_services::lieux::recherche::Lieux::new(
            relais_services::lieux::recherche::Recherche::empty(),
        )),
        config: relais_web::WebConfig {
            public_url: base.clone(),
            access_log: relais_web::AccessLog::Off,
            ..relais_web::WebConfig::default()
        },
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    });
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Ok((base, server))
}

/// `/healthz` from `clients` tasks for `d`, as [`load`] measures.
pub(crate) async fn healthz(
    http: &reqwest::Client,
    base: &str,
    clients: usize,
    d: Duration,
) -> (f64, f64, f64, u64) {
    let (h, url) = (http.clone(), format!("{base}/healthz"));
    load(clients, d, move |_, _| {
        let (h, url) = (h.clone(), url.clone());
        async move {
            let r = h.get(url).send().await?;
            anyhow::ensure!(r.status() == 200, "healthz : {}", r.status());
            let _ = r.bytes().await?;
            Ok(())
        }
    })
    .await
}

/// Runs `work` from `clients` tasks for `d`: completed runs per second, p50 and p99 (ms),
/// errors.
async fn load<F, Fut>(clients: usize, d: Duration, work: F) -> (f64, f64, f64, u64)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + d;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (work, errors, counter) = (work.clone(), errors.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match work(c, n).await {
                    Ok(()) => lat.push(t.elapsed().as_secs_f64() * 1e3),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("première erreur : {e:#}");
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let rate = all.len() as f64 / d.as_secs_f64();
    if all.is_empty() {
        return (0.0, 0.0, 0.0, errors.load(Ordering::Relaxed));
    }
    let p50 = percentile(&mut all, 0.5);
    let p99 = percentile(&mut all, 0.99);
    (rate, p50, p99, errors.load(Ordering::Relaxed))
}

async fn oidc_on(db: &Db, args: &OidcArgs) -> anyhow::Result<()> {
    let t = Instant::now();
    let (aidants, client_id, secret) = seed(db, args.clients.max(1)).await?;
    println!(
        "base {} : {} aidants, un mandat chacun, un service de démarches ({:.1} s)",
        db.backend().name(),
        aidants.len(),
        t.elapsed().as_secs_f64()
    );
    let (base, server) = serve(db).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let d = Duration::from_secs(args.secondes.max(1));
    let aidants = Arc::new(aidants);

    let healthz = healthz(&http, &base, args.clients, d).await;
    let (h, burl) = (http.clone(), base.clone());
    let oidc = load(args.clients, d, move |c, n| {
        let (h, b, a, id, s) = (
            h.clone(),
            burl.clone(),
            aidants.clone(),
            client_id.clone(),
            secret.clone(),
        );
        async move { round_trip(&h, &b, &a[c], &id, &s, n).await }
    })
    .await;
    server.abort();
    println!(
        "| charge ({} clients, {} s) | par seconde | p50 (ms) | p99 (ms) | erreurs |",
        args.clients, args.secondes
    );
    println!("|---|---|---|---|---|");
    println!(
        "| GET /healthz | {:.0} | {:.2} | {:.2} | {} |",
        healthz.0, healthz.1, healthz.2, healthz.3
    );
    println!(
        "| authorize (page + choix) → token → userinfo | {:.0} | {:.2} | {:.2} | {} |",
        oidc.0, oidc.1, oidc.2, oidc.3
    );
    println!(
        "allers-retours complets / requêtes /healthz : {:.3} (soit {:.0} requêtes HTTP/s de démarches)",
        oidc.0 / healthz.0,
        oidc.0 * 4.0
    );
    Ok(())
}
