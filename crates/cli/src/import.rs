//! `relais import lieux FICHIER…`: producers' files of lieux, with a progress line and a
//! report of every rejected row; `relais import structures FICHIER`: a register of
//! structures.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use relais_domain::comptes::registre::{Correspondance, StructureLabel};
use relais_search::TerritoryIndex;
use relais_services::comptes::registre;
use relais_services::lieux::import::{ImportReport, ToMerge, store_file, store_path};
use relais_services::lieux::mapping::Mapping;
use relais_services::lieux::{data_inclusion, fichier};

use crate::config::{BaseArgs, Config};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Importer des lieux de médiation numérique : le CSV ou le JSON du schéma national,
    /// v1 ou v0.1, ou les structures et services de data·inclusion v1. Importer de nouveau
    /// le même fichier ne change rien.
    Lieux {
        /// Fichiers à importer, une source chacun.
        #[arg(
            value_name = "FICHIER",
            required_unless_present = "data_inclusion",
            conflicts_with = "data_inclusion"
        )]
        fichiers: Vec<PathBuf>,
        /// Nom de la source (le producteur) ; par défaut le nom du fichier sans extension.
        #[arg(long, value_name = "NOM")]
        source: Option<String>,
        /// Fichier CSV ou JSON propre à un producteur : la correspondance (TOML) de ses
        /// colonnes aux champs du schéma (voir data/lieux/mappings/ et docs/DATA.md).
        #[arg(long, value_name = "FICHIER.toml")]
        correspondance: Option<PathBuf>,
        /// data·inclusion v1 : le fichier des structures et celui des services (tableaux
        /// JSON) ; un lieu par structure. Source « data-inclusion » sauf avec --source.
        #[arg(
            long,
            num_args = 2,
            value_names = ["STRUCTURES.json", "SERVICES.json"],
            conflicts_with = "correspondance"
        )]
        data_inclusion: Option<Vec<PathBuf>>,
        /// Ne rien importer : écrire sur la sortie une correspondance proposée pour chaque
        /// fichier (colonnes reconnues par leur nom et leurs valeurs, avec leur confiance),
        /// à vérifier puis à donner à --correspondance.
        #[arg(
            long,
            conflicts_with_all = ["correspondance", "data_inclusion"]
        )]
        proposer_correspondance: bool,
    },
    /// Importer un registre de structures (CSV ou JSON) : SIRET, nom, adresse, commune,
    /// labels… Les colonnes sont reconnues par leur nom (docs/DATA.md) ; un SIRET écrit
    /// comme un nombre par un tableur est réparé. Importer de nouveau le même fichier ne
    /// change rien ; une ligne modifiée met sa structure à jour.
    Structures {
        fichier: PathBuf,
        /// Nom du registre (le producteur) ; par défaut le nom du fichier sans extension.
        #[arg(long, value_name = "NOM")]
        source: Option<String>,
        /// Label donné à chaque structure du fichier (france_services, aidants_connect,
        /// conseiller_numerique) ; peut être répété.
        #[arg(long = "label", value_name = "LABEL")]
        labels: Vec<String>,
        /// Correspondance des colonnes que Relais ne reconnaît pas (TOML, section
        /// [colonnes] : champ = "colonne du fichier"), comme l'écrit
        /// --proposer-correspondance.
        #[arg(long, value_name = "FICHIER.toml")]
        correspondance: Option<PathBuf>,
        /// Ne rien importer : écrire sur la sortie une correspondance proposée (colonnes
        /// reconnues par leur nom ou leurs valeurs, avec leur confiance), à vérifier puis à
        /// donner à --correspondance.
        #[arg(long, conflicts_with = "correspondance")]
        proposer_correspondance: bool,
    },
    /// Importer les comptes rendus d’activité de la version 1 (conseillers numériques,
    /// JSON Lines : un compte rendu par ligne), passés en version 2 par la correspondance
    /// documentée (docs/DATA.md). Chaque conseiller est retrouvé par son adresse
    /// électronique parmi les médiateurs. Importer de nouveau le même fichier ne change rien.
    ActivitesV1 { fichier: PathBuf },
}

