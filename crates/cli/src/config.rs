//! Effective configuration: defaults, then `relais.toml`, then `RELAIS_*` environment
//! variables, then command-line flags (clap reads both of the last two, flags first).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Level of the access log (one line per request): `info`, `debug` (hidden unless
/// `RELAIS_LOG` shows debug) or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AccessLog {
    Info,
    Debug,
    Off,
}

impl From<AccessLog> for relais_web::AccessLog {
    fn from(level: AccessLog) -> Self {
        match level {
            AccessLog::Info => relais_web::AccessLog::Info,
            AccessLog::Debug => relais_web::AccessLog::Debug,
            AccessLog::Off => relais_web::AccessLog::Off,
        }
    }
}

/// Options shared by every subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML). By default ./relais.toml, if present.
    #[arg(long, global = true, env = "RELAIS_CONFIG", value_name = "FICHIER")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://CHEMIN or postgres://UTILISATEUR@HÔTE/BASE. By default, SQLite in the data directory.
    #[arg(long, global = true, env = "RELAIS_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Data directory of the embedded SQLite database.
    #[arg(long, global = true, env = "RELAIS_DATA_DIR", value_name = "DOSSIER")]
    pub data_dir: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, global = true, env = "RELAIS_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// SMTP server for e-mail: smtp://HÔTE:PORT, smtps://…, or smtp://…?tls=required.
    /// Unset: e-mails are written as .eml files in the data directory's `courriels` folder.
    #[arg(
        long,
        global = true,
        env = "RELAIS_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender of e-mails, e.g. "Relais <ne-pas-repondre@exemple.gouv.fr>".
    #[arg(long, global = true, env = "RELAIS_MAIL_FROM", value_name = "ADRESSE")]
    pub mail_from: Option<String>,
    /// PostgreSQL: the role `relais migrate` creates or checks for `serve` and `worker`
    /// (on the journal: SELECT and INSERT only). Its password: RELAIS_RUNTIME_PASSWORD.
    #[arg(long, global = true, env = "RELAIS_RUNTIME_ROLE", value_name = "RÔLE")]
    pub runtime_role: Option<String>,
    /// PostgreSQL: let `serve` and `worker` run as a superuser or an owner of the schema
    /// (they could rewrite the journal); a warning is logged.
    #[arg(
        long,
        global = true,
        env = "RELAIS_ALLOW_SUPERUSER",
        value_name = "true|false",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub allow_superuser: Option<bool>,
    /// Private key signing the journal's checkpoints (`relais journal init-key`), kept
    /// outside the database. RELAIS_JOURNAL_KEY may hold the key itself instead.
    #[arg(
        long,
        global = true,
        env = "RELAIS_JOURNAL_KEY_FILE",
        value_name = "FICHIER"
    )]
    pub journal_key_file: Option<PathBuf>,
    /// Seconds between two signed checkpoints of the journal, where jobs run; 0: never.
    /// Default 3600.
    #[arg(
        long,
        global = true,
        env = "RELAIS_JOURNAL_CHECKPOINT_SECS",
        value_name = "SECONDES"
    )]
    pub journal_checkpoint_secs: Option<u64>,
}

