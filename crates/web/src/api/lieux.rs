//! `GET /api/v1/lieux`: the lieux nearest a point, those of a territory or of a bounding
//! box (map tiles) page by page, with the schema's filters; in JSON or GeoJSON. Described
//! in `openapi.json`, served at `GET /api/v1/openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use relais_domain::horaires::LocalTime;
use relais_domain::lieux::{
    Dispositif, FormationLabel, Frais, ModaliteAcces, ModaliteAccompagnement, PriseEnCharge,
    Public, Service, Vocabulary,
};
use relais_domain::territoires::{CodeInsee, Point};
use relais_search::lieux::{Filter, Territory};
use relais_services::lieux::recherche::{RechercheError, Requete, Zone, recherche};
use serde::{Deserialize, Serialize};

use super::ApiQuery;
use crate::{ApiError, AppState};

/// The query string. Every field must be in `openapi.json` (a test checks). An unknown
/// parameter is refused, as the document says: a misspelt filter must not widen the search.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    lat: Option<f64>,
    lon: Option<f64>,
    commune: Option<String>,
    epci: Option<String>,
    departement: Option<String>,
    /// `minlon,minlat,maxlon,maxlat` (degrees, WGS 84).
    bbox: Option<String>,
    /// Values of the schema separated by `|`.
    services: Option<String>,
    publics: Option<String>,
    prise_en_charge: Option<String>,
    frais: Option<String>,
    modalites_acces: Option<String>,
    modalites_accompagnement: Option<String>,
    dispositifs: Option<String>,
    /// The schema's `formations_labels`.
    labels: Option<String>,
    ouvert_maintenant: Option<bool>,
    ouvert_week_end: Option<bool>,
    q: Option<String>,
    limite: Option<usize>,
    curseur: Option<String>,
    /// `json` (default) or `geojson`.
    format: Option<String>,
}

#[derive(Serialize)]
pub struct Found<'a> {
    id: &'a str,
    nom: &'a str,
    adresse: &'a str,
    code_postal: &'a str,
    commune: &'a str,
    latitude: Option<f64>,
    longitude: Option<f64>,
    position_approximative: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
}

#[derive(Serialize)]
pub struct Out<'a> {
    lieux: Vec<Found<'a>>,
    /// To pass as `curseur` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    suivant: Option<String>,
}

const MAX: usize = 100;
/// Nearest-first pages go this deep at most: a page costs a search of offset + limit.
const MAX_NEAREST_DEPTH: usize = 1_000;

fn bad_cursor() -> ApiError {
    ApiError::bad_request(
        "curseur_invalide",
        "curseur : donnez la valeur de « suivant » de la page précédente, telle quelle.",
    )
}

/// The exact values of the schema between `|` (`openapi.json`: an array of the
/// vocabulary, `pipeDelimited`); empty values are ignored.
fn values<T: Vocabulary>(name: &str, raw: Option<&str>) -> Result<Vec<T>, ApiError> {
    raw.unwrap_or("")
        .split('|')
        .filter(|v| !v.is_empty())
        .map(|v| {
            T::parse(v).ok_or_else(|| {
                ApiError::bad_request(
                    "valeur_inconnue",
                    format!("{name} : « {v} » n’est pas une valeur du schéma national."),
                )
            })
        })
        .collect()
}

/// `minlon,minlat,maxlon,maxlat` as `[min_lat, min_lon, max_lat, max_lon]`. The numbers
/// are plain decimals (`-4.5`, the pattern of `openapi.json`); the latitudes may come in
/// either order (a box has one band of latitudes, unlike longitudes and the antimeridian).
pub(crate) fn bbox(raw: &str) -> Result<[f64; 4], ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "bbox_invalide",
            "bbox s’écrit minlon,minlat,maxlon,maxlat en degrés décimaux (lon entre -180 et 180, lat entre -90 et 90).",
        )
    };
    let v: Vec<f64> = raw
        .split(',')
        .map(|x| decimal(x).ok_or_else(invalid))
        .collect::<Result<_, _>>()?;
    let [min_lon, lat_a, max_lon, lat_b] = v[..] else {
        return Err(invalid());
    };
    let lat_ok = |x: f64| x.abs() <= 90.0;
    let lon_ok = |x: f64| x.abs() <= 180.0;
    if !(lat_ok(lat_a) && lat_ok(lat_b) && lon_ok(min_lon) && lon_ok(max_lon)) {
        return Err(invalid());
    }
    Ok([lat_a.min(lat_b), min_lon, lat_a.max(lat_b), max_lon])
}

/// `-?[0-9]+(\.[0-9]+)?` as a number; anything else (exponents, `inf`, spaces) is `None`.
fn decimal(x: &str) -> Option<f64> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = x.strip_prefix('-').unwrap_or(x);
    let plain = match unsigned.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(unsigned),
    };
    plain.then(|| x.parse().ok()).flatten()
}

