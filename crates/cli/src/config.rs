//! Effective configuration: defaults, then `relais.toml`, then `RELAIS_*` environment
//! variables, then command-line options (clap reads both of the last two, options first).
//!
//! One name per setting in the three layers: the key `url_smtp` of the file is the variable
//! `RELAIS_URL_SMTP` and the option `--url-smtp`. Each option is offered only by the commands
//! it acts on; the file may hold any key, read by the commands that use it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use relais_services::mandats::franceconnect::FranceConnect;
use relais_services::oidc_client::{OidcClient, OidcConfig};
use serde::{Deserialize, Serialize};

/// Format of the traces written on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lisible par une personne.
    Texte,
    /// Un objet JSON par ligne.
    Json,
}

/// Level of the trace of each request: `info`, `debug` (hidden unless `RELAIS_LOG` shows
/// debug) or `non`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AccessLog {
    /// Une ligne par requête, au niveau info.
    Info,
    /// Une ligne par requête, au niveau debug.
    Debug,
    /// Aucune ligne.
    Non,
}

impl From<AccessLog> for relais_web::AccessLog {
    fn from(level: AccessLog) -> Self {
        match level {
            AccessLog::Info => relais_web::AccessLog::Info,
            AccessLog::Debug => relais_web::AccessLog::Debug,
            AccessLog::Non => relais_web::AccessLog::Off,
        }
    }
}

/// Options of every command that opens the database.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Base de données")]
pub struct BaseArgs {
    /// Fichier de configuration (TOML) ; par défaut ./relais.toml s’il existe.
    #[arg(long, global = true, env = "RELAIS_CONFIG", value_name = "FICHIER")]
    pub config: Option<PathBuf>,
    /// Base de données : sqlite://CHEMIN ou postgres://UTILISATEUR@HÔTE/BASE ; par défaut,
    /// SQLite dans le dossier des données.
    #[arg(long, global = true, env = "RELAIS_BASE", value_name = "URL")]
    pub base: Option<String>,
    /// Dossier des données (la base SQLite embarquée, les courriels non envoyés) ; par
    /// défaut ./relais-data.
    #[arg(
        long,
        global = true,
        env = "RELAIS_DOSSIER_DONNEES",
        value_name = "DOSSIER"
    )]
    pub dossier_donnees: Option<PathBuf>,
}

/// The PostgreSQL role `serve` and `worker` run as: made by `migrate`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RoleArgs {
    /// PostgreSQL : le rôle que « relais migrate » crée ou vérifie pour serve et worker
    /// (sur le journal : SELECT et INSERT seulement) ; son mot de passe :
    /// RELAIS_MOT_DE_PASSE_EXECUTION. Par défaut relais_app.
    #[arg(long, env = "RELAIS_ROLE_EXECUTION", value_name = "RÔLE")]
    pub role_execution: Option<String>,
}

/// The key that signs the journal's checkpoints: `serve`, `worker` and `journal …`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CleArgs {
    /// Fichier de la clé privée qui signe les points de contrôle du journal (« relais
    /// journal creer-cle »), gardé hors de la base. RELAIS_CLE_JOURNAL peut contenir la clé
    /// elle-même à la place.
    #[arg(
        long,
        global = true,
        env = "RELAIS_FICHIER_CLE_JOURNAL",
        value_name = "FICHIER"
    )]
    pub fichier_cle_journal: Option<PathBuf>,
}

/// Settings of the processes that run background jobs: `serve` and `worker`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Tâches de fond, courriels et journal")]
pub struct TachesArgs {
    /// Format des traces sur la sortie d’erreur. Par défaut texte.
    #[arg(long, env = "RELAIS_FORMAT_TRACES", value_name = "FORMAT")]
    pub format_traces: Option<LogFormat>,
    /// Serveur SMTP des courriels : smtp://HÔTE:PORT, smtps://… ou smtp://…?tls=required.
    /// Sans lui, les courriels sont écrits en fichiers .eml dans le dossier « courriels »
    /// du dossier des données.
    #[arg(
        long,
        env = "RELAIS_URL_SMTP",
        value_name = "URL",
        hide_env_values = true
    )]
    pub url_smtp: Option<String>,
    /// Expéditeur des courriels, par exemple « Relais <ne-pas-repondre@exemple.gouv.fr> ».
    #[arg(long, env = "RELAIS_EXPEDITEUR", value_name = "ADRESSE")]
    pub expediteur: Option<String>,
    #[command(flatten)]
    pub role: RoleArgs,
    /// PostgreSQL : permettre à serve et worker de tourner en superutilisateur ou en
    /// propriétaire du schéma (ils pourraient réécrire le journal) ; un avertissement est
    /// écrit.
    #[arg(
        long,
        env = "RELAIS_AUTORISER_SUPERUTILISATEUR",
        value_name = "true|false",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub autoriser_superutilisateur: Option<bool>,
    #[command(flatten)]
    pub cle: CleArgs,
    /// Secondes entre deux points de contrôle signés du journal ; 0 : jamais. Par défaut
    /// 3600.
    #[arg(
        long,
        env = "RELAIS_INTERVALLE_POINTS_DE_CONTROLE",
        value_name = "SECONDES"
    )]
    pub intervalle_points_de_controle: Option<u64>,
}

