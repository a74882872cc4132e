//! `relais lieux …`: the cross-source merge of lieux, for the people who check it: the
//! pairs left to review, and their decisions (« distincts », « identiques »).

use std::io::Write;

use clap::Subcommand;
use relais_domain::ids::LieuId;
use relais_services::lieux::fusion::{self, Outcome, Verdict};
use relais_services::lieux::import::lieu_id;

use crate::config::{BaseArgs, Config};

#[derive(Subcommand)]
pub enum LieuxCommand {
    /// Lister les paires de lieux que la fusion n’a pas su trancher, meilleur score
    /// d’abord.
    Revue,
    /// Décider que deux lieux ne sont pas le même : ils ne sont jamais fusionnés, quoi que
    /// disent les imports suivants.
    ///
    /// Un identifiant est celui d’une fiche (tel que « revue » le montre, même fusionnée
    /// dans un autre lieu) : la décision porte sur cette fiche ; un identifiant qui n’est
    /// celui d’aucune fiche porte sur toutes les fiches de ce lieu.
    Distincts {
        /// Identifiant du premier lieu.
        #[arg(value_name = "ID1")]
        a: String,
        /// Identifiant du second lieu.
        #[arg(value_name = "ID2")]
        b: String,
    },
    /// Décider que deux lieux sont le même : ils sont fusionnés, quels que soient les
    /// scores.
    Identiques {
        /// Identifiant du premier lieu.
        #[arg(value_name = "ID1")]
        a: String,
        /// Identifiant du second lieu.
        #[arg(value_name = "ID2")]
        b: String,
    },
    /// Refaire la fusion de chaque commune à partir des fiches (après un changement de
    /// règles).
    Fusionner,
}

pub async fn run(base: &BaseArgs, command: &LieuxCommand) -> anyhow::Result<()> {
    let config = Config::of_base(base)?;
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
    let side = |lieu: &LieuId, source: &str, external: &str, data: &str| {
        let own = lieu_id(source, external);
        let merged = if own == *lieu {
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
    let (a, b) = (LieuId(a.to_string()), LieuId(b.to_string()));
    let o = fusion::decide(db, &a, &b, verdict).await?;
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
