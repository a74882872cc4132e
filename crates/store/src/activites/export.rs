//! The participations of an export, a page at a time in the order of their ids, with what
//! a row shows of their activity, mediator and communes.

use relais_domain::activites::statistiques::Filtres;
use relais_domain::activites::vocabulaires::{
    Autonomie, Genre, Materiel, NiveauAtelier, StatutSocial, StructureDeRedirection, Thematique,
    ThematiqueDemarche, TrancheAge, TypeActivite, TypeLieu,
};
use relais_domain::ids::{ActiviteId, BeneficiaireId, LieuId};
use sqlx::Row;

use super::{Valeur, parse, parse_set, select, where_clause};
use crate::{Db, StoreError};

/// One participation as an export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LigneExport {
    /// The participation's id: the next page starts after the last one.
    pub id: i64,
    pub activite: ActiviteId,
    /// Midnight UTC of the day, in Unix milliseconds.
    pub date: i64,
    pub type_activite: TypeActivite,
    pub duree: u32,
    pub type_lieu: TypeLieu,
    pub lieu: Option<LieuId>,
    pub commune: String,
    pub commune_nom: Option<String>,
    pub thematiques: Vec<Thematique>,
    pub demarches: Vec<ThematiqueDemarche>,
    pub materiel: Vec<Materiel>,
    pub autonomie: Option<Autonomie>,
    pub niveau: Option<NiveauAtelier>,
    pub orientation: Option<StructureDeRedirection>,
    pub titre_atelier: String,
    pub mediateur: String,
    pub beneficiaire: Option<BeneficiaireId>,
    pub premier: bool,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
    pub commune_beneficiaire: Option<String>,
    pub commune_beneficiaire_nom: Option<String>,
}

/// At most `limite` live participations matching `f` with an id above `apres`, by id.
pub async fn page(
    db: &Db,
    f: &Filtres,
    apres: i64,
    limite: i64,
) -> Result<Vec<LigneExport>, StoreError> {
    let (filter, mut values) = where_clause(f);
    values.push(Valeur::Int(apres));
    let apres_mark = values.len();
    values.push(Valeur::Int(limite));
    let sql = format!(
        "SELECT p.id, a.id, a.date, a.type_activite, a.duree, a.type_lieu, a.lieu_id, \
         a.commune, c.nom, a.thematiques, a.demarches, a.materiel, a.autonomie, a.niveau, \
         a.orientation, a.titre_atelier, m.given_name || ' ' || m.family_name, \
         p.beneficiaire_id, p.premier, p.genre, p.tranche_age, p.statut, p.commune, cb.nom \
         FROM participations p JOIN activites a ON a.id = p.activite_id \
         JOIN persons m ON m.id = a.mediateur_id \
         LEFT JOIN communes c ON c.code = a.commune \
         LEFT JOIN communes cb ON cb.code = p.commune \
         WHERE {filter} AND p.id > ${apres_mark} ORDER BY p.id LIMIT ${}",
        values.len()
    );
    select(db, &sql, &values)
        .await?
        .iter()
        .map(|r| {
            let text = |i: usize| -> String { r.get(i) };
            let maybe = |i: usize| -> Option<String> { r.get(i) };
            let list = |i: usize| -> String { r.get(i) };
            Ok(LigneExport {
                id: r.get(0),
                activite: ActiviteId(r.get(1)),
                date: r.get(2),
                type_activite: parse(&text(3), TypeActivite::parse)?,
                duree: u32::try_from(r.get::<i64, _>(4)).unwrap_or(0),
                type_lieu: parse(&text(5), TypeLieu::parse)?,
                lieu: maybe(6).map(LieuId),
                commune: text(7),
                commune_nom: maybe(8),
                thematiques: parse_set(&list(9), Thematique::parse)?
                    .into_iter()
                    .collect(),
                demarches: parse_set(&list(10), ThematiqueDemarche::parse)?
                    .into_iter()
                    .collect(),
                materiel: parse_set(&list(11), Materiel::parse)?.into_iter().collect(),
                autonomie: maybe(12).map(|v| parse(&v, Autonomie::parse)).transpose()?,
                niveau: maybe(13)
                    .map(|v| parse(&v, NiveauAtelier::parse))
                    .transpose()?,
                orientation: maybe(14)
                    .map(|v| parse(&v, StructureDeRedirection::parse))
                    .transpose()?,
                titre_atelier: text(15),
                mediateur: text(16),
                beneficiaire: r.get::<Option<i64>, _>(17).map(BeneficiaireId),
                premier: r.get::<i64, _>(18) != 0,
                genre: parse(&text(19), Genre::parse)?,
                tranche: parse(&text(20), TrancheAge::parse)?,
                statut: parse(&text(21), StatutSocial::parse)?,
                commune_beneficiaire: maybe(22),
                commune_beneficiaire_nom: maybe(23),
            })
        })
        .collect()
}