/// Options of `relais serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "RELAIS_LISTEN", value_name = "ADRESSE:PORT")]
    pub listen: Option<SocketAddr>,
    /// Send Strict-Transport-Security (only behind HTTPS).
    #[arg(long, env = "RELAIS_HSTS", value_name = "true|false")]
    pub hsts: Option<bool>,
    /// Run background jobs in this process (turn off when `relais worker` processes do it).
    #[arg(long, env = "RELAIS_WORKER", value_name = "true|false")]
    pub worker: Option<bool>,
    /// Address at which people reach this instance (the ProConnect return URL is built on it).
    #[arg(long, env = "RELAIS_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// ProConnect issuer (OpenID Connect discovery is read from it). Unset: no ProConnect.
    #[arg(long, env = "RELAIS_PROCONNECT_ISSUER", value_name = "URL")]
    pub proconnect_issuer: Option<String>,
    /// Client id given by ProConnect to this instance.
    #[arg(long, env = "RELAIS_PROCONNECT_CLIENT_ID", value_name = "ID")]
    pub proconnect_client_id: Option<String>,
    /// Client secret given by ProConnect (prefer the environment or the file to a flag).
    #[arg(
        long,
        env = "RELAIS_PROCONNECT_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub proconnect_client_secret: Option<String>,
    /// Load demonstration lieux into an empty base (default: yes on the embedded SQLite).
    #[arg(long, env = "RELAIS_DEMO", value_name = "true|false")]
    pub demo: Option<bool>,
    /// Login attempts allowed from one IP address per 15 minutes (password and ProConnect).
    #[arg(long, env = "RELAIS_LOGIN_IP_ATTEMPTS", value_name = "NOMBRE")]
    pub login_ip_attempts: Option<i64>,
    /// Seconds between two checks of the stored lieux (the search is rebuilt when they
    /// changed, e.g. after `relais import` in another process); 0: never. Default 30.
    #[arg(long, env = "RELAIS_LIEUX_REFRESH_SECS", value_name = "SECONDES")]
    pub lieux_refresh_secs: Option<u64>,
    /// Map tiles, as a URL template (`https://{s}.tile.example.fr/{z}/{x}/{y}.png`); none:
    /// the map draws the départements' contours.
    #[arg(long, env = "RELAIS_CARTE_TUILES", value_name = "URL")]
    pub carte_tuiles: Option<String>,
    /// Load balancers (CIDR blocks or addresses, comma-separated) whose X-Forwarded-For /
    /// Forwarded give the client's address; none: the socket's address is the client's.
    #[arg(
        long,
        env = "RELAIS_TRUSTED_PROXIES",
        value_name = "CIDR,…",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Access log: one line per request at `info` (default), at `debug`, or `off`.
    #[arg(long, env = "RELAIS_ACCESS_LOG", value_name = "NIVEAU")]
    pub access_log: Option<AccessLog>,
}

