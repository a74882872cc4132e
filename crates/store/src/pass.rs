//! Pass numérique: programmes with their funders and territory, qualifications, booklets
//! and passes, their distribution, and the ledger of passes used.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::duplicate_as;
use crate::{Backend, Db, StoreError, Tx};
use relais_domain::comptes::Siret;
use relais_domain::ids::{
    CarnetId, DiagnosticId, LieuId, PassId, PersonId, ProgrammeId, QualificationId, StructureId,
};
use relais_domain::pass::entonnoir::SuiviPass;
use relais_domain::pass::programme::{Financeur, NiveauTerritoire, Public, Reglages, ServicePass};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} inconnu « {value} »"))
}

/// The services of a programme, as written by [`codes`].
fn services<C: FromIterator<ServicePass>>(raw: &str) -> Result<C, StoreError> {
    raw.split_whitespace()
        .map(|s| ServicePass::parse(s).ok_or_else(|| corrupt("service", s)))
        .collect()
}

fn codes<T: Copy>(values: impl IntoIterator<Item = T>, wire: impl Fn(T) -> &'static str) -> String {
    values.into_iter().map(wire).collect::<Vec<_>>().join(" ")
}

/// A programme with its funders and territory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub id: ProgrammeId,
    /// The structure that runs it.
    pub structure: StructureId,
    pub reglages: Reglages,
    pub created_at: i64,
}