/// Settings of the web server: `serve` only.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Serveur web")]
pub struct ServeArgs {
    /// Adresse et port d’écoute. Par défaut 127.0.0.1:8080.
    #[arg(long, env = "RELAIS_ECOUTE", value_name = "ADRESSE:PORT")]
    pub ecoute: Option<SocketAddr>,
    /// Adresse où l’on joint cette instance (l’adresse de retour de ProConnect en est
    /// faite). Par défaut http://127.0.0.1:8080.
    #[arg(long, env = "RELAIS_URL_PUBLIQUE", value_name = "URL")]
    pub url_publique: Option<String>,
    /// Envoyer Strict-Transport-Security (seulement derrière HTTPS).
    #[arg(long, env = "RELAIS_HSTS", value_name = "true|false")]
    pub hsts: Option<bool>,
    /// Exécuter les tâches de fond dans ce processus (false quand des processus « relais
    /// worker » s’en chargent). Par défaut true.
    #[arg(long, env = "RELAIS_TACHES", value_name = "true|false")]
    pub taches: Option<bool>,
    /// Charger des lieux de démonstration dans une base vide (par défaut : oui avec la
    /// base SQLite embarquée).
    #[arg(long, env = "RELAIS_DEMO", value_name = "true|false")]
    pub demo: Option<bool>,
    /// Tentatives de connexion permises depuis une adresse IP par quart d’heure (mot de
    /// passe et ProConnect).
    #[arg(long, env = "RELAIS_TENTATIVES_PAR_IP", value_name = "NOMBRE")]
    pub tentatives_par_ip: Option<i64>,
    /// Secondes entre deux lectures des lieux enregistrés (la recherche est reconstruite
    /// s’ils ont changé, par exemple après « relais import » dans un autre processus) ;
    /// 0 : jamais. Par défaut 30.
    #[arg(long, env = "RELAIS_RAFRAICHISSEMENT_LIEUX", value_name = "SECONDES")]
    pub rafraichissement_lieux: Option<u64>,
    /// Tuiles de la carte, en modèle d’URL (https://{s}.tuiles.exemple.fr/{z}/{x}/{y}.png) ;
    /// sans elles, la carte dessine les contours des départements.
    #[arg(long, env = "RELAIS_CARTE_TUILES", value_name = "URL")]
    pub carte_tuiles: Option<String>,
    /// Répartiteurs de charge (blocs CIDR ou adresses, séparés par des virgules) dont
    /// X-Forwarded-For / Forwarded donnent l’adresse du client ; sans eux, l’adresse du
    /// client est celle de la connexion.
    #[arg(
        long,
        env = "RELAIS_PROXYS_DE_CONFIANCE",
        value_name = "CIDR,…",
        value_delimiter = ','
    )]
    pub proxys_de_confiance: Option<Vec<String>>,
    /// Trace de chaque requête : une ligne au niveau info (par défaut), debug, ou aucune.
    #[arg(long, env = "RELAIS_TRACES_REQUETES", value_name = "NIVEAU")]
    pub traces_requetes: Option<AccessLog>,
    /// Émetteur ProConnect (la découverte OpenID Connect y est lue) ; sans lui, pas de
    /// ProConnect.
    #[arg(
        long,
        env = "RELAIS_PROCONNECT_EMETTEUR",
        value_name = "URL",
        help_heading = "ProConnect"
    )]
    pub proconnect_emetteur: Option<String>,
    /// Identifiant de client donné par ProConnect à cette instance.
    #[arg(
        long,
        env = "RELAIS_PROCONNECT_CLIENT",
        value_name = "IDENTIFIANT",
        help_heading = "ProConnect"
    )]
    pub proconnect_client: Option<String>,
    /// Secret de client donné par ProConnect (plutôt par l’environnement ou le fichier que
    /// par une option).
    #[arg(
        long,
        env = "RELAIS_PROCONNECT_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = "ProConnect"
    )]
    pub proconnect_secret: Option<String>,
    /// Émetteur FranceConnect, qui identifie les usagers à la création d’un mandat ; sans
    /// lui, pas de mandats.
    #[arg(
        long,
        env = "RELAIS_FRANCECONNECT_EMETTEUR",
        value_name = "URL",
        help_heading = "FranceConnect"
    )]
    pub franceconnect_emetteur: Option<String>,
    /// Identifiant de client donné par FranceConnect à cette instance.
    #[arg(
        long,
        env = "RELAIS_FRANCECONNECT_CLIENT",
        value_name = "IDENTIFIANT",
        help_heading = "FranceConnect"
    )]
    pub franceconnect_client: Option<String>,
    /// Secret de client donné par FranceConnect.
    #[arg(
        long,
        env = "RELAIS_FRANCECONNECT_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = "FranceConnect"
    )]
    pub franceconnect_secret: Option<String>,
    /// Sel secret (32 caractères au moins) des clés des usagers : Relais ne garde de leur
    /// identifiant FranceConnect qu’une empreinte salée. Ne jamais le changer.
    #[arg(
        long,
        env = "RELAIS_SEL_USAGERS",
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = "FranceConnect"
    )]
    pub sel_usagers: Option<String>,
}

