//! `GET /api`: the public API's documentation, rendered on the server from the same
//! `openapi.json` the API serves, as a DSFR page (see docs/ARCHITECTURE.md for why not a
//! JavaScript viewer).

use std::sync::OnceLock;

use askama::Template;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::pages::{Page, PageContext, render};

/// A piece of prose: text, or code where the document has `backticks`.
pub struct Segment {
    pub code: bool,
    pub text: String,
}

/// The document's Markdown is only inline code: split on backticks.
fn prose(raw: &str) -> Vec<Segment> {
    raw.split('`')
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| Segment {
            code: i % 2 == 1,
            text: t.to_string(),
        })
        .collect()
}

pub struct Parametre {
    pub nom: String,
    pub obligatoire: bool,
    /// « texte », « entier de 1 à 100 », « liste séparée par | »…
    pub nature: String,
    pub valeurs: Vec<String>,
    pub description: Vec<Segment>,
}

/// One way to give a parameter written flat in the query (`zone`: a point, a territory…).
pub struct Variante {
    pub titre: String,
    pub parametres: Vec<Parametre>,
}

pub struct Reponse {
    pub code: String,
    pub description: Vec<Segment>,
    /// (media type, schema name when it is one of the document's).
    pub contenus: Vec<(String, Option<String>)>,
}

pub struct Operation {
    pub ancre: String,
    pub methode: String,
    pub chemin: String,
    pub resume: String,
    pub description: Vec<Segment>,
    pub parametres: Vec<Parametre>,
    pub variantes: Option<(Parametre, Vec<Variante>)>,
    pub reponses: Vec<Reponse>,
    /// A request to try, when the document gives every required value.
    pub exemple: Option<String>,
}

pub struct Groupe {
    pub titre: String,
    pub ancre: String,
    pub operations: Vec<Operation>,
}

pub struct Schema {
    pub nom: String,
    pub description: Vec<Segment>,
    pub champs: Vec<Parametre>,
}

