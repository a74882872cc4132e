//! `relais`: the one binary of the platform.

mod admin;
mod bench;
mod bench_import;
mod config;
mod export;
mod fusion;
mod import;
mod journal;
mod roles;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{GlobalArgs, ServeArgs};

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

/// Relais — plateforme nationale de l'inclusion numérique.
///
/// Without configuration, Relais keeps its data in SQLite under ./relais-data.
/// Settings: defaults, then relais.toml, then RELAIS_* environment variables, then flags.
#[derive(Parser)]
#[command(name = "relais", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web site and the API (and run background jobs unless --worker false).
    Serve(ServeArgs),
    /// Run background jobs only, for deployments with several processes.
    Worker {
        /// Number of jobs run at once by this process.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// Apply database migrations and load reference data, then exit.
    Migrate,
    /// Print the effective configuration (secrets hidden).
    Config(ServeArgs),
    /// Measure territory look-ups in process (benchmark; build with --release).
    BenchTerritoires {
        /// Look-ups per measured series.
        #[arg(long, default_value_t = 100_000)]
        iterations: usize,
    },
    /// Measure the nearest lieux with two filters in process, against a full scan
    /// (benchmark; build with --release).
    BenchLieux {
        /// Numbers of synthetic lieux, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [25_000usize, 1_000_000])]
        sizes: Vec<usize>,
        /// Query points per filter pair.
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Also write the lieux and queries as CSV (for scripts/bench/lieux-postgis).
        #[arg(long, value_name = "FICHIER")]
        dump: Option<std::path::PathBuf>,
        /// Only write the first size's lieux (real attributes) as a schema v1.0.1 CSV,
        /// for `relais import lieux` (scripts/bench/lieux-api); no measurement.
        #[arg(long, value_name = "FICHIER")]
        schema_csv: Option<std::path::PathBuf>,
    },
    /// Measure import + merge of synthetic lieux files from several sources, with the
    /// peak memory (benchmark; build with --release).
    BenchImportLieux(bench_import::Args),
    /// Measure the cost of a password hash (benchmark; build with --release).
    BenchPassword {
        #[arg(long, default_value_t = 30)]
        iterations: usize,
    },
    /// Accounts, structures and roles, for operators.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Import data files.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Export data files (open data).
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// Lieux: the cross-source merge, its review list and decisions.
    Lieux {
        #[command(subcommand)]
        command: fusion::LieuxCommand,
    },
    /// The audit trail: check its integrity, sign and export its checkpoints.
    Journal {
        #[command(subcommand)]
        command: journal::JournalCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(anyhow::anyhow!("démarrage impossible : {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(serve) => run::serve(&cli.global, &serve).await,
            Command::Worker { concurrency } => run::worker(&cli.global, concurrency).await,
            Command::Migrate => run::migrate(&cli.global).await,
            Command::Config(serve) => {
                print!(
                    "{}",
                    config::Config::resolve(&cli.global, &serve)?.to_redacted_toml()
                );
                Ok(())
            }
            Command::BenchTerritoires { iterations } => bench::territoires(iterations),
            Command::BenchPassword { iterations } => bench::password(iterations).await,
            Command::BenchImportLieux(args) => bench_import::run(&args).await,
            Command::BenchLieux {
                sizes,
                queries,
                dump,
                schema_csv,
            } => match schema_csv {
                Some(path) => bench::schema_csv(sizes.first().copied().unwrap_or(25_000), &path),
                None => bench::lieux(&sizes, queries, dump.as_deref()),
            },
            Command::Admin { command } => admin::run(&cli.global, &command).await,
            Command::Journal { command } => journal::run(&cli.global, &command).await,
            Command::Import { command } => import::run(&cli.global, &command).await,
            Command::Export { command } => export::run(&cli.global, &command).await,
            Command::Lieux { command } => fusion::run(&cli.global, &command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// One line on standard error, no trace: what went wrong and, through the causes, why.
fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("relais : erreur : {e:#}");
    ExitCode::FAILURE
}