/// The settings file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    base: Option<String>,
    dossier_donnees: Option<PathBuf>,
    ecoute: Option<SocketAddr>,
    format_traces: Option<LogFormat>,
    hsts: Option<bool>,
    taches: Option<bool>,
    url_publique: Option<String>,
    proconnect_emetteur: Option<String>,
    proconnect_client: Option<String>,
    proconnect_secret: Option<String>,
    franceconnect_emetteur: Option<String>,
    franceconnect_client: Option<String>,
    franceconnect_secret: Option<String>,
    sel_usagers: Option<String>,
    tentatives_par_ip: Option<i64>,
    rafraichissement_lieux: Option<u64>,
    carte_tuiles: Option<String>,
    proxys_de_confiance: Option<Vec<String>>,
    demo: Option<bool>,
    url_smtp: Option<String>,
    expediteur: Option<String>,
    role_execution: Option<String>,
    autoriser_superutilisateur: Option<bool>,
    fichier_cle_journal: Option<PathBuf>,
    intervalle_points_de_controle: Option<u64>,
    traces_requetes: Option<AccessLog>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// `None`: SQLite in `dossier_donnees`.
    pub base: Option<String>,
    pub dossier_donnees: PathBuf,
    pub ecoute: SocketAddr,
    pub format_traces: LogFormat,
    pub hsts: bool,
    /// Run background jobs in `serve`.
    pub taches: bool,
    /// Without a trailing slash.
    pub url_publique: String,
    pub proconnect_emetteur: Option<String>,
    pub proconnect_client: Option<String>,
    pub proconnect_secret: Option<String>,
    pub franceconnect_emetteur: Option<String>,
    pub franceconnect_client: Option<String>,
    pub franceconnect_secret: Option<String>,
    pub sel_usagers: Option<String>,
    /// Login attempts from one IP address within the rate-limit window
    /// (`relais_services::comptes::Policy::ip_attempts`).
    pub tentatives_par_ip: i64,
    /// Seconds between two checks of the stored lieux by `serve`; 0: never.
    pub rafraichissement_lieux: u64,
    /// Map tiles URL template; `None`: départements' contours.
    pub carte_tuiles: Option<String>,
    /// CIDR blocks of the load balancers trusted for the client's address.
    pub proxys_de_confiance: Vec<String>,
    /// Load demonstration lieux into an empty base.
    pub demo: bool,
    /// `None`: e-mails go to `dossier_donnees/courriels`.
    pub url_smtp: Option<String>,
    pub expediteur: String,
    /// PostgreSQL role of `serve` and `worker`, made by `relais migrate`.
    pub role_execution: String,
    /// `serve` and `worker` may run as a superuser or an owner (with a warning).
    pub autoriser_superutilisateur: bool,
    /// The journal's signing key, in a file.
    pub fichier_cle_journal: Option<PathBuf>,
    /// The journal's signing key itself (RELAIS_CLE_JOURNAL): never shown.
    pub cle_journal: Option<Secret>,
    /// Seconds between two signed checkpoints; 0: never.
    pub intervalle_points_de_controle: u64,
    /// Level of the one line logged per request.
    pub traces_requetes: AccessLog,
    /// The file read, if any.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Config {
    pub fn resolve(
        base: &BaseArgs,
        taches: &TachesArgs,
        serve: &ServeArgs,
    ) -> anyhow::Result<Config> {
        let (file, from_file) = match &base.config {
            Some(path) => (Some(path.clone()), read_file(path)?),
            None if Path::new("relais.toml").exists() => (
                Some(PathBuf::from("relais.toml")),
                read_file(Path::new("relais.toml"))?,
            ),
            None => (None, FileConfig::default()),
        };
        let dossier_donnees = base.dossier_donnees.clone();
        let base = base.base.clone().or(from_file.base);
        Ok(Config {
            demo: serve.demo.or(from_file.demo).unwrap_or(base.is_none()),
            base,
            dossier_donnees: dossier_donnees
                .or(from_file.dossier_donnees)
                .unwrap_or_else(|| PathBuf::from("relais-data")),
            ecoute: serve
                .ecoute
                .or(from_file.ecoute)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            format_traces: taches
                .format_traces
                .or(from_file.format_traces)
                .unwrap_or(LogFormat::Texte),
            hsts: serve.hsts.or(from_file.hsts).unwrap_or(false),
            taches: serve.taches.or(from_file.taches).unwrap_or(true),
            url_publique: serve
                .url_publique
                .clone()
                .or(from_file.url_publique)
                .unwrap_or_else(|| "http://127.0.0.1:8080".to_string())
                .trim_end_matches('/')
                .to_string(),
            proconnect_emetteur: text(&serve.proconnect_emetteur, from_file.proconnect_emetteur),
            proconnect_client: text(&serve.proconnect_client, from_file.proconnect_client),
            proconnect_secret: text(&serve.proconnect_secret, from_file.proconnect_secret),
            franceconnect_emetteur: text(
                &serve.franceconnect_emetteur,
                from_file.franceconnect_emetteur,
            ),
            franceconnect_client: text(&serve.franceconnect_client, from_file.franceconnect_client),
            franceconnect_secret: text(&serve.franceconnect_secret, from_file.franceconnect_secret),
            sel_usagers: text(&serve.sel_usagers, from_file.sel_usagers),
            tentatives_par_ip: match serve.tentatives_par_ip.or(from_file.tentatives_par_ip) {
                Some(n) if n < 1 => {
                    return Err(anyhow!(
                        "tentatives_par_ip doit valoir au moins 1 (reçu : {n})"
                    ));
                }
                Some(n) => n,
                None => relais_services::comptes::Policy::default().ip_attempts,
            },
            rafraichissement_lieux: serve
                .rafraichissement_lieux
                .or(from_file.rafraichissement_lieux)
                .unwrap_or(30),
            carte_tuiles: text(&serve.carte_tuiles, from_file.carte_tuiles),
            proxys_de_confiance: {
                let list = serve
                    .proxys_de_confiance
                    .clone()
                    .or(from_file.proxys_de_confiance)
                    .unwrap_or_default();
                relais_web::TrustedProxies::parse(&list).map_err(|e| anyhow!(e))?;
                list.into_iter()
                    .map(|e| e.trim().to_string())
                    .filter(|e| !e.is_empty())
                    .collect()
            },
            url_smtp: text(&taches.url_smtp, from_file.url_smtp),
            expediteur: taches
                .expediteur
                .clone()
                .or(from_file.expediteur)
                .unwrap_or_else(|| "Relais <ne-pas-repondre@relais.localhost>".to_string()),
            role_execution: text(&taches.role.role_execution, from_file.role_execution)
                .unwrap_or_else(|| "relais_app".to_string()),
            autoriser_superutilisateur: taches
                .autoriser_superutilisateur
                .or(from_file.autoriser_superutilisateur)
                .unwrap_or(false),
            fichier_cle_journal: taches
                .cle
                .fichier_cle_journal
                .clone()
                .or(from_file.fichier_cle_journal)
                .filter(|p| !p.as_os_str().is_empty()),
            cle_journal: std::env::var("RELAIS_CLE_JOURNAL")
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(Secret),
            intervalle_points_de_controle: taches
                .intervalle_points_de_controle
                .or(from_file.intervalle_points_de_controle)
                .unwrap_or(3600),
            traces_requetes: serve
                .traces_requetes
                .or(from_file.traces_requetes)
                .unwrap_or(AccessLog::Info),
            file,
        })
    }

    /// The settings of a command that takes only the database options (and the file).
    pub fn of_base(base: &BaseArgs) -> anyhow::Result<Config> {
        Config::resolve(base, &TachesArgs::default(), &ServeArgs::default())
    }

    /// The configuration as TOML, the database password hidden.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.base = shown.base.as_deref().map(relais_store::redact_url);
        shown.url_smtp = shown.url_smtp.as_deref().map(relais_store::redact_url);
        for secret in [
            &mut shown.proconnect_secret,
            &mut shown.franceconnect_secret,
            &mut shown.sel_usagers,
        ] {
            if secret.is_some() {
                *secret = Some("***".to_string());
            }
        }
        let mut out = String::new();
        match &self.file {
            Some(f) => out.push_str(&format!("# fichier lu : {}\n", f.display())),
            None => out.push_str("# aucun fichier de configuration lu\n"),
        }
        if shown.base.is_none() {
            out.push_str(&format!(
                "# base : SQLite dans {}\n",
                self.dossier_donnees.join("relais.db").display()
            ));
        }
        out.push_str(&toml::to_string(&shown).unwrap_or_default());
        out
    }
}

