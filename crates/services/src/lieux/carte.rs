//! The national map of lieux: the groups a map draws for its view, and the lieux counted
//! per département, the map's list equivalent.

use relais_domain::ids::LieuId;
use relais_domain::territoires::Point;
use relais_search::TerritoryIndex;
use relais_search::lieux::Filter;

use super::recherche::Lieux;

/// The zoom from which lieux are drawn one by one (only those at the very same place
/// still share a mark).
pub const ZOOM_DETAIL: u8 = 15;

/// A mark of the map: one lieu, or several close together at this zoom.
#[derive(Debug, Clone, PartialEq)]
pub struct Marque {
    pub position: Point,
    pub nombre: usize,
    /// The lieu and its name, when the mark is one lieu.
    pub lieu: Option<(LieuId, String)>,
}

/// The marks of the lieux inside `bbox` (`[min_lat, min_lon, max_lat, max_lon]`) at a web
/// map's `zoom`: lieux within about 64 pixels of each other share one.
pub fn marques(lieux: &Lieux, bbox: [f64; 4], zoom: u8) -> Vec<Marque> {
    let r = lieux.get();
    // A tile is 256 px for 360° / 2^zoom: 64 px is 90° / 2^zoom.
    let cell = if zoom >= ZOOM_DETAIL {
        1e-6
    } else {
        90.0 / f64::from(1u32 << zoom)
    };
    r.index
        .grappes(bbox, &Filter::default(), cell)
        .into_iter()
        .map(|g| Marque {
            position: g.position,
            nombre: g.count,
            lieu: (g.count == 1).then(|| {
                (
                    r.index.lieu(g.lieu).id.clone(),
                    r.summaries[g.lieu].nom.clone(),
                )
            }),
        })
        .collect()
}

/// A département and how many lieux it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LieuxDuDepartement {
    pub code: String,
    pub nom: String,
    pub lieux: usize,
}

/// Every département with its number of lieux (zero included), in the order of codes.
pub fn par_departement(lieux: &Lieux, territoires: &TerritoryIndex) -> Vec<LieuxDuDepartement> {
    let r = lieux.get();
    let counts: std::collections::HashMap<&str, usize> = r.index.departement_counts().collect();
    territoires
        .territoires()
        .departements
        .iter()
        .map(|d| LieuxDuDepartement {
            code: d.code.clone(),
            nom: d.nom.clone(),
            lieux: counts.get(d.code.as_str()).copied().unwrap_or(0),
        })
        .collect()
}
