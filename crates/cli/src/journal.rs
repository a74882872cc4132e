//! `relais journal …`: the audit trail, for operators.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use relais_domain::journal::Verification;
use relais_domain::journal::checkpoint::{self, Checkpoint, PublicKey};

use crate::config::{Config, GlobalArgs, ServeArgs};

#[derive(Subcommand)]
pub enum JournalCommand {
    /// Walk the whole journal and check its hash chain and signed checkpoints; fails on
    /// the first broken entry.
    Verify {
        /// Public key that signs the checkpoints (base64, PEM, or a file holding it);
        /// repeat for older keys. The configured key's is trusted too.
        #[arg(long = "public-key", value_name = "CLÉ")]
        public_keys: Vec<String>,
        /// Copies of the checkpoints kept outside the database (JSON Lines, as written
        /// by `export-checkpoints`).
        #[arg(long, value_name = "FICHIER")]
        checkpoints: Option<PathBuf>,
    },
    /// Generate the private key that signs checkpoints (PKCS#8 PEM, mode 0600); prints
    /// the public key only. Never overwrites a file.
    InitKey {
        /// Where to write it; default: the configured journal_key_file.
        #[arg(long, value_name = "FICHIER")]
        out: Option<PathBuf>,
    },
    /// Print the public key of the configured signing key.
    PublicKey,
    /// Sign the journal's head now (nothing if it has not moved since the last one).
    Checkpoint,
    /// Append the checkpoints not yet in FICHIER to it, one JSON line each.
    ExportCheckpoints {
        #[arg(long, value_name = "FICHIER")]
        out: PathBuf,
    },
}

pub async fn run(global: &GlobalArgs, command: &JournalCommand) -> anyhow::Result<()> {
    match command {
        JournalCommand::Verify {
            public_keys,
            checkpoints,
        } => verify(global, public_keys, checkpoints.as_deref()).await,
        JournalCommand::InitKey { out } => init_key(global, out.as_deref()),
        JournalCommand::PublicKey => {
            let key = configured_key(&config(global)?)?;
            println!("{}", key.public_key().to_base64());
            Ok(())
        }
        JournalCommand::Checkpoint => sign_now(global).await,
        JournalCommand::ExportCheckpoints { out } => export(global, out).await,
    }
}

fn config(global: &GlobalArgs) -> anyhow::Result<Config> {
    Config::resolve(global, &ServeArgs::default())
}

fn configured_key(config: &Config) -> anyhow::Result<checkpoint::SigningKey> {
    config.journal_key()?.ok_or_else(|| {
        anyhow!("aucune clé de journal : indiquez journal_key_file (RELAIS_JOURNAL_KEY_FILE, --journal-key-file) ou RELAIS_JOURNAL_KEY ; créez-la avec « relais journal init-key »")
    })
}

async fn verify(
    global: &GlobalArgs,
    public_keys: &[String],
    external: Option<&Path>,
) -> anyhow::Result<()> {
    let config = config(global)?;
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
    let db = crate::run::open(&config).await?;
    let outcome = relais_store::journal::verify_with(&db, &external, &trusted).await;
    db.close().await;
    let (verification, valid) = outcome?;
    if valid > 0 && trusted.is_empty() {
        eprintln!(
            "relais : attention : aucune clé publique de référence (--public-key, ou la clé du journal configurée) : chaque signature n’est vérifiée qu’avec la clé inscrite dans son point de contrôle, ce qui n’en prouve pas l’origine."
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
    PublicKey::parse(&text).map_err(|e| anyhow!("--public-key : {e}"))
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
                "{}, ligne {} : point de contrôle illisible (attendu : un objet JSON par ligne, comme l’écrit « relais journal export-checkpoints »)",
                path.display(),
                i + 1
            )
        })?;
        out.push(c);
    }
    Ok(out)
}

fn init_key(global: &GlobalArgs, out: Option<&Path>) -> anyhow::Result<()> {
    let config = config(global)?;
    let path = out
        .map(Path::to_path_buf)
        .or(config.journal_key_file.clone())
        .ok_or_else(|| {
            anyhow!("où écrire la clé ? indiquez --out FICHIER (ou journal_key_file)")
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

async fn sign_now(global: &GlobalArgs) -> anyhow::Result<()> {
    let config = config(global)?;
    let key = configured_key(&config)?;
    let db = crate::run::open(&config).await?;
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
async fn export(global: &GlobalArgs, out: &Path) -> anyhow::Result<()> {
    let config = config(global)?;
    let held = if out.exists() {
        read_checkpoints(out)?
    } else {
        Vec::new()
    };
    let mut after = held.iter().map(|c| c.seq).max().unwrap_or(0);
    let db = crate::run::open(&config).await?;
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
