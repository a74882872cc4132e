//! The adaptive test: each next item is the most informative at the current estimate in
//! the domain asked least so far (content balancing), drawn among the few best so that no
//! item is shown to everyone (exposure control, « randomesque »); the test stops once the
//! standard error is small enough, after a minimum that covers every domain twice, or at
//! the maximum. « Je ne sais pas » counts as a wrong answer: the person is never pushed
//! to guess.

use super::irt::{Estimation, Parametres, Posterieure};
use super::referentiel::{Domaine, Niveau};

/// An item as the test sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item {
    pub domaine: Domaine,
    pub parametres: Parametres,
}

/// How a question was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reponse {
    Juste,
    Fausse,
    NeSaitPas,
}

impl Reponse {
    pub fn juste(self) -> bool {
        self == Reponse::Juste
    }

    /// The stable value stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Reponse::Juste => "juste",
            Reponse::Fausse => "fausse",
            Reponse::NeSaitPas => "ne_sait_pas",
        }
    }

    pub fn parse(s: &str) -> Option<Reponse> {
        [Reponse::Juste, Reponse::Fausse, Reponse::NeSaitPas]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// The test's rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regles {
    /// Stop once the standard error is at most this (logits)…
    pub erreur_cible: f64,
    /// …and at least this many items were asked.
    pub minimum: usize,
    pub maximum: usize,
    /// The next item is drawn among this many best ones.
    pub parmi: usize,
    /// The prior on ability: normal, this standard deviation around 0.
    pub ecart_a_priori: f64,
}

/// The rules of Relais' diagnostic: about ten minutes.
pub const REGLES: Regles = Regles {
    erreur_cible: 0.5,
    minimum: 10,
    maximum: 20,
    parmi: 6,
    ecart_a_priori: 1.5,
};

/// A test under way: the items asked (indexes in the bank) and their answers.
#[derive(Debug, Clone)]
pub struct Passation {
    pub reponses: Vec<(usize, Reponse)>,
    posterieure: Posterieure,
    regles: Regles,
}

impl Passation {
    pub fn new(regles: Regles) -> Passation {
        Passation {
            reponses: Vec::new(),
            posterieure: Posterieure::normale(0.0, regles.ecart_a_priori),
            regles,
        }
    }

    /// A test already under way, from its answers.
    pub fn reprise(banque: &[Item], regles: Regles, reponses: &[(usize, Reponse)]) -> Passation {
        let mut p = Passation::new(regles);
        for &(i, r) in reponses {
            p.repondre(banque, i, r);
        }
        p
    }

    pub fn repondre(&mut self, banque: &[Item], item: usize, reponse: Reponse) {
        self.posterieure
            .ajouter(banque[item].parametres, reponse.juste());
        self.reponses.push((item, reponse));
    }

    pub fn estimation(&self) -> Estimation {
        self.posterieure.estimation()
    }

    /// Whether the test is over.
    pub fn finie(&self, banque: &[Item]) -> bool {
        let n = self.reponses.len();
        n >= self.regles.maximum
            || n >= banque.len()
            || (n >= self.regles.minimum && self.estimation().erreur <= self.regles.erreur_cible)
    }

    /// The next item to ask, `hasard` drawn by the caller (any 64 random bits); `None`
    /// once the test is over.
    pub fn prochaine(&self, banque: &[Item], hasard: u64) -> Option<usize> {
        if self.finie(banque) {
            return None;
        }
        let posee = |i: usize| self.reponses.iter().any(|&(j, _)| j == i);
        let compte = |d: Domaine| {
            self.reponses
                .iter()
                .filter(|&&(j, _)| banque[j].domaine == d)
                .count()
        };
        let ouverts: Vec<Domaine> = Domaine::ALL
            .iter()
            .copied()
            .filter(|&d| (0..banque.len()).any(|i| banque[i].domaine == d && !posee(i)))
            .collect();
        let moins = ouverts.iter().map(|&d| compte(d)).min()?;
        let domaines: Vec<Domaine> = ouverts
            .into_iter()
            .filter(|&d| compte(d) == moins)
            .collect();
        let domaine = domaines[(hasard % domaines.len() as u64) as usize];
        let theta = self.estimation().theta;
        let mut candidats: Vec<(usize, f64)> = (0..banque.len())
            .filter(|&i| banque[i].domaine == domaine && !posee(i))
            .map(|i| (i, banque[i].parametres.information(theta)))
            .collect();
        candidats.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        candidats.truncate(self.regles.parmi.max(1));
        Some(candidats[((hasard >> 32) % candidats.len() as u64) as usize].0)
    }