/// Prints a proposed mapping for each file (nothing is imported).
fn propose(fichiers: &[PathBuf]) -> anyhow::Result<()> {
    let (y, m, d, _) = relais_domain::calendrier::paris_civil(relais_domain::calendrier::now_ms());
    let today = format!("{y:04}-{m:02}-{d:02}");
    for path in fichiers {
        let file = fichier::read_path(path, fichier::MAX_UPLOAD)
            .and_then(|bytes| fichier::read(&bytes, false))
            .with_context(|| path.display().to_string())?;
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let proposition = relais_domain::lieux::proposition::proposer(&file, &today);
        print!("{}", proposition.toml(&format!("Correspondance de {name}")));
    }
    Ok(())
}

/// Rejected rows printed in full; the count says the rest.
const SHOWN: usize = 100;

pub async fn run(base: &BaseArgs, command: &ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Lieux {
            fichiers,
            source,
            correspondance,
            data_inclusion,
            proposer_correspondance,
        } => {
            import_lieux(
                base,
                fichiers,
                source,
                correspondance,
                data_inclusion,
                proposer_correspondance,
            )
            .await
        }
        ImportCommand::Structures {
            proposer_correspondance: true,
            fichier,
            ..
        } => propose_structures(fichier),
        ImportCommand::Structures {
            fichier,
            source,
            labels,
            correspondance,
            ..
        } => {
            let correspondance = match correspondance {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| path.display().to_string())?;
                    Correspondance::parse(&text).with_context(|| path.display().to_string())?
                }
                None => Correspondance::default(),
            };
            import_structures(base, fichier, source.as_deref(), labels, &correspondance).await
        }
        ImportCommand::ActivitesV1 { fichier } => import_activites_v1(base, fichier).await,
    }
}

async fn import_activites_v1(base: &BaseArgs, path: &Path) -> anyhow::Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let lines = std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .map(|(i, l)| l.map(|l| (i + 1, l)))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} : fichier illisible (UTF-8 attendu)", path.display()))?;
    let (db, _) = open(base).await?;
    let result = relais_services::activites::importer_v1(&db, lines).await;
    db.close().await;
    let bilan = result.with_context(|| path.display().to_string())?;
    println!(
        "{} : {} compte(s) rendu(s) importé(s), {} déjà importé(s), {} rejeté(s)",
        path.display(),
        bilan.importees,
        bilan.deja,
        bilan.erreurs.len()
    );
    for e in bilan.erreurs.iter().take(SHOWN) {
        println!("  {e}");
    }
    if bilan.erreurs.len() > SHOWN {
        println!("  … et {} autre(s)", bilan.erreurs.len() - SHOWN);
    }
    Ok(())
}

