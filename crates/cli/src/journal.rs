//! `relais journal …`: the audit trail, for operators.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use relais_domain::journal::Verification;
use relais_domain::journal::checkpoint::{self, Checkpoint, PublicKey};

use crate::config::{BaseArgs, CleArgs, Config, TachesArgs};

#[derive(Subcommand)]
pub enum JournalCommand {
    /// Parcourir tout le journal et vérifier sa chaîne d’empreintes et ses points de
    /// contrôle signés ; échoue à la première entrée cassée.
    Verifier {
        /// Clé publique qui signe les points de contrôle (base64, PEM, ou un fichier qui la
        /// contient) ; à répéter pour les anciennes clés. Celle de la clé du journal
        /// configurée est reconnue aussi.
        #[arg(long = "cle-publique", value_name = "CLÉ")]
        public_keys: Vec<String>,
        /// Copies des points de contrôle gardées hors de la base (JSON Lines, comme les
        /// écrit « exporter-points-de-controle »).
        #[arg(long = "points-de-controle", value_name = "FICHIER")]
        checkpoints: Option<PathBuf>,
    },
    /// Créer la clé privée qui signe les points de contrôle (PEM PKCS#8, mode 0600) ;
    /// n’affiche que la clé publique. Ne remplace jamais un fichier.
    CreerCle {
        /// Où l’écrire ; par défaut le fichier de la clé du journal configuré.
        #[arg(long = "sortie", value_name = "FICHIER")]
        out: Option<PathBuf>,
    },
    /// Afficher la clé publique de la clé du journal configurée.
    ClePublique,
    /// Signer la tête du journal maintenant (rien si elle n’a pas bougé depuis le dernier
    /// point de contrôle).
    PointDeControle,
    /// Ajouter à FICHIER les points de contrôle qu’il n’a pas encore, une ligne JSON
    /// chacun.
    ExporterPointsDeControle {
        /// Le fichier des copies (créé s’il n’existe pas).
        #[arg(long = "sortie", value_name = "FICHIER")]
        out: PathBuf,
    },
}

pub async fn run(base: &BaseArgs, cle: &CleArgs, command: &JournalCommand) -> anyhow::Result<()> {
    let taches = TachesArgs {
        cle: cle.clone(),
        ..Default::default()
    };
    let config = Config::resolve(base, &taches, &Default::default())?;
    match command {
        JournalCommand::Verifier {
            public_keys,
            checkpoints,
        } => verify(&config, public_keys, checkpoints.as_deref()).await,
        JournalCommand::CreerCle { out } => init_key(&config, out.as_deref()),
        JournalCommand::ClePublique => {
            let key = configured_key(&config)?;
            println!("{}", key.public_key().to_base64());
            Ok(())
        }
        JournalCommand::PointDeControle => sign_now(&config).await,
        JournalCommand::ExporterPointsDeControle { out } => export(&config, out).await,
    }
}

fn configured_key(config: &Config) -> anyhow::Result<checkpoint::SigningKey> {
    config.journal_key()?.ok_or_else(|| {
        anyhow!("aucune clé de journal : indiquez fichier_cle_journal (RELAIS_FICHIER_CLE_JOURNAL, --fichier-cle-journal) ou RELAIS_CLE_JOURNAL ; créez-la avec « relais journal creer-cle »")
    })
}