    /// Each domain's ability, estimated from its own answers with the whole test's
    /// estimate as prior (a domain asked twice says little on its own).
    pub fn par_domaine(&self, banque: &[Item]) -> Vec<(Domaine, Estimation)> {
        let global = self.estimation().theta;
        Domaine::ALL
            .iter()
            .map(|&d| {
                let mut post = Posterieure::normale(global, 1.0);
                for &(i, r) in &self.reponses {
                    if banque[i].domaine == d {
                        post.ajouter(banque[i].parametres, r.juste());
                    }
                }
                (d, post.estimation())
            })
            .collect()
    }
}

/// Whether a domain is known at the level `theta` estimates for it: from « Autonome » on.
pub fn acquis(theta: f64) -> bool {
    Niveau::de(theta) >= Niveau(3)
}

// --- simulation ----------------------------------------------------------------------------

/// A small deterministic generator (SplitMix64) for simulations.
#[derive(Debug, Clone)]
pub struct Alea(pub u64);

impl Alea {
    pub fn suivant(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniforme(&mut self) -> f64 {
        (self.suivant() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What a simulation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Bilan {
    pub repondants: usize,
    /// Respondents placed within one level of their true one.
    pub a_un_niveau_pres: f64,
    /// Respondents placed at their true level.
    pub niveau_exact: f64,
    /// Root mean square error of the ability estimate (logits).
    pub rmse: f64,
    pub items_moyen: f64,
    /// The largest share of respondents any one item was shown to.
    pub exposition_max: f64,
}

fn bilan(resultats: &[(f64, f64, usize)], exposition: &[usize]) -> Bilan {
    let n = resultats.len() as f64;
    let part = |f: &dyn Fn(&(f64, f64, usize)) -> bool| {
        resultats.iter().filter(|r| f(r)).count() as f64 / n
    };
    let ecart = |&(vrai, estime, _): &(f64, f64, usize)| {
        i16::from(Niveau::de(vrai).0).abs_diff(i16::from(Niveau::de(estime).0))
    };
    Bilan {
        repondants: resultats.len(),
        a_un_niveau_pres: part(&|r| ecart(r) <= 1),
        niveau_exact: part(&|r| ecart(r) == 0),
        rmse: (resultats
            .iter()
            .map(|(v, e, _)| (v - e) * (v - e))
            .sum::<f64>()
            / n)
            .sqrt(),
        items_moyen: resultats.iter().map(|r| r.2 as f64).sum::<f64>() / n,
        exposition_max: exposition.iter().copied().max().unwrap_or(0) as f64 / n,
    }
}

/// A right or wrong answer drawn from the model at `theta`.
fn reponse(item: Parametres, theta: f64, alea: &mut Alea) -> Reponse {
    if alea.uniforme() < item.p(theta) {
        Reponse::Juste
    } else {
        Reponse::Fausse
    }
}

/// Abilities of `repondants` drawn uniformly over the scale the bank covers (−3 to 3).
pub fn abilites(repondants: usize, alea: &mut Alea) -> Vec<f64> {
    (0..repondants)
        .map(|_| -3.0 + 6.0 * alea.uniforme())
        .collect()
}

/// The adaptive test taken by respondents of abilities `thetas`, answering as the model
/// says.
pub fn simuler(banque: &[Item], regles: Regles, thetas: &[f64], alea: &mut Alea) -> Bilan {
    let mut exposition = vec![0usize; banque.len()];
    let resultats: Vec<(f64, f64, usize)> = thetas
        .iter()
        .map(|&theta| {
            let mut p = Passation::new(regles);
            while let Some(i) = p.prochaine(banque, alea.suivant()) {
                exposition[i] += 1;
                let r = reponse(banque[i].parametres, theta, alea);
                p.repondre(banque, i, r);
            }
            (theta, p.estimation().theta, p.reponses.len())
        })
        .collect();
    bilan(&resultats, &exposition)
}

/// A fixed form of `longueur` items, as good as a fixed form gets: the same number per
/// domain, their difficulties spread evenly over the domain's.
pub fn forme_fixe(banque: &[Item], longueur: usize) -> Vec<usize> {
    let domaines = Domaine::ALL.len();
    let mut forme = Vec::new();
    for (k, &d) in Domaine::ALL.iter().enumerate() {
        let n = longueur / domaines + usize::from(k < longueur % domaines);
        let mut items: Vec<usize> = (0..banque.len())
            .filter(|&i| banque[i].domaine == d)
            .collect();
        items.sort_by(|&x, &y| banque[x].parametres.b.total_cmp(&banque[y].parametres.b));
        if items.is_empty() || n == 0 {
            continue;
        }
        // n evenly spaced ranks among the domain's items.
        for j in 0..n.min(items.len()) {
            let rang = ((2 * j + 1) * items.len()) / (2 * n.min(items.len()));
            forme.push(items[rang.min(items.len() - 1)]);
        }
    }
    forme
}

/// The fixed form `forme` taken by the same respondents, scored the same way (EAP).
pub fn simuler_forme_fixe(
    banque: &[Item],
    regles: Regles,
    forme: &[usize],
    thetas: &[f64],
    alea: &mut Alea,
) -> Bilan {
    let resultats: Vec<(f64, f64, usize)> = thetas
        .iter()
        .map(|&theta| {
            let mut p = Passation::new(regles);
            for &i in forme {
                let r = reponse(banque[i].parametres, theta, alea);
                p.repondre(banque, i, r);
            }
            (theta, p.estimation().theta, forme.len())
        })
        .collect();
    let exposition = vec![thetas.len(); forme.len()];
    bilan(&resultats, &exposition)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bank like Relais': 18 items a domain, difficulties spread over −3..3.
    fn banque() -> Vec<Item> {
        let mut alea = Alea(7);
        Domaine::ALL
            .iter()
            .flat_map(|&domaine| (0..18).map(move |k| (domaine, k)))
            .map(|(domaine, k)| Item {
                domaine,
                parametres: Parametres {
                    a: 0.9 + 0.9 * alea.uniforme(),
                    b: -3.0 + 6.0 * (f64::from(k) + alea.uniforme()) / 18.0,
                },
            })
            .collect()
    }

    #[test]
    fn a_test_covers_every_domain_and_stops() {
        let banque = banque();
        let mut p = Passation::new(REGLES);
        let mut alea = Alea(1);
        while let Some(i) = p.prochaine(&banque, alea.suivant()) {
            assert!(p.reponses.iter().all(|&(j, _)| j != i), "never twice");
            p.repondre(&banque, i, Reponse::NeSaitPas);
        }
        let n = p.reponses.len();
        assert!((REGLES.minimum..=REGLES.maximum).contains(&n), "{n}");
        for d in Domaine::ALL {
            let k = p
                .reponses
                .iter()
                .filter(|&&(j, _)| banque[j].domaine == *d)
                .count();
            assert!(k >= 2, "{d:?}: {k}");
        }
        // Nothing known: the lowest level, every domain to work on.
        assert_eq!(Niveau::de(p.estimation().theta), Niveau(0));
        assert!(p.par_domaine(&banque).iter().all(|(_, e)| !acquis(e.theta)));
        // Taken up again from its answers, the same state.
        let reprise = Passation::reprise(&banque, REGLES, &p.reponses);
        assert_eq!(reprise.estimation(), p.estimation());
    }

    #[test]
    fn the_adaptive_test_places_people_better_than_a_fixed_form() {
        let banque = banque();
        let thetas = abilites(2_000, &mut Alea(11));
        let adaptatif = simuler(&banque, REGLES, &thetas, &mut Alea(12));
        assert!(adaptatif.a_un_niveau_pres >= 0.9, "{adaptatif:?}");
        assert!(adaptatif.items_moyen <= 15.0, "{adaptatif:?}");
        assert!(adaptatif.exposition_max <= 0.3, "{adaptatif:?}");
        let longueur = adaptatif.items_moyen.round() as usize;
        let fixe = simuler_forme_fixe(
            &banque,
            REGLES,
            &forme_fixe(&banque, longueur),
            &thetas,
            &mut Alea(12),
        );
        assert!(adaptatif.rmse < fixe.rmse, "{adaptatif:?} {fixe:?}");
    }
}