fn filter(p: &Params) -> Result<Filter, ApiError> {
    Ok(Filter {
        services: values::<Service>("services", p.services.as_deref())?,
        publics: values::<Public>("publics", p.publics.as_deref())?,
        prise_en_charge: values::<PriseEnCharge>("prise_en_charge", p.prise_en_charge.as_deref())?,
        frais: values::<Frais>("frais", p.frais.as_deref())?,
        modalites_acces: values::<ModaliteAcces>("modalites_acces", p.modalites_acces.as_deref())?,
        modalites_accompagnement: values::<ModaliteAccompagnement>(
            "modalites_accompagnement",
            p.modalites_accompagnement.as_deref(),
        )?,
        dispositifs: values::<Dispositif>("dispositifs", p.dispositifs.as_deref())?,
        formations_labels: values::<FormationLabel>("labels", p.labels.as_deref())?,
        open_now: p
            .ouvert_maintenant
            .unwrap_or(false)
            .then(|| LocalTime::paris(relais_domain::calendrier::now_ms())),
        open_weekend: p.ouvert_week_end.unwrap_or(false),
        text: p.q.clone().filter(|q| !q.trim().is_empty()),
    })
}

pub async fn search(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Response, ApiError> {
    let limit = p.limite.unwrap_or(20);
    if limit == 0 || limit > MAX {
        return Err(ApiError::bad_request(
            "limite_invalide",
            format!("limite doit être entre 1 et {MAX}."),
        ));
    }
    let geojson = match p.format.as_deref() {
        None | Some("json") => false,
        Some("geojson") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "format_inconnu",
                format!("format : « {other} » inconnu ; json ou geojson."),
            ));
        }
    };
    let filter = filter(&p)?;
    // One zone only: a point, a territory or a box.
    let point = p.lat.is_some() || p.lon.is_some();
    let zones = [
        point,
        p.commune.is_some(),
        p.epci.is_some(),
        p.departement.is_some(),
        p.bbox.is_some(),
    ];
    if let Some(c) = &p.commune
        && CodeInsee::parse(c).is_err()
    {
        // A name would list nothing: say so rather than answer « 0 lieux ».
        return Err(ApiError::bad_request(
            "commune_invalide",
            format!(
                "commune « {c} » : un code INSEE est attendu (5 caractères, ex. 69123) ; pour \
                 un nom ou un code postal, cherchez d’abord le code avec \
                 /api/v1/territoires/communes?q=…"
            ),
        ));
    }
    let territory = match (&p.commune, &p.epci, &p.departement) {
        (Some(c), _, _) => Some(Territory::Commune(c.clone())),
        (_, Some(c), _) => Some(Territory::Epci(c.clone())),
        (_, _, Some(c)) => Some(Territory::Departement(c.clone())),
        _ => None,
    };
    let one_zone = zones.iter().filter(|z| **z).count() == 1;
    let zone = match (p.lat, p.lon, territory, &p.bbox, one_zone) {
        (Some(lat), Some(lon), None, None, true) => Zone::Autour {
            point: Point { lat, lon },
            profondeur: MAX_NEAREST_DEPTH,
        },
        (None, None, Some(territory), None, true) => Zone::Territoire(territory),
        (None, None, None, Some(b), true) => Zone::Boite(bbox(b)?),
        _ => {
            return Err(ApiError::bad_request(
                "recherche_incomplete",
                "Donnez une seule zone : lat et lon, ou commune (code INSEE), ou epci (SIREN), ou departement, ou bbox.",
            ));
        }
    };
    let res = recherche(
        &state.lieux,
        &Requete {
            zone,
            filtre: &filter,
            curseur: p.curseur.as_deref(),
            limite: limit,
        },
    )
    .map_err(|e| match e {
        RechercheError::Coordonnees => ApiError::bad_request(
            "coordonnees_invalides",
            "lat doit être entre -90 et 90, lon entre -180 et 180.",
        ),
        RechercheError::Curseur => bad_cursor(),
        RechercheError::CurseurAutour { profondeur } => ApiError::bad_request(
            "curseur_invalide",
            format!(
                "curseur : donnez la valeur de « suivant » de la page précédente (autour d’un point, un nombre de 0 à {profondeur})."
            ),
        ),
    })?;
    let r = &res.recherche;
    let lieux: Vec<Found> = res
        .trouves
        .iter()
        .map(|t| {
            let l = r.index.lieu(t.index);
            let s = &r.summaries[t.index];
            Found {
                id: l.id.as_str(),
                nom: &s.nom,
                adresse: &s.adresse,
                code_postal: &s.code_postal,
                commune: &s.commune,
                latitude: l.location.position.map(|p| p.lat),
                longitude: l.location.position.map(|p| p.lon),
                position_approximative: l.location.approximate,
                distance_m: t.distance_m.map(f64::round),
            }
        })
        .collect();
    if geojson {
        return Ok(geo_json(lieux, res.suivant));
    }
    Ok(Json(Out {
        lieux,
        suivant: res.suivant,
    })
    .into_response())
}