async fn import_lieux(
    base: &BaseArgs,
    fichiers: &[PathBuf],
    source: &Option<String>,
    correspondance: &Option<PathBuf>,
    data_inclusion: &Option<Vec<PathBuf>>,
    proposer_correspondance: &bool,
) -> anyhow::Result<()> {
    if *proposer_correspondance {
        return propose(fichiers);
    }
    if let Some(paths) = data_inclusion {
        return import_data_inclusion(base, &paths[0], &paths[1], source.as_deref()).await;
    }
    let mapping = match correspondance {
        Some(path) => {
            let bytes = fichier::read_path(path, fichier::MAX_UPLOAD)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!("{} : le mapping doit être en UTF-8", path.display())
            })?;
            Some(Mapping::parse(&text).with_context(|| path.display().to_string())?)
        }
        None => None,
    };
    let (db, index) = open(base).await?;
    // Every file is stored, then merged once: a merge per file would compare again the
    // communes of the files before it.
    let mut failed = 0;
    let mut to_merge = ToMerge::default();
    let mut stored: Vec<(String, ImportReport)> = Vec::new();
    let tty = std::io::stderr().is_terminal();
    for path in fichiers {
        let name = source.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or("source".into(), |s| s.to_string_lossy().into_owned())
        });
        // The file is streamed: the count of rows read grows with the stored one.
        let mut progress = progress(&name, tty);
        let result = match &mapping {
            // Streamed: a file of any size in bounded memory.
            None => store_path(&db, &index, &name, path, &mut progress)
                .await
                .map_err(|e| e.to_string()),
            // A producer's own file is mapped whole (such files are small).
            // Mapped whole in memory: capped as an upload is.
            Some(m) => match fichier::read_path(path, fichier::MAX_UPLOAD)
                .and_then(|bytes| fichier::read(&bytes, false))
                .map_err(|e| e.to_string())
                .and_then(|raw| m.apply(&raw, &name).map_err(|e| e.to_string()))
            {
                Ok(mapped) => store_file(&db, &index, &name, &mapped, &mut progress)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            },
        };
        if tty {
            eprintln!();
        }
        match result {
            Ok((report, pending)) => {
                to_merge.add(pending);
                stored.push((path.display().to_string(), report));
            }
            Err(e) => {
                failed += 1;
                println!("{} : fichier refusé : {e}", path.display());
            }
        }
    }
    if tty {
        eprintln!("fusion des lieux des {} fichier(s)…", stored.len());
    }
    let (paths, reports): (Vec<String>, Vec<ImportReport>) = stored.into_iter().unzip();
    let reports = to_merge.merge(&db, reports).await;
    db.close().await;
    for (path, report) in paths.iter().zip(reports?) {
        print!("{}", describe(path, &report));
    }
    if failed > 0 {
        anyhow::bail!("{failed} fichier(s) refusé(s)");
    }
    Ok(())
}

async fn import_data_inclusion(
    base: &BaseArgs,
    structures: &Path,
    services: &Path,
    source: Option<&str>,
) -> anyhow::Result<()> {
    // Read whole in memory: capped as an upload is.
    let read = |path: &Path| fichier::read_path(path, fichier::MAX_UPLOAD);
    let (structures_bytes, services_bytes) = (read(structures)?, read(services)?);
    let (db, index) = open(base).await?;
    let name = source.unwrap_or("data-inclusion");
    let tty = std::io::stderr().is_terminal();
    let mut progress = progress(name, tty);
    let result = data_inclusion::import_files(
        &db,
        &index,
        name,
        &structures_bytes,
        &services_bytes,
        &mut progress,
    )
    .await;
    db.close().await;
    let report = result?;
    if tty {
        eprintln!();
    }
    print!(
        "{}",
        describe(
            &format!("{} + {}", structures.display(), services.display()),
            &report
        )
    );
    Ok(())
}

/// Writes a correspondence proposed for a register's columns on the standard output.
fn propose_structures(path: &Path) -> anyhow::Result<()> {
    let bytes = fichier::read_path(path, fichier::MAX_UPLOAD)?;
    let file = relais_domain::lieux::fichier::read(&bytes, false)
        .with_context(|| path.display().to_string())?;
    let proposees = relais_domain::comptes::registre::proposer(&file);
    print!(
        "{}",
        relais_domain::comptes::registre::proposition_toml(&proposees, &path.display().to_string())
    );
    Ok(())
}