impl Config {
    /// The load balancers trusted for the client's address (checked by `resolve`).
    pub fn proxys_de_confiance(&self) -> relais_web::TrustedProxies {
        relais_web::TrustedProxies::parse(&self.proxys_de_confiance).unwrap_or_default()
    }

    /// The login limits: the defaults, with the settings' per-IP limit.
    pub fn policy(&self) -> relais_services::comptes::Policy {
        relais_services::comptes::Policy {
            ip_attempts: self.tentatives_par_ip,
            ..Default::default()
        }
    }

    /// Where e-mails go: the SMTP server, or a folder of `.eml` files.
    pub fn mailer(&self) -> anyhow::Result<relais_services::courriel::Mailer> {
        use relais_services::courriel::Mailer;
        match &self.url_smtp {
            Some(url) => Mailer::smtp(url, &self.expediteur),
            None => Mailer::folder(self.dossier_donnees.join("courriels"), &self.expediteur),
        }
        .map_err(|e| anyhow!("courriel : {e}"))
    }

    /// The ProConnect client settings: all three keys, or none (ProConnect off).
    pub fn proconnect(&self) -> anyhow::Result<Option<OidcConfig>> {
        match (
            &self.proconnect_emetteur,
            &self.proconnect_client,
            &self.proconnect_secret,
        ) {
            (None, None, None) => Ok(None),
            (Some(issuer), Some(client_id), Some(client_secret)) => Ok(Some(OidcConfig {
                issuer: issuer.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                redirect_uri: format!("{}/auth/proconnect/callback", self.url_publique),
            })),
            _ => Err(anyhow!(
                "ProConnect à moitié configuré : proconnect_emetteur, proconnect_client et proconnect_secret vont ensemble"
            )),
        }
    }

