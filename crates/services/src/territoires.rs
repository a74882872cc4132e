//! The territories Relais ships (`data/territoires`, COG 2026) and their loading into the store.

use relais_domain::territoires::{
    CodeInsee, CodePostal, Commune, CommuneKind, Departement, Epci, Point, Region, Territoires,
};
use relais_domain::text::search_key;
use relais_search::TerritoryIndex;
use relais_store::{Db, StoreError, territoires as repo};
use serde::Deserialize;

const COMMUNES: &str = include_str!("../../../data/territoires/communes.csv");
const EPCI: &str = include_str!("../../../data/territoires/epci.csv");
const DEPARTEMENTS: &str = include_str!("../../../data/territoires/departements.csv");
const REGIONS: &str = include_str!("../../../data/territoires/regions.csv");

/// The commune of an address without INSEE code: among the communes of its postal code
/// (four digits taken as a lost leading zero), the one of the same name (written loosely:
/// « Bohain » for Bohain-en-Vermandois, « (76) » or « Cedex » added); else the commune of
/// that name in the postal code's département (a CEDEX code, a wrong one); else, among
/// the postal code's communes, the nearest to `position`, else the only one; else the only
/// commune of that name in France.
pub fn commune_of_address<'a>(
    index: &'a TerritoryIndex,
    code_postal: &str,
    commune: &str,
    position: Option<Point>,
) -> Option<&'a Commune> {
    let code_postal = match code_postal.trim() {
        cp if cp.len() == 4 => format!("0{cp}"),
        cp => cp.to_string(),
    };
    let candidates = index.by_postal_code(&code_postal);
    let wanted = search_key(commune);
    let only = |found: Vec<&'a Commune>| match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let named = |keep: &dyn Fn(&str) -> bool| -> Option<&'a Commune> {
        only(
            candidates
                .iter()
                .copied()
                .filter(|c| keep(&search_key(&c.nom)))
                .collect(),
        )
    };
    if let Some(c) = named(&|k| k == wanted) {
        return Some(c);
    }
    let loose = loose_name(commune);
    let joined = |k: &str| k.replace(' ', "");
    if !loose.is_empty()
        && let Some(c) =
            named(&|k| joined(k) == joined(&loose) || k.starts_with(&format!("{loose} ")))
    {
        return Some(c);
    }
    // The commune of that name in the postal code's département: a name written out
    // outweighs a postal code written wrong (« PROPRIANO 20100 », Sartène's code).
    let same_name: Vec<&Commune> = if loose.is_empty() {
        Vec::new()
    } else {
        index
            .search(&loose, 50)
            .into_iter()
            .filter(|m| {
                m.kind == relais_search::MatchKind::Exact
                    && m.commune.kind != CommuneKind::ArrondissementMunicipal
            })
            .map(|m| m.commune)
            .collect()
    };
    // A postal code begins with its département's number (20 for both of Corsica's).
    let departement = |c: &&Commune| match c.departement.as_str() {
        "2A" | "2B" => code_postal.starts_with("20"),
        d => code_postal.starts_with(&d[..2.min(d.len())]),
    };
    if let Some(c) = only(same_name.iter().copied().filter(departement).collect()) {
        return Some(c);
    }
    if let Some(p) = position
        && !candidates.is_empty()
    {
        return candidates
            .iter()
            .copied()
            .filter_map(|c| Some((c, c.position?.distance_m(p))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c);
    }
    only(candidates).or_else(|| only(same_name))
}

/// A commune's name as written in addresses, folded, without what is not the name: a
/// département in brackets, « Cedex » and its number.
fn loose_name(commune: &str) -> String {
    let without_brackets: String = commune.split('(').next().unwrap_or_default().to_string();
    search_key(&without_brackets)
        .split(' ')
        .filter(|w| *w != "cedex" && !w.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, thiserror::Error)]