/// The settings file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
    hsts: Option<bool>,
    worker: Option<bool>,
    public_url: Option<String>,
    proconnect_issuer: Option<String>,
    proconnect_client_id: Option<String>,
    proconnect_client_secret: Option<String>,
    login_ip_attempts: Option<i64>,
    lieux_refresh_secs: Option<u64>,
    carte_tuiles: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    demo: Option<bool>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    runtime_role: Option<String>,
    allow_superuser: Option<bool>,
    journal_key_file: Option<PathBuf>,
    journal_checkpoint_secs: Option<u64>,
    access_log: Option<AccessLog>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// `None`: SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub hsts: bool,
    pub worker: bool,
    /// Without a trailing slash.
    pub public_url: String,
    pub proconnect_issuer: Option<String>,
    pub proconnect_client_id: Option<String>,
    pub proconnect_client_secret: Option<String>,
    /// Login attempts from one IP address within the rate-limit window
    /// (`relais_services::comptes::Policy::ip_attempts`).
    pub login_ip_attempts: i64,
    /// Seconds between two checks of the stored lieux by `serve`; 0: never.
    pub lieux_refresh_secs: u64,
    /// Map tiles URL template; `None`: départements' contours.
    pub carte_tuiles: Option<String>,
    /// CIDR blocks of the load balancers trusted for the client's address.
    pub trusted_proxies: Vec<String>,
    /// Load demonstration lieux into an empty base.
    pub demo: bool,
    /// `None`: e-mails go to `data_dir/courriels`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// PostgreSQL role of `serve` and `worker`, made by `relais migrate`.
    pub runtime_role: String,
    /// `serve` and `worker` may run as a superuser or an owner (with a warning).
    pub allow_superuser: bool,
    /// The journal's signing key, in a file.
    pub journal_key_file: Option<PathBuf>,
    /// The journal's signing key itself (RELAIS_JOURNAL_KEY): never shown.
    pub journal_key: Option<Secret>,
    /// Seconds between two signed checkpoints; 0: never.
    pub journal_checkpoint_secs: u64,
    /// Level of the one line logged per request.
    pub access_log: AccessLog,
    /// The file read, if any.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Config {
    pub fn resolve(global: &GlobalArgs, serve: &ServeArgs) -> anyhow::Result<Config> {
        let (file, from_file) = match &global.config {
            Some(path) => (Some(path.clone()), read_file(path)?),
            None if Path::new("relais.toml").exists() => (
                Some(PathBuf::from("relais.toml")),
                read_file(Path::new("relais.toml"))?,
            ),
            None => (None, FileConfig::default()),
        };
        let database_url = global.database_url.clone().or(from_file.database_url);
        Ok(Config {
            demo: serve
                .demo
                .or(from_file.demo)
                .unwrap_or(database_url.is_none()),
            database_url,
            data_dir: global
                .data_dir
                .clone()
                .or(from_file.data_dir)
                .unwrap_or_else(|| PathBuf::from("relais-data")),
            listen: serve
                .listen
                .or(from_file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            log_format: global
                .log_format
                .or(from_file.log_format)
                .unwrap_or(LogFormat::Text),
            hsts: serve.hsts.or(from_file.hsts).unwrap_or(false),
            worker: serve.worker.or(from_file.worker).unwrap_or(true),
            public_url: serve
                .public_url
                .clone()
                .or(from_file.public_url)
                .unwrap_or_else(|| "http://127.0.0.1:8080".to_string())
                .trim_end_matches('/')
                .to_string(),
            proconnect_issuer: serve
                .proconnect_issuer
                .clone()
                .or(from_file.proconnect_issuer)
                .filter(|s| !s.is_empty()),
            proconnect_client_id: serve
                .proconnect_client_id
                .clone()
                .or(from_file.proconnect_client_id)
                .filter(|s| !s.is_empty()),
            proconnect_client_secret: serve
                .proconnect_client_secret
                .clone()
                .or(from_file.proconnect_client_secret)
                .filter(|s| !s.is_empty()),
            login_ip_attempts: match serve.login_ip_attempts.or(from_file.login_ip_attempts) {
                Some(n) if n < 1 => {
                    return Err(anyhow!(
                        "login_ip_attempts doit valoir au moins 1 (reçu : {n})"
                    ));
                }
                Some(n) => n,
                None => relais_services::comptes::Policy::default().ip_attempts,
            },
            lieux_refresh_secs: serve
                .lieux_refresh_secs
                .or(from_file.lieux_refresh_secs)
                .unwrap_or(30),
            carte_tuiles: serve
                .carte_tuiles
                .clone()
                .or(from_file.carte_tuiles)
                .filter(|s| !s.is_empty()),
            trusted_proxies: {
                let list = serve
                    .trusted_proxies
                    .clone()
                    .or(from_file.trusted_proxies)
                    .unwrap_or_default();
                relais_web::TrustedProxies::parse(&list).map_err(|e| anyhow!(e))?;
                list.into_iter()
                    .map(|e| e.trim().to_string())
                    .filter(|e| !e.is_empty())
                    .collect()
            },
            smtp_url: global
                .smtp_url
                .clone()
                .or(from_file.smtp_url)
                .filter(|s| !s.is_empty()),
            mail_from: global
                .mail_from
                .clone()
                .or(from_file.mail_from)
                .unwrap_or_else(|| "Relais <ne-pas-repondre@relais.localhost>".to_string()),
            runtime_role: global
                .runtime_role
                .clone()
                .or(from_file.runtime_role)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "relais_app".to_string()),
            allow_superuser: global
                .allow_superuser
                .or(from_file.allow_superuser)
                .unwrap_or(false),
            journal_key_file: global
                .journal_key_file
                .clone()
                .or(from_file.journal_key_file)
                .filter(|p| !p.as_os_str().is_empty()),
            journal_key: std::env::var("RELAIS_JOURNAL_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(Secret),
            journal_checkpoint_secs: global
                .journal_checkpoint_secs
                .or(from_file.journal_checkpoint_secs)
                .unwrap_or(3600),
            access_log: serve
                .access_log
                .or(from_file.access_log)
                .unwrap_or(AccessLog::Info),
            file,
        })
    }

    /// The configuration as TOML, the database password hidden.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = shown.database_url.as_deref().map(relais_store::redact_url);
        shown.smtp_url = shown.smtp_url.as_deref().map(relais_store::redact_url);
        if shown.proconnect_client_secret.is_some() {
            shown.proconnect_client_secret = Some("***".to_string());
        }
        let mut out = String::new();
        match &self.file {
            Some(f) => out.push_str(&format!("# fichier lu : {}\n", f.display())),
            None => out.push_str("# aucun fichier de configuration lu\n"),
        }
        if shown.database_url.is_none() {
            out.push_str(&format!(
                "# base : SQLite dans {}\n",
                self.data_dir.join("relais.db").display()
            ));
        }
        out.push_str(&toml::to_string(&shown).unwrap_or_default());
        out
    }
}