async fn verify(
    config: &Config,
    public_keys: &[String],
    external: Option<&Path>,
) -> anyhow::Result<()> {
    let mut trusted = public_keys
        .iter()
        .map(|k| read_public_key(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(key) = config.journal_key()? {
        trusted.push(key.public_key());
    }
    let external = match external {
        Some(path) => read_checkpoints(path)?,
        None => Vec::new(),
    };
    let db = crate::run::open(config).await?;
    let outcome = relais_store::journal::verify_with(&db, &external, &trusted).await;
    db.close().await;
    let (verification, valid) = outcome?;
    if valid > 0 && trusted.is_empty() {
        eprintln!(
            "relais : attention : aucune clé publique de référence (--cle-publique, ou la clé du journal configurée) : chaque signature n’est vérifiée qu’avec la clé inscrite dans son point de contrôle, ce qui n’en prouve pas l’origine."
        );
    }
    match verification {
        intact @ Verification::Intact { .. } => {
            println!("{intact}");
            if valid > 0 {
                let s = if valid > 1 { "s" } else { "" };
                println!(
                    "{valid} point{s} de contrôle signé{s} concorde{}.",
                    if valid > 1 { "nt" } else { "" }
                );
            }
            Ok(())
        }
        broken => bail!("{broken}"),
    }
}

/// A key given on the command line: the key itself, or a file holding it.
fn read_public_key(given: &str) -> anyhow::Result<PublicKey> {
    let path = Path::new(given);
    let text = if path.is_file() {
        std::fs::read_to_string(path)
            .with_context(|| format!("clé publique {} illisible", path.display()))?
    } else {
        given.to_string()
    };
    PublicKey::parse(&text).map_err(|e| anyhow!("--cle-publique : {e}"))
}

/// A checkpoints file: one JSON object per line (blank lines skipped).
fn read_checkpoints(path: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("fichier de points de contrôle {} illisible", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{} illisible", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let c = serde_json::from_str(&line).map_err(|_| {
            anyhow!(
                "{}, ligne {} : point de contrôle illisible (attendu : un objet JSON par ligne, comme l’écrit « relais journal exporter-points-de-controle »)",
                path.display(),
                i + 1
            )
        })?;
        out.push(c);
    }
    Ok(out)
}

fn init_key(config: &Config, out: Option<&Path>) -> anyhow::Result<()> {
    let path = out
        .map(Path::to_path_buf)
        .or(config.fichier_cle_journal.clone())
        .ok_or_else(|| {
            anyhow!("où écrire la clé ? indiquez --sortie FICHIER (ou fichier_cle_journal)")
        })?;
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| anyhow!("génération de la clé impossible"))?;
    let key = checkpoint::SigningKey::from_pkcs8(der.as_ref())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!(
                "{} existe déjà : Relais ne remplace pas une clé (elle a peut-être signé des points de contrôle)",
                path.display()
            )
        } else {
            anyhow!("impossible d’écrire {} : {e}", path.display())
        }
    })?;
    file.write_all(checkpoint::pkcs8_pem(der.as_ref()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("impossible d’écrire {}", path.display()))?;
    let public = key.public_key();
    println!(
        "Clé du journal écrite dans {} (lisible par son seul propriétaire).",
        path.display()
    );
    println!("Clé publique : {}", public.to_base64());
    println!("Identifiant : {}", public.key_id());
    println!(
        "Gardez la clé privée hors de la base et de ses sauvegardes ; donnez la clé publique à qui garde une copie des points de contrôle."
    );
    Ok(())
}

async fn sign_now(config: &Config) -> anyhow::Result<()> {
    let key = configured_key(config)?;
    let db = crate::run::open(config).await?;
    let signed = relais_services::journal::checkpoint(&db, &key).await;
    db.close().await;
    match signed? {
        Some(c) => println!(
            "Point de contrôle signé : entrée n° {}, empreinte {}, clé {}.",
            c.seq,
            c.hash,
            c.key_id()
        ),
        None => println!(
            "Rien à signer : le journal est vide ou n’a pas bougé depuis le dernier point de contrôle."
        ),
    }
    Ok(())
}

/// Appends to `out` the checkpoints after the last one it holds: the file only grows, so
/// a third party can keep it (and compare copies) with ordinary tools.
async fn export(config: &Config, out: &Path) -> anyhow::Result<()> {
    let held = if out.exists() {
        read_checkpoints(out)?
    } else {
        Vec::new()
    };
    let mut after = held.iter().map(|c| c.seq).max().unwrap_or(0);
    let db = crate::run::open(config).await?;
    let mut new = Vec::new();
    let read = async {
        loop {
            let page = relais_store::journal::checkpoints(&db, after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            new.extend(page);
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    read?;
    let mut text = String::new();
    for c in &new {
        text.push_str(&serde_json::to_string(c)?);
        text.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(out)
        .with_context(|| format!("impossible d’écrire {}", out.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("impossible d’écrire {}", out.display()))?;
    let s = if new.len() > 1 { "s" } else { "" };
    println!(
        "{} point{s} de contrôle ajouté{s} à {} ({} en tout).",
        new.len(),
        out.display(),
        held.len() + new.len()
    );
    Ok(())
}
