//! The link between a person and their ProConnect subject.

use relais_domain::ids::PersonId;

use super::{Person, SELECT_PERSON, person_from, row_by};
use crate::db::duplicate_as;
use crate::{Db, StoreError, Tx};

pub async fn person_by_proconnect_sub(db: &Db, sub: &str) -> Result<Option<Person>, StoreError> {
    row_by(
        db,
        SELECT_PERSON,
        "proconnect_sub",
        sub.to_string(),
        person_from,
    )
    .await
}

/// Keeps the SIRET ProConnect gave at this login (`None`: it gave none).
pub async fn set_proconnect_siret(
    db: &Db,
    person: PersonId,
    siret: Option<&str>,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET proconnect_siret = $2 WHERE id = $1",
        person.0,
        siret
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Links a person to their ProConnect subject (first ProConnect login).
pub async fn link_proconnect(tx: &mut Tx, person: PersonId, sub: &str) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET proconnect_sub = $2 WHERE id = $1",
        person.0,
        sub
    )
    .execute(&mut **tx)
    .await
    .map_err(duplicate_as("proconnect_sub"))?;
    Ok(())
}
