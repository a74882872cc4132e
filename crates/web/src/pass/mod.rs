//! Pass numérique: the counter where a mediator checks and accepts a pass
//! ([`utilisation`]), the référents' page of programmes ([`programmes`]), and the
//! prescripteurs' handing of a booklet to a person ([`remise`]), and the counter's JSON
//! API for devices ([`appareil`]), and a structure's monthly statements ([`releves`]).
//! The rules are in `relais_services::pass`.

pub mod appareil;
pub mod programmes;
pub mod releves;
pub mod remise;
pub mod utilisation;

/// A form whose `lists` fields may repeat (checkboxes), read from its pairs: the others
/// keep their last value. (`serde_urlencoded` reads no repeated field into a list.)
pub(crate) fn formulaire<T: serde::de::DeserializeOwned + Default>(
    pairs: Vec<(String, String)>,
    lists: &[&str],
) -> T {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if lists.contains(&k.as_str()) {
            let entry = map
                .entry(k)
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(values) = entry {
                values.push(v.into());
            }
        } else {
            map.insert(k, v.into());
        }
    }
    serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
}

/// A page answered 422 when it reports an error (the form sent is shown again), else 200.
pub(crate) fn reponse(erreur: bool, page: impl askama::Template) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = if erreur {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    (status, crate::pages::render(page)).into_response()
}
