//! The item bank Relais writes itself (`data/diagnostic/questions.toml`, one SVG
//! illustration per item): read and linted. Each item has a domain, calibrated 2PL
//! parameters consistent with its level, a question in plain French ending with a
//! question mark, two to four answers with one right, an explanation shown at the end, and
//! an illustration whose text alternative is its SVG's title, with nothing a strict
//! content security policy would refuse. Only reviewed items are asked.
//! The reading level is judged in CI by an independent tool (textstat's French score).

use serde::Deserialize;

use super::adaptatif::Item;
use super::irt::Parametres;
use super::referentiel::Domaine;

/// Words at most in a question, and in an answer.
pub const MOTS_ENONCE: usize = 30;
pub const MOTS_REPONSE: usize = 8;
/// Reviewed items the bank holds at least, in all and per domain.
pub const MINIMUM: usize = 80;
pub const MINIMUM_PAR_DOMAINE: usize = 12;

/// An item of the bank.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub domaine: Domaine,
    /// 1 to 3: the level of ability it is meant for.
    pub niveau: u8,
    pub parametres: Parametres,
    pub enonce: String,
    /// The SVG file's name.
    pub illustration: String,
    pub alternative: String,
    pub reponses: Vec<String>,
    /// The right answer's index in `reponses`.
    pub bonne: usize,
    pub explication: String,
    /// Reviewed: asked to people. Drafts are kept, never asked.
    pub relue: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Brute {
    id: String,
    domaine: String,
    niveau: u8,
    difficulte: f64,
    discrimination: f64,
    enonce: String,
    illustration: String,
    alternative: String,
    reponses: Vec<String>,
    bonne: usize,
    explication: String,
    statut: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fichier {
    question: Vec<Brute>,
}

/// What is wrong in the bank.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BanqueErreur {
    #[error("le fichier des questions est illisible : {0}")]
    Illisible(String),
    #[error("question {id}, champ « {champ} » : {raison}")]
    Question {
        id: String,
        champ: &'static str,
        raison: String,
    },
    #[error("la banque compte {0}")]
    Couverture(String),
}

/// The level an item's difficulty puts it at.
pub fn niveau_de_difficulte(b: f64) -> u8 {
    if b < -1.2 {
        1
    } else if b < 0.8 {
        2
    } else {
        3
    }
}

/// Words: what holds a letter or a digit (« and » alone are not words).
fn mots(texte: &str) -> usize {
    texte
        .split_whitespace()
        .filter(|m| m.chars().any(char::is_alphanumeric))
        .count()
}

/// Whether an SVG may be shown: its title is `alternative`, and it holds no style, script,
/// external reference, embedded image or foreign content.
fn illustration_valable(svg: &str, alternative: &str) -> Result<(), String> {
    for interdit in [
        "<style",
        " style=",
        "<script",
        "href=",
        "<image",
        "<foreignObject",
        "javascript:",
    ] {
        if svg.contains(interdit) {
            return Err(format!("l’illustration contient « {} »", interdit.trim()));
        }
    }
    let titre = svg
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(t, _)| {
            t.replace("&apos;", "'")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        });
    if titre.as_deref().map(str::trim) != Some(alternative.trim()) {
        return Err("le titre de l’illustration n’est pas son alternative textuelle".into());
    }
    if !svg.contains("role=\"img\"") {
        return Err("l’illustration n’a pas role=\"img\"".into());
    }
    Ok(())
}