    /// FranceConnect for the usagers: the three client keys and the salt, or none of them
    /// (no mandates on this instance).
    pub fn franceconnect(&self) -> anyhow::Result<Option<FranceConnect>> {
        match (
            &self.franceconnect_emetteur,
            &self.franceconnect_client,
            &self.franceconnect_secret,
            &self.sel_usagers,
        ) {
            (None, None, None, None) => Ok(None),
            (Some(issuer), Some(client_id), Some(client_secret), Some(sel)) => {
                let client = OidcClient::new(OidcConfig {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    redirect_uri: format!("{}/auth/franceconnect/callback", self.url_publique),
                })
                .map_err(|e| anyhow!("franceconnect_emetteur : {e}"))?;
                FranceConnect::new(client, sel.as_bytes().to_vec())
                    .map(Some)
                    .map_err(|e| anyhow!("sel_usagers : {e}"))
            }
            _ => Err(anyhow!(
                "FranceConnect à moitié configuré : franceconnect_emetteur, franceconnect_client, franceconnect_secret et sel_usagers vont ensemble"
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
    /// The key that signs the journal's checkpoints: RELAIS_CLE_JOURNAL, else the
    /// `fichier_cle_journal`; `None` when neither is set.
    pub fn journal_key(
        &self,
    ) -> anyhow::Result<Option<relais_domain::journal::checkpoint::SigningKey>> {
        use relais_domain::journal::checkpoint::SigningKey;
        if let Some(Secret(text)) = &self.cle_journal {
            return SigningKey::parse(text)
                .map(Some)
                .map_err(|e| anyhow!("RELAIS_CLE_JOURNAL : {e}"));
        }
        let Some(path) = &self.fichier_cle_journal else {
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

/// A text setting: the option (or its variable), else the file's key; empty is unset.
fn text(option: &Option<String>, file: Option<String>) -> Option<String> {
    option.clone().or(file).filter(|s| !s.is_empty())
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