pub enum TerritoiresError {
    #[error("{file}, ligne {line} : {reason}")]
    Row {
        file: &'static str,
        line: u64,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`ensure_loaded`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    AlreadyLoaded,
    Loaded { communes: usize },
}

/// A fingerprint of the shipped files: a new release with new data reloads them.
pub fn shipped_version() -> String {
    // FNV-1a, enough to tell two data releases apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for file in [COMMUNES, EPCI, DEPARTEMENTS, REGIONS] {
        for b in file.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("cog2026-{h:016x}")
}

/// Loads the shipped territories into the store unless this version is there already.
pub async fn ensure_loaded(db: &Db) -> Result<LoadOutcome, TerritoiresError> {
    let version = shipped_version();
    if repo::loaded_version(db).await?.as_deref() == Some(version.as_str()) {
        return Ok(LoadOutcome::AlreadyLoaded);
    }
    let territoires = parse_shipped()?;
    repo::replace_all(db, &territoires, &version).await?;
    tracing::info!(communes = territoires.communes.len(), %version, "territoires chargés");
    Ok(LoadOutcome::Loaded {
        communes: territoires.communes.len(),
    })
}

/// Parses the four shipped CSV files.
pub fn parse_shipped() -> Result<Territoires, TerritoiresError> {
    Ok(Territoires {
        regions: parse("regions.csv", REGIONS, |r: RegionRow| {
            Ok(Region {
                code: r.code,
                nom: r.nom,
            })
        })?,
        departements: parse("departements.csv", DEPARTEMENTS, |r: DepartementRow| {
            Ok(Departement {
                code: r.code,
                nom: r.nom,
                region: r.region,
            })
        })?,
        epci: parse("epci.csv", EPCI, |r: EpciRow| {
            Ok(Epci {
                code: r.code,
                nom: r.nom,
                kind: r.r#type,
                population: r.population,
            })
        })?,
        communes: parse("communes.csv", COMMUNES, commune)?,
    })
}

fn parse<R: for<'de> Deserialize<'de>, T>(
    file: &'static str,
    text: &str,
    convert: impl Fn(R) -> Result<T, String>,
) -> Result<Vec<T>, TerritoiresError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.deserialize::<R>() {
        let fail = |line: Option<u64>, reason: String| TerritoiresError::Row {
            file,
            line: line.unwrap_or(0),
            reason,
        };
        match record {
            Ok(row) => {
                out.push(convert(row).map_err(|reason| fail(Some(out.len() as u64 + 2), reason))?);
            }
            Err(e) => return Err(fail(e.position().map(csv::Position::line), e.to_string())),
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct RegionRow {
    code: String,
    nom: String,
}

#[derive(Deserialize)]
struct DepartementRow {
    code: String,
    nom: String,
    region: String,
}

#[derive(Deserialize)]
struct EpciRow {
    code: String,
    nom: String,
    r#type: String,
    population: u32,
}

#[derive(Deserialize)]
struct CommuneRow {
    code: String,
    nom: String,
    r#type: String,
    commune_parent: String,
    departement: String,
    region: String,
    epci: String,
    codes_postaux: String,
    population: Option<u32>,
    lat: Option<f64>,
    lon: Option<f64>,
}

fn commune(r: CommuneRow) -> Result<Commune, String> {
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    Ok(Commune {
        code: CodeInsee::parse(&r.code).map_err(|e| format!("champ code : {e}"))?,
        kind: CommuneKind::parse(&r.r#type)
            .ok_or_else(|| format!("champ type : « {} » inconnu", r.r#type))?,
        commune_parent: non_empty(r.commune_parent)
            .map(|p| CodeInsee::parse(&p))
            .transpose()
            .map_err(|e| format!("champ commune_parent : {e}"))?,
        codes_postaux: r
            .codes_postaux
            .split_whitespace()
            .map(CodePostal::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("champ codes_postaux : {e}"))?,
        position: r.lat.zip(r.lon).map(|(lat, lon)| Point { lat, lon }),
        nom: r.nom,
        departement: r.departement,
        region: r.region,
        epci: non_empty(r.epci),
        population: r.population.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_parse() {
        let t = parse_shipped().unwrap();
        assert_eq!(t.communes.len(), 35_014);
        assert_eq!(t.epci.len(), 1_255);
        assert_eq!(t.departements.len(), 109);
        assert_eq!(t.regions.len(), 26);
        let arrondissements = t
            .communes
            .iter()
            .filter(|c| c.kind == CommuneKind::ArrondissementMunicipal)
            .count();
        assert_eq!(arrondissements, 45);
        assert_eq!(
            t.communes.iter().filter(|c| c.position.is_none()).count(),
            98
        );
    }
}