/// `GET /api/v1/openapi.json`: the hand-written OpenAPI 3.1 description of the API.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../openapi.json"),
    )
        .into_response()
}

/// A GeoJSON (RFC 7946) feature collection; `suivant` is a foreign member.
fn geo_json(lieux: Vec<Found>, next: Option<String>) -> Response {
    #[derive(Serialize)]
    struct Geometry {
        r#type: &'static str,
        coordinates: [f64; 2],
    }
    #[derive(Serialize)]
    struct Feature<'a> {
        r#type: &'static str,
        id: &'a str,
        geometry: Option<Geometry>,
        properties: Found<'a>,
    }
    #[derive(Serialize)]
    struct Collection<'a> {
        r#type: &'static str,
        features: Vec<Feature<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        suivant: Option<String>,
    }
    let features = lieux
        .into_iter()
        .map(|f| Feature {
            r#type: "Feature",
            id: f.id,
            geometry: f.longitude.zip(f.latitude).map(|(lon, lat)| Geometry {
                r#type: "Point",
                coordinates: [lon, lat],
            }),
            properties: f,
        })
        .collect();
    let body = serde_json::to_vec(&Collection {
        r#type: "FeatureCollection",
        features,
        suivant: next,
    })
    .unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use serde::de::{self, Deserializer, Visitor};

    /// The field names a `Deserialize` struct accepts, as serde derives them.
    fn fields<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
        struct Spy(Option<&'static [&'static str]>);
        #[derive(Debug)]
        struct Stop;
        impl std::fmt::Display for Stop {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("stop")
            }
        }
        impl std::error::Error for Stop {}
        impl de::Error for Stop {
            fn custom<M: std::fmt::Display>(_: M) -> Self {
                Stop
            }
        }
        impl<'de> Deserializer<'de> for &mut Spy {
            type Error = Stop;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop)
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Stop> {
                self.0 = Some(fields);
                Err(Stop)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map enum identifier ignored_any
            }
        }
        let mut spy = Spy(None);
        let _ = T::deserialize(&mut spy);
        spy.0.expect("a struct")
    }

    #[test]
    fn every_search_parameter_is_documented() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        let op = &doc["paths"]["/api/v1/lieux"]["get"];
        let mut documented: Vec<&str> = Vec::new();
        for p in op["parameters"].as_array().expect("parameters") {
            // A parameter is inline or a `$ref` to components/parameters.
            let p = match p["$ref"].as_str() {
                Some(r) => {
                    &doc["components"]["parameters"]
                        [r.trim_start_matches("#/components/parameters/")]
                }
                None => p,
            };
            // `zone`: an exploded object, whose fields are the query's parameters.
            match p["schema"]["oneOf"].as_array() {
                Some(branches) => {
                    assert_eq!(p["explode"], true, "{p}");
                    for b in branches {
                        for name in b["properties"].as_object().expect("properties").keys() {
                            if !documented.contains(&name.as_str()) {
                                documented.push(name);
                            }
                        }
                    }
                }
                None => documented.push(p["name"].as_str().expect("a named parameter")),
            }
        }
        let accepted = fields::<super::Params>();
        assert!(accepted.len() >= 20, "{accepted:?}");
        for f in accepted {
            assert!(documented.contains(f), "{f} absent de openapi.json");
        }
        for d in &documented {
            assert!(accepted.contains(d), "{d} documenté mais ignoré");
        }
    }

    /// Each filter's values in `openapi.json` are the vocabulary's (and the empty value).
    #[test]
    fn filter_values_are_the_vocabularies() {
        use relais_domain::lieux::*;
        fn names<T: Vocabulary>() -> Vec<String> {
            T::ALL.iter().map(|v| v.as_str().to_string()).collect()
        }
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        let op = &doc["paths"]["/api/v1/lieux"]["get"];
        for (param, mut expected) in [
            ("services", names::<Service>()),
            ("publics", names::<Public>()),
            ("prise_en_charge", names::<PriseEnCharge>()),
            ("frais", names::<Frais>()),
            ("modalites_acces", names::<ModaliteAcces>()),
            (
                "modalites_accompagnement",
                names::<ModaliteAccompagnement>(),
            ),
            ("dispositifs", names::<Dispositif>()),
            ("labels", names::<FormationLabel>()),
        ] {
            let p = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == param)
                .unwrap_or_else(|| panic!("{param}"));
            assert_eq!(p["style"], "pipeDelimited", "{param}");
            let mut documented: Vec<String> =
                serde_json::from_value(p["schema"]["items"]["enum"].clone()).unwrap();
            expected.push(String::new());
            documented.sort();
            expected.sort();
            assert_eq!(documented, expected, "{param}");
        }
    }
}
