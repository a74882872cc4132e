//! Loading the shipped territories, on both backends.

use relais_services::territoires::{LoadOutcome, ensure_loaded};
use relais_store::{Db, territoires};
use relais_testkit::store_tests;

store_tests!(shipped_territories_load_once);

async fn shipped_territories_load_once(db: Db) {
    assert_eq!(
        ensure_loaded(&db).await.unwrap(),
        LoadOutcome::Loaded { communes: 35_014 }
    );
    assert_eq!(
        ensure_loaded(&db).await.unwrap(),
        LoadOutcome::AlreadyLoaded
    );
    let t = territoires::load_all(&db).await.unwrap();
    assert_eq!(
        (
            t.communes.len(),
            t.epci.len(),
            t.departements.len(),
            t.regions.len()
        ),
        (35_014, 1_255, 109, 26)
    );
    let lyon = t
        .communes
        .iter()
        .find(|c| c.code.as_str() == "69123")
        .unwrap();
    assert_eq!(lyon.nom, "Lyon");
}