impl Config {
    /// The load balancers trusted for the client's address (checked by `resolve`).
    pub fn trusted_proxies(&self) -> relais_web::TrustedProxies {
        relais_web::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }

    /// The login limits: the defaults, with the settings' per-IP limit.
    pub fn policy(&self) -> relais_services::comptes::Policy {
        relais_services::comptes::Policy {
            ip_attempts: self.login_ip_attempts,
            ..Default::default()
        }
    }

    /// Where e-mails go: the SMTP server, or a folder of `.eml` files.
    pub fn mailer(&self) -> anyhow::Result<relais_services::courriel::Mailer> {
        use relais_services::courriel::Mailer;
        match &self.smtp_url {
            Some(url) => Mailer::smtp(url, &self.mail_from),
            None => Mailer::folder(self.data_dir.join("courriels"), &self.mail_from),
        }
        .map_err(|e| anyhow!("courriel : {e}"))
    }

    /// The ProConnect client settings: all three keys, or none (ProConnect off).
    pub fn proconnect(
        &self,
    ) -> anyhow::Result<Option<relais_services::comptes::proconnect::ProConnectConfig>> {
        match (
            &self.proconnect_issuer,
            &self.proconnect_client_id,
            &self.proconnect_client_secret,
        ) {
            (None, None, None) => Ok(None),
            (Some(issuer), Some(client_id), Some(client_secret)) => Ok(Some(
                relais_services::comptes::proconnect::ProConnectConfig {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    redirect_uri: format!("{}/auth/proconnect/callback", self.public_url),
                },
            )),
            _ => Err(anyhow!(
                "ProConnect à moitié configuré : proconnect_issuer, proconnect_client_id et proconnect_client_secret vont ensemble"
            )),
        }
    }
}

/// A secret setting: shown and debugged as `***`, never as itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl Config {
    /// The key that signs the journal's checkpoints: RELAIS_JOURNAL_KEY, else the
    /// `journal_key_file`; `None` when neither is set.
    pub fn journal_key(
        &self,
    ) -> anyhow::Result<Option<relais_domain::journal::checkpoint::SigningKey>> {
        use relais_domain::journal::checkpoint::SigningKey;
        if let Some(Secret(text)) = &self.journal_key {
            return SigningKey::parse(text)
                .map(Some)
                .map_err(|e| anyhow!("RELAIS_JOURNAL_KEY : {e}"));
        }
        let Some(path) = &self.journal_key_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("fichier de la clé du journal {} illisible", path.display())
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(
                    fichier = %path.display(),
                    "la clé du journal est lisible par d’autres que son propriétaire (chmod 600)"
                );
            }
        }
        SigningKey::parse(&text)
            .map(Some)
            .map_err(|e| anyhow!("{} : {e}", path.display()))
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("fichier de configuration {} illisible", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].lines().count().max(1));
        let message = e.message().lines().next().unwrap_or("").to_string();
        match line {
            Some(l) => anyhow!(
                "fichier de configuration {}, ligne {l} : {message}",
                path.display()
            ),
            None => anyhow!("fichier de configuration {} : {message}", path.display()),
        }
    })
}
