//! `relais`: the one binary of the platform.

mod admin;
mod bench;
mod bench_activites;
mod bench_diagnostic;
mod bench_import;
mod bench_mandats;
mod bench_pass;
mod config;
mod export;
mod fusion;
mod import;
mod journal;
mod roles;
mod run;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{BaseArgs, CleArgs, RoleArgs, ServeArgs, TachesArgs};

// Imports and merges allocate and free many small strings: glibc's allocator spent a fifth
// of the 100,000-row import in them (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives back to the system the memory freed so far by this thread. mimalloc returns freed
/// pages only when it is called again, so a server that goes idle after its start would keep
/// what loading the territories and the lieux left behind (docs/BENCHMARKS.md).
fn release_free_memory() {
    // SAFETY: `mi_collect` only walks mimalloc's own heap of the calling thread; the one
    // `unsafe` of the workspace.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// clap's own words, in French: the headings and the layout of every `--help`.
const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
Utilisation : {usage}

{all-args}{after-help}";

/// Relais — plateforme nationale de l’inclusion numérique.
///
/// Sans configuration, Relais garde ses données dans une base SQLite sous ./relais-data.
/// Chaque réglage vient, du plus faible au plus fort : de sa valeur par défaut, du fichier
/// relais.toml (clé « url_smtp »), de l’environnement (RELAIS_URL_SMTP), de l’option
/// (--url-smtp). « relais config » montre les réglages retenus.
#[derive(Parser)]
#[command(
    name = "relais",
    version,
    propagate_version = true,
    disable_help_subcommand = true,
    disable_help_flag = true,
    disable_version_flag = true,
    next_help_heading = "Options",
    after_help = "« relais COMMANDE --help » décrit une commande et ses options."
)]
struct Cli {
    #[command(flatten)]
    base: BaseArgs,
    #[command(flatten)]
    aide: Aide,
    #[command(subcommand)]
    command: Command,
}

/// `--help` and `--version`, described in French on every command.
#[derive(clap::Args)]
#[command(next_help_heading = "Options")]
struct Aide {
    /// Afficher l’aide (« -h » : résumée).
    #[arg(short = 'h', long = "help", action = clap::ArgAction::Help, global = true)]
    aide: Option<bool>,
    /// Afficher la version.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version, global = true)]
    version: Option<bool>,
}

