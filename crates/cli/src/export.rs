//! `relais export lieux --format csv|json|geojson|data-inclusion [--sortie CHEMIN]`: the
//! national dataset of lieux, written page by page.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use relais_services::lieux::export::{self, DataInclusionExport, Export, Format};

use crate::config::{BaseArgs, Config};

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Exporter les lieux de médiation numérique, dans un ordre stable (par identifiant).
    Lieux {
        /// Format de l’export.
        #[arg(long, value_enum, default_value_t = FormatArg::Csv, value_name = "FORMAT")]
        format: FormatArg,
        /// Fichier à écrire (par défaut la sortie standard). Pour data-inclusion : un
        /// dossier, où structures.json et services.json sont écrits (obligatoire).
        #[arg(long, value_name = "CHEMIN")]
        sortie: Option<PathBuf>,
    },
}

/// The formats, as the command line names them.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Le CSV du schéma v1.0.1.
    Csv,
    /// Le JSON du schéma v1.0.1, avec les sources de chaque lieu.
    Json,
    /// Une FeatureCollection GeoJSON.
    Geojson,
    /// data·inclusion v1 : structures.json et services.json dans le dossier --sortie.
    DataInclusion,
}

pub async fn run(base: &BaseArgs, command: &ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Lieux { format, sortie } = command;
    let config = Config::of_base(base)?;
    let db = crate::run::open(&config).await?;
    let result = match (format, sortie) {
        (FormatArg::DataInclusion, Some(dir)) => data_inclusion(db.clone(), dir).await,
        (FormatArg::DataInclusion, None) => Err(anyhow::anyhow!(
            "--sortie DOSSIER est obligatoire pour data-inclusion (deux fichiers y sont écrits)"
        )),
        (f, path) => {
            let format = match f {
                FormatArg::Csv => Format::Csv,
                FormatArg::Json => Format::Json,
                _ => Format::GeoJson,
            };
            schema(db.clone(), format, path.as_deref()).await
        }
    };
    db.close().await;
    result
}

fn create(path: &Path) -> anyhow::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(path).with_context(|| {
        format!("écriture de {} impossible", path.display())
    })?))
}

async fn schema(db: relais_store::Db, format: Format, path: Option<&Path>) -> anyhow::Result<()> {
    let mut out: Box<dyn Write> = match path {
        Some(p) => Box::new(create(p)?),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut export = Export::new(db, format);
    let written = async {
        while let Some(chunk) = export.next_chunk().await? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        anyhow::Ok(())
    }
    .await;
    match written {
        Ok(()) => {
            eprintln!("{} lieu(x) exporté(s)", export.count());
            Ok(())
        }
        // A reader that stopped early (`| head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        Err(e) => Err(e.context("écriture de l’export")),
    }
}

async fn data_inclusion(db: relais_store::Db, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("création du dossier {} impossible", dir.display()))?;
    let (structures_path, services_path) = (dir.join("structures.json"), dir.join("services.json"));
    let mut structures = create(&structures_path)?;
    let mut services = create(&services_path)?;
    let mut export = DataInclusionExport::new(db, export::today());
    while let Some((s, v)) = export.next_chunks().await? {
        structures
            .write_all(&s)
            .context("écriture des structures")?;
        services.write_all(&v).context("écriture des services")?;
    }
    structures.flush().context("écriture des structures")?;
    services.flush().context("écriture des services")?;
    eprintln!(
        "data·inclusion : {} structure(s) dans {}, {} service(s) dans {}",
        export.structures,
        structures_path.display(),
        export.services,
        services_path.display()
    );
    if !export.skipped.is_empty() {
        eprintln!(
            "{} lieu(x) non exporté(s), que data·inclusion refuserait :",
            export.skipped.len()
        );
        for (id, why) in &export.skipped {
            eprintln!("  lieu {id} : {why}");
        }
    }
    Ok(())
}
