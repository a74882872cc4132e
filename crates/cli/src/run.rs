//! The long-running commands: serve, worker, migrate.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use relais_jobs::{Registry, Worker, WorkerConfig};
use relais_search::TerritoryIndex;
use relais_services::territoires::{self, LoadOutcome};
use relais_store::Db;
use tokio::sync::watch;

use crate::config::{BaseArgs, Config, LogFormat, RoleArgs, ServeArgs, TachesArgs};

fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("RELAIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal: in a file or journald they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Texte => builder.init(),
    }
}

/// Opens the database, applies migrations and loads reference data.
pub(crate) async fn open(config: &Config) -> anyhow::Result<Db> {
    prepare(connect(config, false).await?).await
}

/// The same for imports and merges: on SQLite, a big page cache per connection.
pub(crate) async fn open_bulk(config: &Config) -> anyhow::Result<Db> {
    prepare(connect(config, true).await?).await
}

/// `open` for `serve` and `worker`: on PostgreSQL, not as a role that could rewrite the
/// journal (unless allowed), and the runtime role only on an up-to-date schema.
async fn open_runtime(config: &Config) -> anyhow::Result<Db> {
    let db = connect(config, false).await?;
    if let Err(e) = crate::roles::check_runtime(&db, config).await {
        db.close().await;
        return Err(e);
    }
    prepare(db).await
}

async fn connect(config: &Config, bulk: bool) -> anyhow::Result<Db> {
    Ok(match (&config.base, bulk) {
        (Some(url), false) => Db::connect(url).await?,
        (Some(url), true) => Db::connect_bulk(url).await?,
        (None, false) => Db::open_data_dir(&config.dossier_donnees).await?,
        (None, true) => Db::open_data_dir_bulk(&config.dossier_donnees).await?,
    })
}

/// Applies missing migrations (none needed: no DDL) and loads reference data.
async fn prepare(db: Db) -> anyhow::Result<Db> {
    let applied = db.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, base = db.backend().name(), "schéma à jour");
    }
    if let LoadOutcome::Loaded { communes } = territoires::ensure_loaded(&db).await? {
        tracing::info!(communes, "référentiel des territoires chargé");
    }
    Ok(db)
}

pub async fn migrate(base: &BaseArgs, role: &RoleArgs) -> anyhow::Result<()> {
    let taches = TachesArgs {
        role: role.clone(),
        ..Default::default()
    };
    let config = Config::resolve(base, &taches, &ServeArgs::default())?;
    init_logs(config.format_traces);
    let db = open(&config).await?;
    crate::roles::ensure_runtime(&db, &config).await?;
    println!("Base {} à jour.", db.backend().name());
    db.close().await;
    Ok(())
}