#[derive(Subcommand)]
enum Command {
    /// Servir le site et l’API (et exécuter les tâches de fond, sauf avec --taches false).
    Serve {
        #[command(flatten)]
        taches: TachesArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Exécuter les tâches de fond seulement, quand plusieurs processus se partagent le
    /// travail.
    Worker {
        /// Nombre de tâches exécutées en même temps par ce processus (de 1 à 64).
        #[arg(long, default_value_t = 1, value_name = "NOMBRE", value_parser = clap::value_parser!(u16).range(1..=64))]
        taches_simultanees: u16,
        #[command(flatten)]
        taches: TachesArgs,
    },
    /// Mettre la base à jour (migrations, données de référence, rôle d’exécution sur
    /// PostgreSQL), puis s’arrêter.
    Migrate {
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Afficher la configuration retenue (secrets masqués), avec les options de serve.
    Config {
        #[command(flatten)]
        taches: TachesArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Comptes, structures et rôles, pour les opérateurs.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Importer des fichiers de données.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Exporter des fichiers de données (données ouvertes).
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// Lieux : la fusion entre sources, les paires à revoir et les décisions.
    Lieux {
        #[command(subcommand)]
        command: fusion::LieuxCommand,
    },
    /// Le journal des actions : vérifier son intégrité, signer et exporter ses points de
    /// contrôle.
    Journal {
        #[command(flatten)]
        cle: CleArgs,
        #[command(subcommand)]
        command: journal::JournalCommand,
    },
    /// Mesure : recherche des territoires en mémoire (compiler avec --release).
    BenchTerritoires {
        /// Recherches par série mesurée.
        #[arg(long, default_value_t = 100_000, value_name = "NOMBRE")]
        iterations: usize,
    },
    /// Mesure : les lieux les plus proches avec deux filtres, en mémoire, face à un
    /// parcours complet (compiler avec --release).
    BenchLieux {
        /// Nombres de lieux synthétiques, séparés par des virgules.
        #[arg(long, value_delimiter = ',', default_values_t = [25_000usize, 1_000_000], value_name = "NOMBRE,…")]
        tailles: Vec<usize>,
        /// Points de recherche par paire de filtres.
        #[arg(long, default_value_t = 2_000, value_name = "NOMBRE")]
        recherches: usize,
        /// Écrire aussi les lieux et les recherches en CSV (pour scripts/bench/lieux-postgis).
        #[arg(long, value_name = "FICHIER")]
        csv_mesure: Option<std::path::PathBuf>,
        /// Seulement écrire les lieux de la première taille (attributs réels) en CSV du
        /// schéma v1.0.1, pour « relais import lieux » (scripts/bench/lieux-api) ; aucune
        /// mesure.
        #[arg(long, value_name = "FICHIER")]
        csv_schema: Option<std::path::PathBuf>,
    },
    /// Mesure : import et fusion de fichiers synthétiques de lieux venus de plusieurs
    /// sources, avec le pic de mémoire (compiler avec --release).
    BenchImportLieux(bench_import::Args),
    /// Mesure : allers-retours authorize → token → userinfo du fournisseur OpenID Connect
    /// par seconde, face à /healthz sur le même serveur (compiler avec --release).
    BenchOidc(bench_mandats::OidcArgs),
    /// Mesure : « relais journal verifier » sur un journal de N entrées, face à la seule
    /// lecture des mêmes lignes (compiler avec --release).
    BenchJournal(bench_mandats::JournalArgs),
    /// Mesure : chaque tableau de bord des activités sur N participations synthétiques,
    /// par l’index en mémoire et par GROUP BY dans la base (compiler avec --release).
    BenchActivites(bench_activites::Args),
    /// Mesure : N tentatives d’utilisation de pass par l’API des appareils, face à /healthz
    /// sur le même serveur, puis chaque pass vérifié utilisé une fois et une seule
    /// (compiler avec --release).
    BenchPass(bench_pass::Args),
    /// Mesure : le diagnostic adaptatif passé par des répondants simulés d’abilité connue,
    /// face à une forme fixe de même longueur, dans la même exécution (compiler avec
    /// --release).
    BenchDiagnostic(bench_diagnostic::Args),
    /// Mesure : le coût d’un hachage de mot de passe (compiler avec --release).
    BenchMotDePasse {
        /// Hachages mesurés.
        #[arg(long, default_value_t = 30, value_name = "NOMBRE")]
        iterations: usize,
    },
}

/// The command line, with clap's own words in French on every command: the layout and
/// headings of the help, and the default values, variables and possible values of each
/// option (clap writes those in English, so they are hidden and said in the help line).
fn command() -> clap::Command {
    french(Cli::command())
}

fn french(cmd: clap::Command) -> clap::Command {
    cmd.help_template(HELP_TEMPLATE)
        .subcommand_help_heading("Commandes")
        .subcommand_value_name("COMMANDE")
        .mut_args(|arg| {
            let arg = if arg.is_positional() && arg.get_help_heading().is_none() {
                arg.help_heading("Fichiers et identifiants")
            } else {
                arg
            };
            let mut notes = Vec::new();
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .filter(|v| !v.is_empty())
                .collect();
            if !defaults.is_empty() && arg.get_action().takes_values() {
                notes.push(format!("par défaut : {}", defaults.join(",")));
            }
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            let is_bool = values == ["true", "false"];
            if !values.is_empty() && !is_bool {
                notes.push(format!("valeurs : {}", values.join(", ")));
            }
            if let Some(var) = arg.get_env() {
                notes.push(format!("variable {}", var.to_string_lossy()));
            }
            // clap's own notes are hidden, even an empty default (`[default: ""]`).
            let arg = if arg.get_action().takes_values() {
                arg.hide_default_value(true)
                    .hide_possible_values(true)
                    .hide_env(true)
            } else {
                arg.hide_env(true)
            };
            if notes.is_empty() {
                return arg;
            }
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            arg.help(format!("{help} [{}]", notes.join(" ; ")))
        })
        .mut_subcommands(french)
}

fn main() -> ExitCode {
    let cli = match command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => refuse(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(anyhow::anyhow!("démarrage impossible : {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { taches, serve } => run::serve(&cli.base, &taches, &serve).await,
            Command::Worker {
                taches_simultanees,
                taches,
            } => run::worker(&cli.base, &taches, taches_simultanees).await,
            Command::Migrate { role } => run::migrate(&cli.base, &role).await,
            Command::Config { taches, serve } => {
                print!(
                    "{}",
                    config::Config::resolve(&cli.base, &taches, &serve)?.to_redacted_toml()
                );
                Ok(())
            }
            Command::BenchTerritoires { iterations } => bench::territoires(iterations),
            Command::BenchMotDePasse { iterations } => bench::password(iterations).await,
            Command::BenchImportLieux(args) => bench_import::run(&cli.base, &args).await,
            Command::BenchOidc(args) => bench_mandats::oidc(&cli.base, &args).await,
            Command::BenchJournal(args) => bench_mandats::journal(&cli.base, &args).await,
            Command::BenchActivites(args) => bench_activites::run(&cli.base, &args).await,
            Command::BenchPass(args) => bench_pass::run(&cli.base, &args).await,
            Command::BenchDiagnostic(args) => bench_diagnostic::run(&args),
            Command::BenchLieux {
                tailles,
                recherches,
                csv_mesure,
                csv_schema,
            } => match csv_schema {
                Some(path) => bench::schema_csv(tailles.first().copied().unwrap_or(25_000), &path),
                None => bench::lieux(&tailles, recherches, csv_mesure.as_deref()),
            },
            Command::Admin { command } => admin::run(&cli.base, &command).await,
            Command::Journal { cle, command } => journal::run(&cli.base, &cle, &command).await,
            Command::Import { command } => import::run(&cli.base, &command).await,
            Command::Export { command } => export::run(&cli.base, &command).await,
            Command::Lieux { command } => fusion::run(&cli.base, &command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// A command line clap refuses, said in French (clap says it in English); help and version
/// are printed as clap does.
fn refuse(e: &clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        _ => String::new(),
    };
    let message = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        ErrorKind::UnknownArgument => format!(
            "option inconnue de cette commande : {}",
            context(ContextKind::InvalidArg)
        ),
        ErrorKind::InvalidSubcommand => format!(
            "commande inconnue : {}",
            context(ContextKind::InvalidSubcommand)
        ),
        ErrorKind::MissingRequiredArgument => {
            format!("il manque : {}", context(ContextKind::InvalidArg))
        }
        ErrorKind::MissingSubcommand => "il manque la commande".to_string(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let valid = context(ContextKind::ValidValue);
            format!(
                "valeur « {} » refusée pour {}{}",
                context(ContextKind::InvalidValue),
                context(ContextKind::InvalidArg),
                if valid.is_empty() {
                    String::new()
                } else {
                    format!(" (valeurs : {valid})")
                }
            )
        }
        ErrorKind::ArgumentConflict => format!(
            "{} ne va pas avec {}",
            context(ContextKind::InvalidArg),
            context(ContextKind::PriorArg)
        ),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!(
                "nombre de valeurs incorrect pour {}",
                context(ContextKind::InvalidArg)
            )
        }
        // Rarer cases: clap's own words, on one line.
        _ => e
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string(),
    };
    eprintln!(
        "relais : erreur : {message}\n« relais --help » ou « relais COMMANDE --help » décrivent les commandes et leurs options."
    );
    std::process::exit(2)
}

/// One line on standard error, no trace: what went wrong and, through the causes, why.
fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("relais : erreur : {e:#}");
    ExitCode::FAILURE
}