/// Reads and lints the bank: its questions, or every error found (all of them, so that an
/// author fixes them in one go). `illustration` gives an SVG file's content by name.
pub fn lire<'a>(
    toml_text: &str,
    illustration: impl Fn(&str) -> Option<&'a str>,
) -> Result<Vec<Question>, Vec<BanqueErreur>> {
    let fichier: Fichier =
        toml::from_str(toml_text).map_err(|e| vec![BanqueErreur::Illisible(e.to_string())])?;
    let mut erreurs = Vec::new();
    let mut questions = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for b in fichier.question {
        let mut faute = |champ: &'static str, raison: String| {
            erreurs.push(BanqueErreur::Question {
                id: b.id.clone(),
                champ,
                raison,
            });
        };
        if !ids.insert(b.id.clone()) {
            faute(
                "id",
                "cet identifiant est déjà celui d’une autre question".into(),
            );
        }
        let Some(domaine) = Domaine::parse(&b.domaine) else {
            faute("domaine", format!("« {} » n’est pas un domaine", b.domaine));
            continue;
        };
        if !b.id.starts_with(&format!("{}-", domaine.as_str())) {
            faute("id", "l’identifiant commence par le domaine".into());
        }
        if !(-3.0..=3.0).contains(&b.difficulte) {
            faute("difficulte", "la difficulté va de −3 à 3".into());
        }
        if !(0.5..=2.5).contains(&b.discrimination) {
            faute("discrimination", "la discrimination va de 0,5 à 2,5".into());
        }
        if b.niveau != niveau_de_difficulte(b.difficulte) {
            faute(
                "niveau",
                format!(
                    "une difficulté de {} est du niveau {}",
                    b.difficulte,
                    niveau_de_difficulte(b.difficulte)
                ),
            );
        }
        let enonce = b.enonce.trim();
        if enonce.is_empty() || !enonce.ends_with('?') {
            faute(
                "enonce",
                "la question finit par un point d’interrogation".into(),
            );
        }
        if mots(enonce) > MOTS_ENONCE {
            faute(
                "enonce",
                format!("{} mots, {MOTS_ENONCE} au plus", mots(enonce)),
            );
        }
        if !(2..=4).contains(&b.reponses.len()) {
            faute("reponses", "de 2 à 4 réponses".into());
        }
        let mut vues = std::collections::BTreeSet::new();
        for r in &b.reponses {
            let r = r.trim();
            if r.is_empty() || mots(r) > MOTS_REPONSE {
                faute("reponses", format!("« {r} » : de 1 à {MOTS_REPONSE} mots"));
            }
            if r.to_lowercase().contains("je ne sais pas") {
                faute(
                    "reponses",
                    "« je ne sais pas » est toujours proposé : ne l’ajoutez pas".into(),
                );
            }
            if !vues.insert(r.to_lowercase()) {
                faute("reponses", format!("« {r} » est proposée deux fois"));
            }
        }
        if b.bonne >= b.reponses.len() {
            faute(
                "bonne",
                "l’indice de la bonne réponse est hors de la liste".into(),
            );
        }
        if b.explication.trim().is_empty() {
            faute(
                "explication",
                "l’explication montrée à la fin manque".into(),
            );
        }
        if b.alternative.trim().is_empty() {
            faute(
                "alternative",
                "l’alternative textuelle de l’illustration manque".into(),
            );
        }
        if b.illustration != format!("{}.svg", b.id) {
            faute("illustration", format!("le fichier s’appelle {}.svg", b.id));
        }
        match illustration(&b.illustration) {
            None => faute(
                "illustration",
                format!("le fichier {} manque", b.illustration),
            ),
            Some(svg) => {
                if let Err(raison) = illustration_valable(svg, &b.alternative) {
                    faute("illustration", raison);
                }
            }
        }
        let relue = match b.statut.as_str() {
            "relue" => true,
            "brouillon" => false,
            autre => {
                faute("statut", format!("« {autre} » : relue ou brouillon"));
                false
            }
        };
        questions.push(Question {
            id: b.id,
            domaine,
            niveau: b.niveau,
            parametres: Parametres {
                a: b.discrimination,
                b: b.difficulte,
            },
            enonce: enonce.to_string(),
            illustration: b.illustration,
            alternative: b.alternative.trim().to_string(),
            reponses: b.reponses.iter().map(|r| r.trim().to_string()).collect(),
            bonne: b.bonne,
            explication: b.explication.trim().to_string(),
            relue,
        });
    }
    let relues = questions.iter().filter(|q| q.relue).count();
    if relues < MINIMUM {
        erreurs.push(BanqueErreur::Couverture(format!(
            "{relues} questions relues, {MINIMUM} au moins"
        )));
    }
    for d in Domaine::ALL {
        let n = questions
            .iter()
            .filter(|q| q.relue && q.domaine == *d)
            .count();
        if n < MINIMUM_PAR_DOMAINE {
            erreurs.push(BanqueErreur::Couverture(format!(
                "{n} questions relues dans « {} », {MINIMUM_PAR_DOMAINE} au moins",
                d.label()
            )));
        }
    }
    if erreurs.is_empty() {
        Ok(questions)
    } else {
        Err(erreurs)
    }
}

/// The questions people are asked (the reviewed ones) and the test's view of them, index
/// for index.
#[derive(Debug, Clone)]
pub struct Banque {
    pub questions: Vec<Question>,
    pub items: Vec<Item>,
}

impl Banque {
    pub fn new(questions: Vec<Question>) -> Banque {
        let questions: Vec<Question> = questions.into_iter().filter(|q| q.relue).collect();
        let items = items(&questions);
        Banque { questions, items }
    }

    /// The index of question `id`.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }

    /// The same bank with the parameters `estimes` gives (by question id) over its own.
    pub fn avec(&self, estimes: &[(String, Parametres)]) -> Banque {
        let mut questions = self.questions.clone();
        for (id, p) in estimes {
            if let Some(q) = questions.iter_mut().find(|q| &q.id == id) {
                q.parametres = *p;
            }
        }
        Banque::new(questions)
    }
}

/// The questions as the adaptive test sees them, in the same order.
pub fn items(questions: &[Question]) -> Vec<Item> {
    questions
        .iter()
        .map(|q| Item {
            domaine: q.domaine,
            parametres: q.parametres,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str =
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img"><title>Un téléphone.</title></svg>"#;

    fn question(id: &str, extra: &str) -> String {
        format!(
            r#"
[[question]]
id = "{id}"
domaine = "appareil"
niveau = 1
difficulte = -2.0
discrimination = 1.2
enonce = "Quel objet est un téléphone ?"
illustration = "{id}.svg"
alternative = "Un téléphone."
reponses = ["Le premier", "Le second"]
bonne = 1
explication = "C’est le premier."
statut = "relue"
{extra}"#
        )
    }

    #[test]
    fn every_fault_is_named_with_its_item_and_field() {
        let texte = question("appareil-01", "")
            + &question("appareil-01", "")
            + &question("securite-02", "")
                .replace("niveau = 1", "niveau = 3")
                .replace("?\"", "\"");
        let erreurs = lire(&texte, |_| Some(SVG)).unwrap_err();
        let dit: Vec<String> = erreurs.iter().map(ToString::to_string).collect();
        for attendu in [
            "question appareil-01, champ « id » : cet identifiant est déjà celui d’une autre question",
            "question securite-02, champ « id » : l’identifiant commence par le domaine",
            "question securite-02, champ « niveau » : une difficulté de -2 est du niveau 1",
            "question securite-02, champ « enonce » : la question finit par un point d’interrogation",
            "la banque compte 3 questions relues, 80 au moins",
        ] {
            assert!(dit.iter().any(|d| d == attendu), "{attendu}\n{dit:#?}");
        }
        let sans_titre = lire(&question("appareil-01", ""), |_| {
            Some(r#"<svg role="img" style="x"></svg>"#)
        })
        .unwrap_err();
        assert!(
            sans_titre
                .iter()
                .any(|e| e.to_string().contains("« style= »")),
            "{sans_titre:?}"
        );
    }
}