pub async fn serve(base: &BaseArgs, taches: &TachesArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = Config::resolve(base, taches, args)?;
    init_logs(config.format_traces);
    let db = open_runtime(&config).await?;
    let index = TerritoryIndex::build(relais_store::territoires::load_all(&db).await?);
    if config.demo
        && let Some(report) = relais_services::lieux::demo::ensure_loaded(&db, &index)
            .await
            .context("lieux de démonstration")?
    {
        tracing::info!(lieux = report.kept(), "lieux de démonstration chargés");
    }
    if config.demo
        && let Some(report) = relais_services::comptes::registre::ensure_demo(&db, &index)
            .await
            .context("structures de démonstration")?
    {
        tracing::info!(
            structures = report.kept(),
            lieux = report.lieux,
            "structures de démonstration chargées (registre Aidants Connect)"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.ecoute)
        .await
        .with_context(|| format!("impossible d’écouter sur {}", config.ecoute))?;
    let (stop, stopped) = watch::channel(false);
    let jobs = registry(&config)?;
    let worker = config.taches.then(|| {
        let w = Worker::new(db.clone(), jobs, WorkerConfig::new(worker_id(0)));
        tokio::spawn(w.run(stopped.clone()))
    });
    let checkpoints = if config.taches {
        spawn_checkpoints(&config, &db, &stopped)?
    } else {
        None
    };
    let lieux = Arc::new(
        relais_services::lieux::recherche::Lieux::load(&db, &index)
            .await
            .context("index des lieux")?,
    );
    tracing::info!(lieux = lieux.get().index.len(), "index des lieux construit");
    let index = Arc::new(index);
    // Imports run in other processes: the store is checked now and then.
    let watch_lieux = (config.rafraichissement_lieux > 0).then(|| {
        tokio::spawn(relais_services::lieux::recherche::watch(
            db.clone(),
            index.clone(),
            lieux.clone(),
            std::time::Duration::from_secs(config.rafraichissement_lieux),
            stopped.clone(),
        ))
    });
    let proconnect = match config.proconnect()? {
        Some(pc) => {
            tracing::info!(fournisseur = %pc.issuer, "connexion ProConnect active");
            Some(Arc::new(
                relais_services::oidc_client::OidcClient::new(pc)
                    .map_err(|e| anyhow::anyhow!("proconnect_emetteur : {e}"))?,
            ))
        }
        None => None,
    };
    let franceconnect = config.franceconnect()?.map(|fc| {
        tracing::info!(fournisseur = %fc.client.config().issuer, "FranceConnect actif : création de mandats");
        Arc::new(fc)
    });
    // The provider's first signing key, before any démarche asks for a token.
    relais_services::mandats::fournisseur::tourner_cles(&db, relais_domain::calendrier::now_ms())
        .await
        .context("clés de signature OpenID Connect")?;
    // The statistics index loads in the background: a dashboard asked meanwhile waits
    // for it.
    let activites = Arc::new(relais_services::activites::Statistiques::new());
    {
        let (activites, db) = (activites.clone(), db.clone());
        tokio::spawn(async move {
            match activites.rattraper(&db).await {
                Ok(n) => tracing::info!(activites = n, "statistiques des activités chargées"),
                Err(e) => tracing::error!(erreur = %e, "statistiques des activités"),
            }
        });
    }
    let app = relais_web::router(relais_web::AppState {
        db: db.clone(),
        policy: config.policy(),
        territoires: index,
        lieux,
        config: relais_web::WebConfig {
            hsts: config.hsts,
            public_url: config.url_publique.clone(),
            tile_url: config.carte_tuiles.clone(),
            trusted_proxies: config.proxys_de_confiance(),
            access_log: config.traces_requetes.into(),
        },
        proconnect,
        franceconnect,
        activites,
    });
    crate::release_free_memory();
    tracing::info!(
        adresse = %format!("http://{}", config.ecoute),
        base = db.backend().name(),
        demarrage_ms = started.elapsed().as_millis() as u64,
        "Relais est prêt"
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("le serveur s’est arrêté")?;
    let _ = stop.send(true);
    if let Some(w) = worker {
        let _ = w.await;
    }
    if let Some(w) = watch_lieux {
        let _ = w.await;
    }
    if let Some(c) = checkpoints {
        let _ = c.await;
    }
    db.close().await;
    tracing::info!("arrêt propre terminé");
    Ok(())
}

pub async fn worker(base: &BaseArgs, taches: &TachesArgs, concurrency: u16) -> anyhow::Result<()> {
    let config = Config::resolve(base, taches, &ServeArgs::default())?;
    init_logs(config.format_traces);
    let db = open_runtime(&config).await?;
    let (stop, stopped) = watch::channel(false);
    let jobs = registry(&config)?;
    let tasks: Vec<_> = (0..concurrency)
        .map(|n| {
            let w = Worker::new(db.clone(), jobs.clone(), WorkerConfig::new(worker_id(n)));
            tokio::spawn(w.run(stopped.clone()))
        })
        .collect();
    let checkpoints = spawn_checkpoints(&config, &db, &stopped)?;
    shutdown_signal().await;
    let _ = stop.send(true);
    for t in tasks.into_iter().chain(checkpoints) {
        let _ = t.await;
    }
    db.close().await;
    Ok(())
}

/// Every job kind this instance runs: the standard ones and sending e-mail.
fn registry(config: &Config) -> anyhow::Result<Registry> {
    let mailer = Arc::new(config.mailer()?);
    tracing::info!(vers = %mailer.describe(), "envoi des courriels");
    Ok(Registry::standard()
        .recurring(
            "cles_oidc",
            relais_domain::schedule::Schedule::parse("*/15 * * * *").expect("valid schedule"),
            |db, _| async move {
                let now = relais_domain::calendrier::now_ms();
                let f = relais_services::mandats::fournisseur::tourner_cles(&db, now).await;
                f.and(relais_services::mandats::fournisseur::purger(&db, now).await)
                    .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
            },
        )
        .recurring(
            "mandats",
            relais_domain::schedule::Schedule::parse("30 3 * * *").expect("valid schedule"),
            |db, _| async move {
                let now = relais_domain::calendrier::now_ms();
                let ended = relais_services::mandats::journaliser_fins(&db, now).await;
                let erased = match ended {
                    Ok(_) => relais_services::mandats::purger(&db, now).await,
                    Err(e) => Err(e),
                };
                erased
                    .map(|_| ())
                    .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
            },
        )
        .recurring(
            "beneficiaires",
            relais_domain::schedule::Schedule::parse("45 3 * * *").expect("valid schedule"),
            |db, _| async move {
                let now = relais_domain::calendrier::now_ms();
                relais_services::activites::beneficiaires::effacer_expirees(&db, now)
                    .await
                    .map(|n| {
                        tracing::info!(n, "fiches de personnes suivies effacées (conservation)");
                    })
                    .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
            },
        )
        .recurring(
            "reglement_pass",
            relais_domain::schedule::Schedule::parse("15 4 * * *").expect("valid schedule"),
            |db, _| async move {
                let now = relais_domain::calendrier::now_ms();
                let regles = relais_services::pass::virements::regler(&db, now).await;
                let alertes = match regles {
                    Ok(n) => {
                        tracing::info!(n, "virements et fins de programmes de pass");
                        relais_services::pass::chiffres::alerter(&db, now).await
                    }
                    Err(e) => Err(e),
                };
                alertes
                    .map(|n| tracing::info!(n, "alertes d’usage des pass envoyées"))
                    .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
            },
        )
        .recurring(
            "parametres_diagnostic",
            relais_domain::schedule::Schedule::parse("30 4 * * *").expect("valid schedule"),
            |db, _| async move {
                let now = relais_domain::calendrier::now_ms();
                let banques = relais_web::diagnostic::banques();
                relais_services::diagnostic::reestimer(
                    &db,
                    banques,
                    relais_services::diagnostic::SEUILS,
                    now,
                )
                .await
                .map(|n| match n {
                    Some(n) => tracing::info!(n, "paramètres du diagnostic réestimés"),
                    None => tracing::info!("diagnostic : pas de nouvelles réponses à réestimer"),
                })
                .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
            },
        )
        .handle(relais_services::courriel::JOB, move |_db, payload| {
            let mailer = mailer.clone();
            async move {
                mailer
                    .send_queued(&payload)
                    .await
                    .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
            }
        }))
}

/// Signs the journal's head now and then, where jobs run, if a key is configured.
fn spawn_checkpoints(
    config: &Config,
    db: &Db,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if config.intervalle_points_de_controle == 0 {
        return Ok(None);
    }
    let Some(key) = config.journal_key()? else {
        tracing::warn!(
            "aucune clé de journal (fichier_cle_journal ou RELAIS_CLE_JOURNAL) : pas de point de contrôle signé"
        );
        return Ok(None);
    };
    tracing::info!(
        cle = %key.public_key().key_id(),
        intervalle_s = config.intervalle_points_de_controle,
        "points de contrôle du journal signés"
    );
    Ok(Some(tokio::spawn(
        relais_services::journal::checkpoint_loop(
            db.clone(),
            Arc::new(key),
            std::time::Duration::from_secs(config.intervalle_points_de_controle),
            stopped.clone(),
        ),
    )))
}

fn worker_id(n: u16) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!(
        "{}-{}-{n}",
        if host.is_empty() { "relais" } else { &host },
        std::process::id()
    )
}

/// SIGTERM (orchestrators) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("signal d’arrêt reçu : fin des requêtes en cours");
}