/// Writes a programme, its funders and its territory.
pub async fn create_programme(
    tx: &mut Tx,
    structure: StructureId,
    r: &Reglages,
    by: PersonId,
    now: i64,
) -> Result<ProgrammeId, StoreError> {
    let id: i64 = statement!(
        "INSERT INTO programmes_pass (structure_id, nom, valeur_centimes, taille_carnet, \
         budget_centimes, achat_minimum_centimes, dernier_jour, grace_jours, publics, services, \
         cree_par, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         RETURNING id",
        structure.0,
        &r.nom,
        r.valeur_centimes,
        r.taille_carnet,
        r.budget_centimes,
        r.achat_minimum_centimes,
        r.dernier_jour,
        r.grace_jours,
        codes(r.publics.iter().copied(), Public::as_str),
        codes(r.services.iter().copied(), ServicePass::as_str),
        by.0,
        now
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    for (rang, f) in r.financeurs.iter().enumerate() {
        statement!(
            "INSERT INTO programme_financeurs (programme_id, rang, nom, siret, part, iban, bic) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            id,
            rang as i64,
            &f.nom,
            f.siret.as_str(),
            i64::from(f.part),
            &f.iban,
            &f.bic
        )
        .execute(&mut **tx)
        .await?;
    }
    for (niveau, code) in &r.territoires {
        statement!(
            "INSERT INTO programme_territoires (programme_id, niveau, code) VALUES ($1, $2, $3)",
            id,
            niveau.as_str(),
            code
        )
        .execute(&mut **tx)
        .await
        .map_err(duplicate_as("territoire"))?;
    }
    Ok(ProgrammeId(id))
}

/// The programme `id`, with its funders in their order and its territory.
pub async fn programme(db: &Db, id: ProgrammeId) -> Result<Option<Programme>, StoreError> {
    let Some(r) = statement!(
        "SELECT structure_id, nom, valeur_centimes, taille_carnet, budget_centimes, \
         achat_minimum_centimes, dernier_jour, grace_jours, publics, services, created_at \
         FROM programmes_pass WHERE id = $1",
        id.0
    )
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let mut financeurs = Vec::new();
    for f in statement!(
        "SELECT nom, siret, part, iban, bic FROM programme_financeurs WHERE programme_id = $1 \
         ORDER BY rang",
        id.0
    )
    .fetch_all(db.pool())
    .await?
    {
        let siret: String = f.get(1);
        financeurs.push(Financeur {
            nom: f.get(0),
            siret: Siret::parse(&siret).map_err(|_| corrupt("SIRET", &siret))?,
            part: u32::try_from(f.get::<i64, _>(2)).map_err(|_| corrupt("part", "négative"))?,
            iban: f.get(3),
            bic: f.get(4),
        });
    }
    let territoires = territoires(db, id).await?;
    let publics = r
        .get::<String, _>(8)
        .split_whitespace()
        .map(|p| Public::parse(p).ok_or_else(|| corrupt("public", p)))
        .collect::<Result<_, _>>()?;
    let services = services(&r.get::<String, _>(9))?;
    Ok(Some(Programme {
        id,
        structure: StructureId(r.get(0)),
        reglages: Reglages {
            nom: r.get(1),
            financeurs,
            valeur_centimes: r.get(2),
            taille_carnet: r.get(3),
            budget_centimes: r.get(4),
            achat_minimum_centimes: r.get(5),
            dernier_jour: r.get(6),
            grace_jours: r.get(7),
            territoires,
            publics,
            services,
        },
        created_at: r.get(10),
    }))
}

/// The territory of programme `id`.
pub async fn territoires(
    db: &Db,
    id: ProgrammeId,
) -> Result<Vec<(NiveauTerritoire, String)>, StoreError> {
    statement!(
        "SELECT niveau, code FROM programme_territoires WHERE programme_id = $1 \
         ORDER BY niveau, code",
        id.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|t| {
        let niveau: String = t.get(0);
        Ok((
            NiveauTerritoire::parse(&niveau).ok_or_else(|| corrupt("niveau", &niveau))?,
            t.get(1),
        ))
    })
    .collect()
}

/// The programmes a structure runs: (id, name), newest first.
pub async fn programmes_of(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(ProgrammeId, String)>, StoreError> {
    Ok(statement!(
        "SELECT id, nom FROM programmes_pass WHERE structure_id = $1 ORDER BY id DESC",
        structure.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (ProgrammeId(r.get(0)), r.get(1)))
    .collect())
}

// --- qualifications ----------------------------------------------------------------------

/// The stages of a qualification.
pub const DEMANDEE: &str = "demandee";
pub const ACCEPTEE: &str = "acceptee";
pub const REFUSEE: &str = "refusee";

/// A structure's application to a programme, as its owner decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub id: QualificationId,
    pub programme: ProgrammeId,
    pub structure: StructureId,
    pub structure_nom: String,
    pub structure_siret: String,
    pub titulaire: String,
    pub iban: String,
    pub bic: String,
    pub services: String,
    /// [`DEMANDEE`], [`ACCEPTEE`] or [`REFUSEE`].
    pub statut: String,
    pub demandee_le: i64,
    pub motif: String,
}

/// The application of `structure` to `programme`: `Duplicate("qualification")` if it
/// applied already.
#[allow(clippy::too_many_arguments)]
pub async fn create_qualification(
    tx: &mut Tx,
    programme: ProgrammeId,
    structure: StructureId,
    titulaire: &str,
    iban: &str,
    bic: &str,
    services: &[ServicePass],
    by: PersonId,
    now: i64,
) -> Result<QualificationId, StoreError> {
    let id: i64 = statement!(
        "INSERT INTO qualifications_pass (programme_id, structure_id, titulaire, iban, bic, \
         services, statut, demandee_par, demandee_le, motif) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '') RETURNING id",
        programme.0,
        structure.0,
        titulaire,
        iban,
        bic,
        codes(services.iter().copied(), ServicePass::as_str),
        DEMANDEE,
        by.0,
        now
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(duplicate_as("qualification"))?
    .get(0);
    Ok(QualificationId(id))
}

/// Decides an application still waiting: `false` if it was decided already.
pub async fn decide_qualification(
    tx: &mut Tx,
    id: QualificationId,
    statut: &str,
    motif: &str,
    by: PersonId,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(statement!(
        "UPDATE qualifications_pass SET statut = $2, motif = $3, decidee_par = $4, \
         decidee_le = $5 WHERE id = $1 AND statut = $6",
        id.0,
        statut,
        motif,
        by.0,
        now,
        DEMANDEE
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

const QUALIFICATION: &str = "SELECT q.id, q.programme_id, q.structure_id, s.nom, s.siret, \
     q.titulaire, q.iban, q.bic, q.services, q.statut, q.demandee_le, q.motif \
     FROM qualifications_pass q JOIN structures s ON s.id = q.structure_id";

fn qualification_from(r: &AnyRow) -> Qualification {
    Qualification {
        id: QualificationId(r.get(0)),
        programme: ProgrammeId(r.get(1)),
        structure: StructureId(r.get(2)),
        structure_nom: r.get(3),
        structure_siret: r.get(4),
        titulaire: r.get(5),
        iban: r.get(6),
        bic: r.get(7),
        services: r.get(8),
        statut: r.get(9),
        demandee_le: r.get(10),
        motif: r.get(11),
    }
}

pub async fn qualification(
    db: &Db,
    id: QualificationId,
) -> Result<Option<Qualification>, StoreError> {
    let sql = format!("{QUALIFICATION} WHERE q.id = $1");
    Ok(statement!(&sql, id.0)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(qualification_from))
}

/// The applications to `programme`, waiting ones first.
pub async fn qualifications_of(
    db: &Db,
    programme: ProgrammeId,
) -> Result<Vec<Qualification>, StoreError> {
    let sql = format!(
        "{QUALIFICATION} WHERE q.programme_id = $1 \
         ORDER BY CASE WHEN q.statut = 'demandee' THEN 0 ELSE 1 END, q.id"
    );
    Ok(statement!(&sql, programme.0)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(qualification_from)
        .collect())
}

// --- booklets and passes ---------------------------------------------------------------

/// Writes booklets numbered after the programme's last one, each with its passes' codes
/// (`carnets[i]`: the codes of booklet i), given to `structure` to hand out. Their numbers.
pub async fn issue_carnets(
    tx: &mut Tx,
    programme: ProgrammeId,
    structure: Option<StructureId>,
    carnets: &[Vec<String>],
    valeur_centimes: i64,
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let last: i64 = statement!(
        "SELECT COALESCE(MAX(numero), 0) FROM carnets WHERE programme_id = $1",
        programme.0
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    let numeros: Vec<i64> = (0..carnets.len() as i64).map(|i| last + 1 + i).collect();
    // Many rows a statement: 1,000 booklets of 10 are 12 statements, not 11,000.
    let mut ids = std::collections::HashMap::with_capacity(carnets.len());
    for chunk in numeros.chunks(1_000) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, $2, $3)", i + 4))
            .collect();
        let sql = format!(
            "INSERT INTO carnets (programme_id, numero, structure_id, emis_le) VALUES {} \
             RETURNING id, numero",
            rows.join(", ")
        );
        let mut q = statement!(&sql, programme.0, structure.map(|s| s.0), now);
        for numero in chunk {
            q = q.bind(*numero);
        }
        for r in q.fetch_all(&mut **tx).await? {
            ids.insert(r.get::<i64, _>(1), r.get::<i64, _>(0));
        }
    }
    let passes: Vec<(i64, &String)> = numeros
        .iter()
        .zip(carnets)
        .flat_map(|(numero, codes)| codes.iter().map(|c| (ids[numero], c)))
        .collect();
    for chunk in passes.chunks(1_000) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1, ${}, $2)", 2 * i + 3, 2 * i + 4))
            .collect();
        let sql = format!(
            "INSERT INTO pass (carnet_id, programme_id, code, valeur_centimes) VALUES {}",
            rows.join(", ")
        );
        let mut q = statement!(&sql, programme.0, valeur_centimes);
        for (carnet, code) in chunk {
            q = q.bind(*carnet).bind(*code);
        }
        q.execute(&mut **tx).await.map_err(duplicate_as("code"))?;
    }
    Ok(numeros)
}

/// A booklet: its passes' codes in order, whom it was given to hand out, and whether it
/// was handed to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carnet {
    pub id: CarnetId,
    pub programme: ProgrammeId,
    pub numero: i64,
    pub structure: Option<StructureId>,
    pub codes: Vec<String>,
    pub remis_le: Option<i64>,
}

/// Booklet `numero` of `programme`.
pub async fn carnet(
    db: &Db,
    programme: ProgrammeId,
    numero: i64,
) -> Result<Option<Carnet>, StoreError> {
    let Some(r) = statement!(
        "SELECT c.id, c.structure_id, r.remis_le FROM carnets c \
         LEFT JOIN remises_pass r ON r.carnet_id = c.id \
         WHERE c.programme_id = $1 AND c.numero = $2",
        programme.0,
        numero
    )
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let id: i64 = r.get(0);
    let codes = statement!("SELECT code FROM pass WHERE carnet_id = $1 ORDER BY id", id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|c| c.get(0))
        .collect();
    Ok(Some(Carnet {
        id: CarnetId(id),
        programme,
        numero,
        structure: r.get::<Option<i64>, _>(1).map(StructureId),
        codes,
        remis_le: r.get(2),
    }))
}

/// A booklet handed to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remise {
    pub carnet: CarnetId,
    pub prescripteur: PersonId,
    pub structure: StructureId,
    pub tranche_age: String,
    pub commune: String,
    pub situation: String,
    pub orientation: Vec<LieuId>,
    /// The diagnostic whose result screen it was handed from.
    pub diagnostic: Option<DiagnosticId>,
    pub remis_le: i64,
}

