//! `relais journal …`: the audit trail, for operators.

use anyhow::bail;
use clap::Subcommand;
use relais_domain::journal::Verification;

use crate::config::{Config, GlobalArgs, ServeArgs};

#[derive(Subcommand)]
pub enum JournalCommand {
    /// Walk the whole journal and check its hash chain; fails on the first broken entry.
    Verify,
}

pub async fn run(global: &GlobalArgs, command: &JournalCommand) -> anyhow::Result<()> {
    match command {
        JournalCommand::Verify => verify(global).await,
    }
}

async fn verify(global: &GlobalArgs) -> anyhow::Result<()> {
    let config = Config::resolve(global, &ServeArgs::default())?;
    let db = crate::run::open(&config).await?;
    let verification = relais_store::journal::verify(&db).await;
    db.close().await;
    match verification? {
        intact @ Verification::Intact { .. } => {
            println!("{intact}");
            Ok(())
        }
        broken => bail!("{broken}"),
    }
}