#[derive(Template)]
#[template(path = "api.html")]
pub struct ApiPage {
    pub ctx: PageContext,
    pub doc: &'static Document,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a value must be, in words, and its listed values.
fn nature(schema: &Value, style: Option<&str>) -> (String, Vec<String>) {
    let bounds = |base: &str| match (schema.get("minimum"), schema.get("maximum")) {
        (Some(a), Some(b)) => format!("{base} de {} à {}", scalar(a), scalar(b)),
        (Some(a), None) => format!("{base} à partir de {}", scalar(a)),
        _ => base.to_string(),
    };
    let values = |s: &Value| -> Vec<String> {
        s.get("enum")
            .and_then(Value::as_array)
            .map(|e| e.iter().map(scalar).collect())
            .unwrap_or_default()
    };
    let mut kind = match schema.get("type").and_then(Value::as_str) {
        Some("integer") => bounds("entier"),
        Some("number") => bounds("nombre"),
        Some("boolean") => "booléen (true ou false)".to_string(),
        Some("array") => {
            let sep = if style == Some("pipeDelimited") {
                "|"
            } else {
                ","
            };
            let items = schema.get("items").unwrap_or(&Value::Null);
            return (format!("liste, valeurs séparées par {sep}"), values(items));
        }
        Some("object") => "objet".to_string(),
        _ if schema.get("$ref").is_some() => return (reference(schema), Vec::new()),
        _ => "texte".to_string(),
    };
    if let Some(d) = schema.get("default") {
        kind.push_str(&format!(", par défaut {}", scalar(d)));
    }
    (kind, values(schema))
}

fn reference(schema: &Value) -> String {
    text(schema, "$ref")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn parametre(
    nom: &str,
    obligatoire: bool,
    description: &str,
    schema: &Value,
    style: Option<&str>,
) -> Parametre {
    let (nature, valeurs) = nature(schema, style);
    Parametre {
        nom: nom.to_string(),
        obligatoire,
        nature,
        valeurs,
        description: prose(description),
    }
}

/// The fields of an object schema, required ones first as the document lists them.
fn champs(schema: &Value) -> Vec<Parametre> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| {
                    parametre(
                        name,
                        required.contains(&name.as_str()),
                        &text(p, "description"),
                        p,
                        None,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn operation(path: &str, method: &str, op: &Value) -> Operation {
    let mut parametres = Vec::new();
    let mut variantes = None;
    let mut exemple: Vec<(String, String)> = Vec::new();
    let mut complet = true;
    let mut chemin_exemple = path.to_string();
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let schema = p.get("schema").unwrap_or(&Value::Null);
        let nom = text(p, "name");
        let obligatoire = p.get("required").and_then(Value::as_bool).unwrap_or(false);
        let param = parametre(
            &nom,
            obligatoire,
            &text(p, "description"),
            schema,
            p.get("style").and_then(Value::as_str),
        );
        match (p.get("example"), text(p, "in").as_str()) {
            (Some(Value::Object(fields)), _) => {
                exemple.extend(fields.iter().map(|(k, v)| (k.clone(), scalar(v))));
            }
            (Some(v), "path") => {
                chemin_exemple = chemin_exemple.replace(&format!("{{{nom}}}"), &scalar(v));
            }
            (Some(v), _) if obligatoire => exemple.push((nom.clone(), scalar(v))),
            (None, _) if obligatoire => complet = false,
            _ => {}
        }
        if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
            let list = one_of
                .iter()
                .map(|v| Variante {
                    titre: text(v, "title"),
                    parametres: champs(v),
                })
                .collect();
            variantes = Some((param, list));
        } else {
            parametres.push(param);
        }
    }
    let reponses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .map(|(code, resp)| Reponse {
                    code: code.clone(),
                    description: prose(&text(resp, "description")),
                    contenus: resp
                        .get("content")
                        .and_then(Value::as_object)
                        .map(|c| {
                            c.iter()
                                .map(|(media, m)| {
                                    let schema = m.get("schema").unwrap_or(&Value::Null);
                                    let name = reference(schema);
                                    (media.clone(), (!name.is_empty()).then_some(name))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let query: Vec<String> = exemple
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::auth::urlencode(v)))
        .collect();
    Operation {
        ancre: text(op, "operationId"),
        methode: method.to_ascii_uppercase(),
        chemin: path.to_string(),
        resume: text(op, "summary"),
        description: prose(&text(op, "description")),
        parametres,
        variantes,
        reponses,
        exemple: (complet && !chemin_exemple.contains('{')).then(|| {
            if query.is_empty() {
                chemin_exemple
            } else {
                format!("{chemin_exemple}?{}", query.join("&"))
            }
        }),
    }
}

pub struct Document {
    pub titre: String,
    pub version: String,
    pub description: Vec<Segment>,
    pub groupes: Vec<Groupe>,
    pub schemas: Vec<Schema>,
}

/// The document read once: it is compiled in.
fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        let doc: Value = serde_json::from_str(include_str!("../../openapi.json"))
            .expect("openapi.json est du JSON (vérifié par les tests)");
        let info = doc.get("info").unwrap_or(&Value::Null);
        let empty = Map::new();
        // One section per tag, in the document's order; an operation in its first tag.
        let mut groupes: Vec<Groupe> = doc
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                let nom = text(t, "name");
                let mut titre = nom.clone();
                if let Some(first) = titre.get(..1) {
                    titre = first.to_uppercase() + &titre[1..];
                }
                Groupe {
                    ancre: format!("groupe-{}", nom.replace(' ', "-")),
                    titre,
                    operations: Vec::new(),
                }
            })
            .collect();
        for (path, methods) in doc
            .get("paths")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
        {
            for (method, op) in methods.as_object().unwrap_or(&empty) {
                let tag = op
                    .get("tags")
                    .and_then(Value::as_array)
                    .and_then(|t| t.first())
                    .and_then(Value::as_str)
                    .unwrap_or("api");
                let op = operation(path, method, op);
                match groupes
                    .iter_mut()
                    .find(|g| g.ancre == format!("groupe-{}", tag.replace(' ', "-")))
                {
                    Some(g) => g.operations.push(op),
                    None => groupes.push(Groupe {
                        titre: tag.to_string(),
                        ancre: format!("groupe-{}", tag.replace(' ', "-")),
                        operations: vec![op],
                    }),
                }
            }
        }
        groupes.retain(|g| !g.operations.is_empty());
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .iter()
            .map(|(nom, s)| Schema {
                nom: nom.clone(),
                description: prose(&text(s, "description")),
                champs: champs(s),
            })
            .collect();
        Document {
            titre: text(info, "title"),
            version: text(info, "version"),
            description: prose(&text(info, "description")),
            groupes,
            schemas,
        }
    })
}

pub async fn page(Page(_state, ctx): Page) -> Response {
    render(ApiPage {
        ctx,
        doc: document(),
    })
}
