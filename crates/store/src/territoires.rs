//! Territories: régions, départements, EPCI and communes.

use relais_domain::calendrier::now_ms;
use relais_domain::territoires::{
    CodeInsee, CodePostal, Commune, CommuneKind, Departement, Epci, Point, Region, Territoires,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::insert_rows;
use crate::{Db, StoreError};

const DATASET: &str = "territoires";
/// Rows per multi-row INSERT: well under both backends' limit on bound parameters.
/// The version of the territories currently loaded, if any.
pub async fn loaded_version(db: &Db) -> Result<Option<String>, StoreError> {
    Ok(statement!(
        "SELECT version FROM reference_data WHERE name = $1",
        DATASET
    )
    .fetch_optional(db.pool())
    .await?
    .map(|r| r.get(0)))
}

/// Replaces every territory in one transaction and records `version`.
pub async fn replace_all(db: &Db, t: &Territoires, version: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for table in ["communes", "epci", "departements", "regions"] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    insert_rows(&mut tx, "regions", &["code", "nom"], &t.regions, |q, r| {
        q.bind(r.code.clone()).bind(r.nom.clone())
    })
    .await?;
    insert_rows(
        &mut tx,
        "departements",
        &["code", "nom", "region"],
        &t.departements,
        |q, d| {
            q.bind(d.code.clone())
                .bind(d.nom.clone())
                .bind(d.region.clone())
        },
    )
    .await?;
    insert_rows(
        &mut tx,
        "epci",
        &["code", "nom", "kind", "population"],
        &t.epci,
        |q, e| {
            q.bind(e.code.clone())
                .bind(e.nom.clone())
                .bind(e.kind.clone())
                .bind(i64::from(e.population))
        },
    )
    .await?;
    // Parents first: arrondissements municipaux reference their commune.
    let (communes, arrondissements): (Vec<&Commune>, Vec<&Commune>) =
        t.communes.iter().partition(|c| c.commune_parent.is_none());
    for rows in [communes, arrondissements] {
        insert_rows(&mut tx, "communes", COMMUNE_COLUMNS, &rows, |q, c| {
            q.bind(c.code.as_str().to_string())
                .bind(c.nom.clone())
                .bind(c.kind.as_str())
                .bind(c.commune_parent.as_ref().map(|p| p.as_str().to_string()))
                .bind(c.departement.clone())
                .bind(c.region.clone())
                .bind(c.epci.clone())
                .bind(
                    c.codes_postaux
                        .iter()
                        .map(CodePostal::as_str)
                        .collect::<Vec<_>>()
                        .join(" "),
                )
                .bind(i64::from(c.population))
                .bind(c.position.map(|p| p.lat))
                .bind(c.position.map(|p| p.lon))
        })
        .await?;
    }
    statement!("DELETE FROM reference_data WHERE name = $1", DATASET)
        .execute(&mut *tx)
        .await?;
    statement!(
        "INSERT INTO reference_data (name, version, loaded_at) VALUES ($1, $2, $3)",
        DATASET,
        version,
        now_ms()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

const COMMUNE_COLUMNS: &[&str] = &[
    "code",
    "nom",
    "kind",
    "commune_parent",
    "departement",
    "region",
    "epci",
    "codes_postaux",
    "population",
    "lat",
    "lon",
];

pub async fn commune_exists(db: &Db, code: &str) -> Result<bool, StoreError> {
    Ok(statement!("SELECT 1 FROM communes WHERE code = $1", code)
        .fetch_optional(db.pool())
        .await?
        .is_some())
}

/// Reads every territory back, in code order.
pub async fn load_all(db: &Db) -> Result<Territoires, StoreError> {
    let pool = db.pool();
    let regions = read_all(pool, "SELECT code, nom FROM regions ORDER BY code", |r| {
        Region {
            code: r.get(0),
            nom: r.get(1),
        }
    })
    .await?;
    let departements = read_all(
        pool,
        "SELECT code, nom, region FROM departements ORDER BY code",
        |r| Departement {
            code: r.get(0),
            nom: r.get(1),
            region: r.get(2),
        },
    )
    .await?;
    let epci = read_all(
        pool,
        "SELECT code, nom, kind, population FROM epci ORDER BY code",
        |r| Epci {
            code: r.get(0),
            nom: r.get(1),
            kind: r.get(2),
            population: r.get::<i64, _>(3) as u32,
        },
    )
    .await?;
    let sql = format!(
        "SELECT {} FROM communes ORDER BY code",
        COMMUNE_COLUMNS.join(", ")
    );
    let communes = read_all(pool, &sql, commune_from_row)
        .await?
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok(Territoires {
        regions,
        departements,
        epci,
        communes,
    })
}

/// Every row `sql` selects, each read by `read`.
async fn read_all<T>(
    pool: &sqlx::AnyPool,
    sql: &str,
    read: impl Fn(&AnyRow) -> T,
) -> Result<Vec<T>, StoreError> {
    Ok(sqlx::query(sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(read)
        .collect())
}

fn commune_from_row(r: &AnyRow) -> Result<Commune, StoreError> {
    let corrupt = |what: String| StoreError::Query(sqlx::Error::Decode(what.into()));
    let code: String = r.get("code");
    let kind: String = r.get("kind");
    let parent: Option<String> = r.get("commune_parent");
    let lat: Option<f64> = r.get("lat");
    let lon: Option<f64> = r.get("lon");
    Ok(Commune {
        code: CodeInsee::parse(&code).map_err(|e| corrupt(e.to_string()))?,
        nom: r.get("nom"),
        kind: CommuneKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("type de commune {kind}")))?,
        commune_parent: parent
            .map(|p| CodeInsee::parse(&p))
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
        departement: r.get("departement"),
        region: r.get("region"),
        epci: r.get("epci"),
        codes_postaux: r
            .get::<String, _>("codes_postaux")
            .split_whitespace()
            .map(CodePostal::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt(e.to_string()))?,
        population: r.get::<i64, _>("population") as u32,
        position: lat.zip(lon).map(|(lat, lon)| Point { lat, lon }),
    })
}
