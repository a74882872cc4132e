//! `relais lieux …`: the cross-source merge of lieux, for the people who check it: the
//! pairs left to review, and their decisions (« distincts », « identiques »).

use std::io::Write;

use clap::Subcommand;
use relais_services::lieux::fusion::{self, Outcome, Verdict};
use relais_services::lieux::import::lieu_id;

use crate::config::{Config, GlobalArgs, ServeArgs};

#[derive(Subcommand)]
pub enum LieuxCommand {
    /// List the pairs of lieux the merge could not decide, highest score first.
    Revue,
    /// Decide that two lieux are not the same place: they are never merged, whatever
    /// later imports say.
    ///
    /// An id is a record's own (as `revue` shows it, even once merged into another lieu):
    /// the decision is about that record; an id that is no record's own is about all the
    /// records of that lieu.
    Distincts { a: String, b: String },
    /// Decide that two lieux are the same place: they are merged, whatever the scores.
    Identiques { a: String, b: String },
    /// Merge every commune again from the records (after a change of rules).
    Fusionner,
}

pub async fn run(global: &GlobalArgs, command: &LieuxCommand) -> anyhow::Result<()> {
    let config = Config::resolve(global, &ServeArgs::default())?;
    let db = crate::run::open_bulk(&config).await?;
    let result = match command {
        LieuxCommand::Revue => revue(&db).await,
        LieuxCommand::Distincts { a, b } => decide(&db, a, b, Verdict::Distinct).await,
        LieuxCommand::Identiques { a, b } => decide(&db, a, b, Verdict::Same).await,
        LieuxCommand::Fusionner => fusion::refresh_all(&db)
            .await
            .map(|o| println!("{}", outcome(&o)))
            .map_err(Into::into),
    };
    db.close().await;
    result
}

async fn revue(db: &relais_store::Db) -> anyhow::Result<()> {
    let pairs = fusion::review(db).await?;
    let mut out = String::new();
    if pairs.is_empty() {
        out.push_str("Aucune paire à revoir.\n");
    } else {
        out.push_str(&format!("{} paire(s) à revoir :\n", pairs.len()));
    }
    // Each record by its own id (the id of the lieu it made on import): a decision on it
    // is a decision on that record, even once merged into another lieu.
    let side = |lieu: &str, source: &str, external: &str, data: &str| {
        let own = lieu_id(source, external);
        let merged = if own == lieu {
            String::new()
        } else {
            format!(" (fusionnée dans {lieu})")
        };
        format!("{own} [{source}] {}{merged}", fusion::summary(data))
    };
    for p in &pairs {
        out.push_str(&format!(
            "\nscore {:.1} (commune {}) : {}\n  {}\n  {}\n",
            p.score,
            p.code_insee,
            p.details,
            side(&p.lieu_a, &p.source_a, &p.external_a, &p.data_a),
            side(&p.lieu_b, &p.source_b, &p.external_b, &p.data_b),
        ));
    }
    if !pairs.is_empty() {
        out.push_str(
            "\nDécider : relais lieux distincts ID1 ID2, ou relais lieux identiques ID1 ID2\n",
        );
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(())
}

async fn decide(db: &relais_store::Db, a: &str, b: &str, verdict: Verdict) -> anyhow::Result<()> {
    let o = fusion::decide(db, a, b, verdict).await?;
    let what = match verdict {
        Verdict::Distinct => "distincts : ils ne seront plus fusionnés",
        Verdict::Same => "identiques : ils sont fusionnés",
    };
    println!("{a} et {b} notés {what}. {}", outcome(&o));
    Ok(())
}

fn outcome(o: &Outcome) -> String {
    format!(
        "Fusion refaite : {} paire(s) fusionnée(s), {} à revoir, {} lieu(x) réunissant plusieurs sources, {} lieu(x) réécrit(s), {} absorbé(s).",
        o.same_pairs, o.review_pairs, o.merged_lieux, o.written, o.absorbed
    )
}
