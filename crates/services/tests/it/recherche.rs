//! The search is rebuilt when the stored lieux change: on demand (`refresh`), when the
//! store's signature moved (`refresh_if_changed`: an import by another process), and by
//! the periodic check `serve` runs (`watch`).

use std::sync::Arc;
use std::time::Duration;

use crate::index;
use relais_domain::territoires::Point;
use relais_search::TerritoryIndex;
use relais_search::lieux::Filter;
use relais_services::lieux::import::{import_bytes, lieu_id};
use relais_services::lieux::recherche::{self, Lieux};
use relais_store::Db;
use relais_testkit::store_tests;

store_tests!(
    a_lieu_imported_after_start_is_found_after_a_refresh,
    the_periodic_check_picks_up_an_import
);

const FIRST: &str = "id,nom,commune,code_postal,adresse,date_maj,latitude,longitude\n\
    a1,Médiathèque Tarentaize,Saint-Étienne,42000,20 rue Jo Gouttebarge,2024-06-01,45.4410,4.3830\n";
const LATER: &str = "id,nom,commune,code_postal,adresse,date_maj,latitude,longitude\n\
    b1,Espace numérique du Soleil,Saint-Étienne,42000,1 place du Soleil,2024-06-01,45.4480,4.4010\n";

async fn import(db: &Db, source: &str, csv: &str) {
    let report = import_bytes(db, index(), source, csv.as_bytes(), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.kept(), 1, "{report:?}");
}

fn found(lieux: &Lieux) -> Vec<relais_domain::ids::LieuId> {
    let r = lieux.get();
    r.index
        .nearest(
            Point {
                lat: 45.44,
                lon: 4.39,
            },
            10,
            &Filter::default(),
        )
        .into_iter()
        .map(|(i, _)| r.index.lieu(i).id.clone())
        .collect()
}

async fn a_lieu_imported_after_start_is_found_after_a_refresh(db: Db) {
    import(&db, "premier", FIRST).await;
    let lieux = Lieux::load(&db, index()).await.unwrap();
    assert_eq!(found(&lieux), [lieu_id("premier", "a1")]);
    // Nothing changed: no rebuild.
    assert!(
        !recherche::refresh_if_changed(&db, index(), &lieux)
            .await
            .unwrap()
    );

    // As `relais import` would, in another process: only the store knows.
    import(&db, "second", LATER).await;
    let before = lieux.get();
    assert_eq!(found(&lieux).len(), 1);
    assert!(
        recherche::refresh_if_changed(&db, index(), &lieux)
            .await
            .unwrap()
    );
    let mut ids = found(&lieux);
    ids.sort();
    let mut expected = vec![lieu_id("premier", "a1"), lieu_id("second", "b1")];
    expected.sort();
    assert_eq!(ids, expected);
    // A request that started before keeps the search it had.
    assert_eq!(before.index.len(), 1);
    assert!(
        !recherche::refresh_if_changed(&db, index(), &lieux)
            .await
            .unwrap()
    );

    // In process, the rebuild is asked for.
    recherche::refresh(&db, index(), &lieux).await.unwrap();
    assert_eq!(lieux.get().index.len(), 2);
    assert_eq!(lieux.get().summaries.len(), 2);
}

async fn the_periodic_check_picks_up_an_import(db: Db) {
    import(&db, "premier", FIRST).await;
    let lieux = Arc::new(Lieux::load(&db, index()).await.unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(recherche::watch(
        db.clone(),
        Arc::new(TerritoryIndex::build(
            relais_services::territoires::parse_shipped().unwrap(),
        )),
        lieux.clone(),
        Duration::from_millis(50),
        stopped,
    ));
    import(&db, "second", LATER).await;
    let mut waited = Duration::ZERO;
    while found(&lieux).len() < 2 {
        assert!(waited < Duration::from_secs(10), "pas reconstruit");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("la vérification s’arrête")
        .unwrap();
}