async fn import_structures(
    base: &BaseArgs,
    path: &Path,
    source: Option<&str>,
    labels: &[String],
    correspondance: &Correspondance,
) -> anyhow::Result<()> {
    let labels = labels
        .iter()
        .map(|l| {
            StructureLabel::parse(l.trim()).ok_or_else(|| {
                let possibles: Vec<&str> = StructureLabel::ALL.iter().map(|v| v.as_str()).collect();
                anyhow::anyhow!(
                    "label « {l} » inconnu ; labels possibles : {}",
                    possibles.join(", ")
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bytes = fichier::read_path(path, fichier::MAX_UPLOAD)?;
    let name = source.map_or_else(
        || {
            path.file_stem()
                .map_or("registre".into(), |s| s.to_string_lossy().into_owned())
        },
        str::to_string,
    );
    let (db, index) = open(base).await?;
    let result = registre::import(&db, &index, &name, &bytes, &labels, correspondance, None).await;
    db.close().await;
    let r = result.with_context(|| path.display().to_string())?;
    println!(
        "{} (registre « {} ») : {} ligne(s) lue(s), {} gardée(s) ({} nouvelle(s), {} modifiée(s), {} inchangée(s)), {} SIRET réparé(s) (écrits comme des nombres), {} rejetée(s) ; {} structure(s) du registre absente(s) du fichier, gardée(s) ; {} lieu(x) rattaché(s) à {} structure(s) (même SIRET, ou même nom ou adresse dans la commune)",
        path.display(),
        r.source,
        r.read,
        r.kept(),
        r.created,
        r.updated,
        r.unchanged,
        r.repaired_sirets,
        r.rejected_rows(),
        r.absent,
        r.lieux,
        r.structures_with_lieux
    );
    let columns: Vec<String> = r
        .columns
        .iter()
        .map(|(f, c)| format!("{f} ← « {c} »"))
        .collect();
    println!("colonnes lues : {}", columns.join(", "));
    for rejet in r.rejected.iter().take(SHOWN) {
        println!("  {rejet}");
    }
    if r.rejected.len() > SHOWN {
        println!("  … et {} autre(s) problème(s)", r.rejected.len() - SHOWN);
    }
    Ok(())
}

/// The database, opened for a bulk import, and the index of its territories.
async fn open(base: &BaseArgs) -> anyhow::Result<(relais_store::Db, TerritoryIndex)> {
    let db = crate::run::open_bulk(&Config::of_base(base)?).await?;
    let index = TerritoryIndex::build(relais_store::territoires::load_all(&db).await?);
    Ok((db, index))
}

/// Shows on a terminal the lieux of `name` stored so far, out of those read.
fn progress(name: &str, tty: bool) -> impl FnMut(usize, usize) + '_ {
    move |done, read| {
        if tty {
            eprint!("\r{name} : {done}/{read} lieux enregistrés");
            let _ = std::io::stderr().flush();
        }
    }
}

/// The report in French: counts, notes, every rejected row (up to [`SHOWN`]), warnings counted.
pub fn describe(file: &str, r: &ImportReport) -> String {
    let version = match r.version {
        Some(relais_domain::lieux::SchemaVersion::V0_1) => "schéma v0.1, converti en v1",
        _ => "schéma v1",
    };
    let mut out = format!(
        "{file} (source « {} », {version}) : {} ligne(s) lue(s), {} gardée(s) ({} nouvelle(s), {} modifiée(s), {} inchangée(s)), {} rejetée(s), {} avertissement(s), {} placée(s) à la mairie faute de coordonnées ; {} fusionnée(s) avec une autre fiche, {} paire(s) à revoir (relais lieux revue)\n",
        r.source,
        r.read,
        r.kept(),
        r.created,
        r.updated,
        r.unchanged,
        r.rejected_rows(),
        r.warnings.len(),
        r.approximate,
        r.merged,
        r.review
    );
    for note in &r.notes {
        out.push_str(&format!("  note : {note}\n"));
    }
    for row in r.rejected_by_row().take(SHOWN) {
        let why: Vec<String> = row.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "  ligne {} rejetée : {}\n",
            row[0].line,
            why.join(" ; ")
        ));
    }
    if r.rejected_rows() > SHOWN {
        out.push_str(&format!(
            "  … et {} autre(s) ligne(s) rejetée(s)\n",
            r.rejected_rows() - SHOWN
        ));
    }
    for (line, what) in r.warnings.iter().take(SHOWN) {
        out.push_str(&format!("  ligne {line} : {what}\n"));
    }
    if r.warnings.len() > SHOWN {
        out.push_str(&format!(
            "  … et {} autre(s) avertissement(s)\n",
            r.warnings.len() - SHOWN
        ));
    }
    out
}