/// Records the handing of a booklet: `false` if it was handed already.
pub async fn hand_out(tx: &mut Tx, r: &Remise) -> Result<bool, StoreError> {
    let orientation = r
        .orientation
        .iter()
        .map(LieuId::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(statement!(
        "INSERT INTO remises_pass (carnet_id, prescripteur_id, structure_id, tranche_age, \
         commune, situation, orientation, remis_le, diagnostic_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        r.carnet.0,
        r.prescripteur.0,
        r.structure.0,
        &r.tranche_age,
        &r.commune,
        &r.situation,
        orientation,
        r.remis_le,
        r.diagnostic.map(|d| d.0)
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

// --- use ---------------------------------------------------------------------------------

/// A pass as a structure presenting it sees it, read in one statement: its programme's
/// validity and territory, whether the structure is qualified, and its use if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassVu {
    pub id: PassId,
    pub programme: ProgrammeId,
    pub programme_nom: String,
    pub valeur_centimes: i64,
    pub dernier_jour: i64,
    pub grace_jours: i64,
    pub territoires: Vec<(NiveauTerritoire, String)>,
    /// What the programme's passes pay for.
    pub services: Vec<ServicePass>,
    pub qualifiee: bool,
    /// Where it is presented: the lieu's commune, else the structure's (INSEE code).
    pub commune: Option<String>,
    pub usage: Option<Usage>,
}

/// A use of a pass, as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub cle: String,
    pub structure: StructureId,
    /// The structure's name.
    pub ou: String,
    pub lieu: Option<LieuId>,
    pub service: String,
    pub utilise_le: i64,
}

/// The pass of `code` seen from `structure`, presented at `lieu` if named.
pub async fn pass_vu(
    db: &Db,
    code: &str,
    structure: StructureId,
    lieu: Option<&LieuId>,
) -> Result<Option<PassVu>, StoreError> {
    Ok(lecture(db, code, structure, lieu, ["", ""], i64::MAX)
        .await?
        .pass)
}

/// What a counter reads for each code typed, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lecture {
    /// The hits of the two rate-limit buckets asked for.
    pub essais: [i64; 2],
    /// The lieu named is not one of the structure's.
    pub lieu_ailleurs: bool,
    pub pass: Option<PassVu>,
}

/// [`pass_vu`], whether the lieu is the structure's, and in the same statement the hits
/// of two rate-limit `buckets` in windows started after `depuis` (as
/// [`crate::sessions::hits`] counts one).
pub async fn lecture(
    db: &Db,
    code: &str,
    structure: StructureId,
    lieu: Option<&LieuId>,
    buckets: [&str; 2],
    depuis: i64,
) -> Result<Lecture, StoreError> {
    let aggregate = match db.backend() {
        Backend::Postgres => "string_agg(t.niveau || ':' || t.code, ' ')",
        Backend::Sqlite => "group_concat(t.niveau || ':' || t.code, ' ')",
    };
    let sql = format!(
        "SELECT \
         (SELECT CAST(COALESCE(MAX(hits), 0) AS BIGINT) FROM rate_limits \
           WHERE bucket = $5 AND window_start > $7), \
         (SELECT CAST(COALESCE(MAX(hits), 0) AS BIGINT) FROM rate_limits \
           WHERE bucket = $6 AND window_start > $7), \
         p.id, p.programme_id, g.nom, p.valeur_centimes, g.dernier_jour, g.grace_jours, \
         (SELECT {aggregate} FROM programme_territoires t WHERE t.programme_id = p.programme_id), \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM qualifications_pass q \
           WHERE q.programme_id = p.programme_id AND q.structure_id = $2 AND q.statut = $3) \
           THEN 1 ELSE 0 END AS BIGINT), \
         u.cle, u.structure_id, s.nom, u.lieu_id, u.service, u.utilise_le, \
         COALESCE((SELECT code_insee FROM lieux WHERE id = $4), \
           (SELECT commune FROM structures WHERE id = $2)), g.services, \
         CAST(CASE WHEN $4 IS NULL OR EXISTS (SELECT 1 FROM structure_lieux sl \
           WHERE sl.lieu_id = $4 AND sl.structure_id = $2) OR EXISTS (SELECT 1 \
           FROM lieu_records r JOIN lieu_source_owners o ON o.source_id = r.source_id \
           WHERE r.lieu_id = $4 AND o.structure_id = $2) THEN 0 ELSE 1 END AS BIGINT) \
         FROM (SELECT 1 AS un) un LEFT JOIN pass p ON p.code = $1 \
         LEFT JOIN programmes_pass g ON g.id = p.programme_id \
         LEFT JOIN utilisations_pass u ON u.pass_id = p.id \
         LEFT JOIN structures s ON s.id = u.structure_id"
    );
    let r = statement!(
        &sql,
        code,
        structure.0,
        ACCEPTEE,
        lieu.map(LieuId::as_str),
        buckets[0],
        buckets[1],
        depuis
    )
    .fetch_one(db.pool())
    .await?;
    let mut lu = Lecture {
        essais: [r.get(0), r.get(1)],
        lieu_ailleurs: r.get::<i64, _>(18) == 1,
        pass: None,
    };
    if r.get::<Option<i64>, _>(2).is_none() {
        return Ok(lu);
    }
    let territoires = r
        .get::<Option<String>, _>(8)
        .unwrap_or_default()
        .split_whitespace()
        .map(|t| {
            let (niveau, code) = t.split_once(':').unwrap_or((t, ""));
            Ok((
                NiveauTerritoire::parse(niveau).ok_or_else(|| corrupt("niveau", niveau))?,
                code.to_string(),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let usage = r.get::<Option<String>, _>(10).map(|cle| Usage {
        cle,
        structure: StructureId(r.get(11)),
        ou: r.get(12),
        lieu: r.get::<Option<String>, _>(13).map(LieuId),
        service: r.get(14),
        utilise_le: r.get(15),
    });
    lu.pass = Some(PassVu {
        id: PassId(r.get(2)),
        programme: ProgrammeId(r.get(3)),
        programme_nom: r.get(4),
        valeur_centimes: r.get(5),
        dernier_jour: r.get(6),
        grace_jours: r.get(7),
        territoires,
        services: services(&r.get::<String, _>(17))?,
        qualifiee: r.get::<i64, _>(9) == 1,
        commune: r.get(16),
        usage,
    });
    Ok(lu)
}

/// How many passes `programme` has issued.
pub async fn passes_issued(tx: &mut Tx, programme: ProgrammeId) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM pass WHERE programme_id = $1",
        programme.0
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0))
}

/// Locks the programme's row until the transaction ends: two orders at once are served
/// one after the other, each seeing the budget and the numbers the other left. On SQLite
/// a transaction holds the write lock from its start: nothing to add.
pub async fn lock_programme(tx: &mut Tx, programme: ProgrammeId) -> Result<(), StoreError> {
    if tx.backend_name() != "SQLite" {
        statement!(
            "SELECT id FROM programmes_pass WHERE id = $1 FOR UPDATE",
            programme.0
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A pass of a programme as its figures need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassSuivi {
    /// Whether it was reimbursed is the services' to tell: `rembourse` is false here.
    pub suivi: SuiviPass,
    /// When its use was recorded.
    pub enregistre_le: Option<i64>,
    /// The commune of the person its booklet was handed to, as typed (INSEE code).
    pub commune: Option<String>,
}

/// Every pass of `programme`: its booklet, when that was handed out and where the person
/// lives, when it was used and recorded.
pub async fn suivi(db: &Db, programme: ProgrammeId) -> Result<Vec<PassSuivi>, StoreError> {
    Ok(statement!(
        "SELECT p.carnet_id, r.remis_le, u.utilise_le, u.enregistre_le, r.commune FROM pass p \
         LEFT JOIN remises_pass r ON r.carnet_id = p.carnet_id \
         LEFT JOIN utilisations_pass u ON u.pass_id = p.id \
         WHERE p.programme_id = $1",
        programme.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| PassSuivi {
        suivi: SuiviPass {
            carnet: r.get(0),
            remis_le: r.get(1),
            utilise_le: r.get(2),
            rembourse: false,
        },
        enregistre_le: r.get(3),
        commune: r.get(4),
    })
    .collect())
}

/// Which of `codes` exist (a typo's candidates).
pub async fn existing_codes(db: &Db, codes: &[String]) -> Result<Vec<String>, StoreError> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT code FROM pass WHERE code IN ({}) ORDER BY code",
        marks.join(", ")
    );
    let mut q = statement!(&sql);
    for code in codes {
        q = q.bind(code);
    }
    Ok(q.fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// A use to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NouvelleUtilisation {
    pub pass: PassId,
    pub cle: String,
    pub structure: StructureId,
    pub lieu: Option<LieuId>,
    pub mediateur: PersonId,
    pub service: ServicePass,
    pub utilise_le: i64,
}

/// Records a use: `true` if this call recorded it, `false` if the pass was used already or
/// the key recorded another use. One statement: of concurrent attempts, one only wins.
pub async fn redeem(db: &Db, u: &NouvelleUtilisation, now: i64) -> Result<bool, StoreError> {
    Ok(statement!(
        "INSERT INTO utilisations_pass (pass_id, cle, structure_id, lieu_id, mediateur_id, \
         service, utilise_le, enregistre_le) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT DO NOTHING",
        u.pass.0,
        &u.cle,
        u.structure.0,
        u.lieu.as_ref().map(LieuId::as_str),
        u.mediateur.0,
        u.service.as_str(),
        u.utilise_le,
        now
    )
    .execute(db.pool())
    .await?
    .rows_affected()
        == 1)
}

/// Keeps the conflict of a use accepted offline, refused because the pass was used
/// elsewhere: `true` if this call kept it, `false` if its key was kept already.
pub async fn record_conflict(
    tx: &mut Tx,
    u: &NouvelleUtilisation,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(statement!(
        "INSERT INTO conflits_pass (cle, pass_id, structure_id, lieu_id, mediateur_id, \
         service, utilise_le, signale_le) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT DO NOTHING",
        &u.cle,
        u.pass.0,
        u.structure.0,
        u.lieu.as_ref().map(LieuId::as_str),
        u.mediateur.0,
        u.service.as_str(),
        u.utilise_le,
        now
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// A pass accepted offline by one structure and used by another (or the same) in the
/// ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflit {
    pub code: String,
    pub programme: String,
    /// The structure whose device accepted it offline, its name and lieu's name.
    pub hors_ligne: (StructureId, String, Option<String>),
    pub hors_ligne_le: i64,
    /// The use the ledger holds.
    pub utilise: (StructureId, String, Option<String>),
    pub utilise_le: i64,
    pub signale_le: i64,
}

/// The conflicts `structure` is party to, on either side, the latest first.
pub async fn conflicts_of(db: &Db, structure: StructureId) -> Result<Vec<Conflit>, StoreError> {
    let nom = |alias: &str| format!("(SELECT l.data FROM lieux l WHERE l.id = {alias}.lieu_id)");
    let sql = format!(
        "SELECT p.code, g.nom, c.structure_id, sc.nom, {}, c.utilise_le, \
         u.structure_id, su.nom, {}, u.utilise_le, c.signale_le \
         FROM conflits_pass c JOIN pass p ON p.id = c.pass_id \
         JOIN programmes_pass g ON g.id = p.programme_id \
         JOIN utilisations_pass u ON u.pass_id = c.pass_id \
         JOIN structures sc ON sc.id = c.structure_id \
         JOIN structures su ON su.id = u.structure_id \
         WHERE c.structure_id = $1 OR u.structure_id = $1 \
         ORDER BY c.signale_le DESC, c.cle",
        nom("c"),
        nom("u")
    );
    let rows = statement!(&sql, structure.0).fetch_all(db.pool()).await?;
    let lieu = |data: Option<String>| {
        data.and_then(|d| {
            serde_json::from_str::<serde_json::Value>(&d)
                .ok()?
                .get("nom")?
                .as_str()
                .map(str::to_string)
        })
    };
    Ok(rows
        .iter()
        .map(|r| Conflit {
            code: r.get(0),
            programme: r.get(1),
            hors_ligne: (StructureId(r.get(2)), r.get(3), lieu(r.get(4))),
            hors_ligne_le: r.get(5),
            utilise: (StructureId(r.get(6)), r.get(7), lieu(r.get(8))),
            utilise_le: r.get(9),
            signale_le: r.get(10),
        })
        .collect())
}

/// Every programme, with the name of the structure that runs it: (id, name, runner).
pub async fn all_programmes(db: &Db) -> Result<Vec<(ProgrammeId, String, String)>, StoreError> {
    Ok(statement!(
        "SELECT g.id, g.nom, s.nom FROM programmes_pass g \
         JOIN structures s ON s.id = g.structure_id ORDER BY g.nom, g.id"
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (ProgrammeId(r.get(0)), r.get(1), r.get(2)))
    .collect())
}

/// The programmes whose passes `structure` is qualified to accept, with what they pay for.
pub async fn programmes_accepted(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(ProgrammeId, String, Vec<ServicePass>)>, StoreError> {
    statement!(
        "SELECT g.id, g.nom, g.services FROM qualifications_pass q \
         JOIN programmes_pass g ON g.id = q.programme_id \
         WHERE q.structure_id = $1 AND q.statut = $2 ORDER BY g.id",
        structure.0,
        ACCEPTEE
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let services = services(&r.get::<String, _>(2))?;
        Ok((ProgrammeId(r.get(0)), r.get(1), services))
    })
    .collect()
}

/// A structure's applications: (programme's name, status, reason of a refusal).
pub async fn qualifications_of_structure(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(ProgrammeId, String, String, String)>, StoreError> {
    Ok(statement!(
        "SELECT g.id, g.nom, q.statut, q.motif FROM qualifications_pass q \
         JOIN programmes_pass g ON g.id = q.programme_id WHERE q.structure_id = $1 \
         ORDER BY q.id",
        structure.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (ProgrammeId(r.get(0)), r.get(1), r.get(2), r.get(3)))
    .collect())
}

/// A programme's booklets: (number, name of the structure handing it out, handed on).
pub async fn carnets_of(
    db: &Db,
    programme: ProgrammeId,
) -> Result<Vec<(i64, Option<String>, Option<i64>)>, StoreError> {
    Ok(statement!(
        "SELECT c.numero, s.nom, r.remis_le FROM carnets c \
         LEFT JOIN structures s ON s.id = c.structure_id \
         LEFT JOIN remises_pass r ON r.carnet_id = c.id \
         WHERE c.programme_id = $1 ORDER BY c.numero",
        programme.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}

/// The programmes that gave booklets to `structure` to hand out: (id, name, booklets not
/// handed yet).
pub async fn programmes_entrusted(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(ProgrammeId, String, i64)>, StoreError> {
    Ok(statement!(
        "SELECT g.id, g.nom, CAST(SUM(CASE WHEN r.carnet_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM carnets c JOIN programmes_pass g ON g.id = c.programme_id \
         LEFT JOIN remises_pass r ON r.carnet_id = c.id WHERE c.structure_id = $1 \
         GROUP BY g.id, g.nom ORDER BY g.nom, g.id",
        structure.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (ProgrammeId(r.get(0)), r.get(1), r.get(2)))
    .collect())
}

/// The passes used whose use Relais recorded between `debut` and `fin` (Unix ms, `fin`
/// excluded; a use sent late from a device's queue counts when it arrives, so a month once
/// over never changes), of `structure` or of all: (structure, programme, when recorded,
/// value).
pub async fn uses_between(
    db: &Db,
    debut: i64,
    fin: i64,
    structure: Option<StructureId>,
    programme: Option<ProgrammeId>,
) -> Result<Vec<(StructureId, ProgrammeId, i64, i64)>, StoreError> {
    Ok(statement!(
        "SELECT u.structure_id, p.programme_id, u.enregistre_le, p.valeur_centimes \
         FROM utilisations_pass u JOIN pass p ON p.id = u.pass_id \
         WHERE u.enregistre_le >= $1 AND u.enregistre_le < $2 \
         AND ($3 IS NULL OR u.structure_id = $3) AND ($4 IS NULL OR p.programme_id = $4) \
         ORDER BY u.pass_id",
        debut,
        fin,
        structure.map(|s| s.0),
        programme.map(|p| p.0)
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        (
            StructureId(r.get(0)),
            ProgrammeId(r.get(1)),
            r.get(2),
            r.get(3),
        )
    })
    .collect())
}

/// How many passes of `programme` were never used.
pub async fn unused_count(db: &Db, programme: ProgrammeId) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM pass p WHERE p.programme_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM utilisations_pass u WHERE u.pass_id = p.id)",
        programme.0
    )
    .fetch_one(db.pool())
    .await?
    .get(0))
}

/// Every programme's funders' shares, in their order.
pub async fn shares(db: &Db) -> Result<BTreeMap<ProgrammeId, Vec<u32>>, StoreError> {
    let mut shares: BTreeMap<ProgrammeId, Vec<u32>> = BTreeMap::new();
    for r in statement!(
        "SELECT programme_id, part FROM programme_financeurs ORDER BY programme_id, rang"
    )
    .fetch_all(db.pool())
    .await?
    {
        let part = u32::try_from(r.get::<i64, _>(1)).map_err(|_| corrupt("part", "négative"))?;
        shares.entry(ProgrammeId(r.get(0))).or_default().push(part);
    }
    Ok(shares)
}

// --- signing keys ------------------------------------------------------------------------

/// Every key that signs the passes' tokens: (number, seed in base64url, made at), oldest
/// first.
pub async fn cles(db: &Db) -> Result<Vec<(u32, String, i64)>, StoreError> {
    statement!("SELECT numero, graine, creee_le FROM cles_pass ORDER BY numero")
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| {
            let numero = u32::try_from(r.get::<i64, _>(0)).map_err(|_| corrupt("numero", "clé"))?;
            Ok((numero, r.get(1), r.get(2)))
        })
        .collect()
}

/// Adds key `numero`: `false` if another process made that number meanwhile.
pub async fn create_cle(db: &Db, numero: u32, graine: &str, now: i64) -> Result<bool, StoreError> {
    Ok(statement!(
        "INSERT INTO cles_pass (numero, graine, creee_le) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        i64::from(numero),
        graine,
        now
    )
    .execute(db.pool())
    .await?
    .rows_affected()
        == 1)
}

/// A funder's transfers of a month, as prepared and paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirementsMois {
    pub programme: ProgrammeId,
    /// The funder's rank in the programme, from 0.
    pub financeur: i64,
    /// `AAAA-MM`.
    pub mois: String,
    pub virements: i64,
    pub total_centimes: i64,
    pub prepare_le: i64,
    /// `None`: by the monthly job.
    pub prepare_par: Option<PersonId>,
    pub paye_le: Option<i64>,
}

/// Keeps a month's transfers of a funder as prepared: `true` if this call kept them or
/// changed their totals (a month not over yet), `false` if they were kept as they are.
pub async fn record_transfers(tx: &mut Tx, v: &VirementsMois) -> Result<bool, StoreError> {
    Ok(statement!(
        "INSERT INTO virements_pass (programme_id, financeur, mois, virements, total_centimes, \
         prepare_le, prepare_par) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (programme_id, financeur, mois) DO UPDATE SET \
         virements = excluded.virements, total_centimes = excluded.total_centimes, \
         prepare_le = excluded.prepare_le, prepare_par = excluded.prepare_par \
         WHERE virements_pass.paye_le IS NULL AND virements_pass.total_centimes <> excluded.total_centimes",
        v.programme.0,
        v.financeur,
        &v.mois,
        v.virements,
        v.total_centimes,
        v.prepare_le,
        v.prepare_par.map(|p| p.0)
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Marks a month's transfers of a funder paid: `false` if they were not prepared or were
/// marked paid already.
pub async fn mark_paid(
    tx: &mut Tx,
    programme: ProgrammeId,
    financeur: i64,
    mois: &str,
    par: PersonId,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(statement!(
        "UPDATE virements_pass SET paye_le = $4, paye_par = $5 \
         WHERE programme_id = $1 AND financeur = $2 AND mois = $3 AND paye_le IS NULL",
        programme.0,
        financeur,
        mois,
        now,
        par.0
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Every month's transfers of `programme`, the latest month first.
pub async fn transfers_of(
    db: &Db,
    programme: ProgrammeId,
) -> Result<Vec<VirementsMois>, StoreError> {
    Ok(statement!(
        "SELECT financeur, mois, virements, total_centimes, prepare_le, prepare_par, paye_le \
         FROM virements_pass WHERE programme_id = $1 ORDER BY mois DESC, financeur",
        programme.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| VirementsMois {
        programme,
        financeur: r.get(0),
        mois: r.get(1),
        virements: r.get(2),
        total_centimes: r.get(3),
        prepare_le: r.get(4),
        prepare_par: r.get::<Option<i64>, _>(5).map(PersonId),
        paye_le: r.get(6),
    })
    .collect())
}

/// A programme's end as the daily job found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinProgramme {
    pub pass_non_utilises: i64,
    pub montant_centimes: i64,
    /// Each funder's cents, in their order.
    pub parts: Vec<i64>,
    pub constatee_le: i64,
}

/// Keeps a programme's end: `true` if this call kept it.
pub async fn record_end(
    tx: &mut Tx,
    programme: ProgrammeId,
    fin: &FinProgramme,
) -> Result<bool, StoreError> {
    let parts = fin
        .parts
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(statement!(
        "INSERT INTO fins_programme_pass (programme_id, pass_non_utilises, montant_centimes, \
         parts, constatee_le) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        programme.0,
        fin.pass_non_utilises,
        fin.montant_centimes,
        parts,
        fin.constatee_le
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// A programme's end, if the daily job found it.
pub async fn end_of(db: &Db, programme: ProgrammeId) -> Result<Option<FinProgramme>, StoreError> {
    let Some(r) = statement!(
        "SELECT pass_non_utilises, montant_centimes, parts, constatee_le \
         FROM fins_programme_pass WHERE programme_id = $1",
        programme.0
    )
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let parts = r
        .get::<String, _>(2)
        .split_whitespace()
        .map(|p| p.parse().map_err(|_| corrupt("part", p)))
        .collect::<Result<_, _>>()?;
    Ok(Some(FinProgramme {
        pass_non_utilises: r.get(0),
        montant_centimes: r.get(1),
        parts,
        constatee_le: r.get(3),
    }))
}

/// Notes that the alert `jalon` days before `programme`'s last day goes out: `true` if
/// this call noted it (it was not sent before).
pub async fn record_alert(
    tx: &mut Tx,
    programme: ProgrammeId,
    jalon: i64,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(statement!(
        "INSERT INTO alertes_pass (programme_id, jalon, envoyee_le) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        programme.0,
        jalon,
        now
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}
