//! What a finished diagnostic says: the whole test's level and, per domain, whether the
//! person knows it, in words they understand. A result is kept as it was given: later
//! re-estimations of the bank's parameters never change it.

use super::adaptatif::{Item, Passation, acquis};
use super::referentiel::{Domaine, Niveau};
use crate::lieux::vocabulaires::Service;

/// One domain's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResultatDomaine {
    pub domaine: Domaine,
    pub niveau: Niveau,
    pub acquis: bool,
}

impl ResultatDomaine {
    /// The sentence the person reads: « Vous savez … » or « À travailler : … ».
    pub fn phrase(&self) -> String {
        if self.acquis {
            format!("Vous savez {}.", self.domaine.savoir())
        } else {
            format!("À travailler : {}.", self.domaine.savoir())
        }
    }
}

/// A finished diagnostic's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Resultat {
    /// The ability and its standard error, in thousandths of a logit (kept as integers).
    pub theta_milli: i64,
    pub erreur_milli: i64,
    pub niveau: Niveau,
    pub domaines: Vec<ResultatDomaine>,
}

impl Resultat {
    /// The result of a finished test.
    pub fn de(passation: &Passation, banque: &[Item]) -> Resultat {
        let e = passation.estimation();
        Resultat {
            theta_milli: milli(e.theta),
            erreur_milli: milli(e.erreur),
            niveau: Niveau::de(e.theta),
            domaines: passation
                .par_domaine(banque)
                .into_iter()
                .map(|(domaine, e)| ResultatDomaine {
                    domaine,
                    niveau: Niveau::de(e.theta),
                    acquis: acquis(e.theta),
                })
                .collect(),
        }
    }

    /// The domains the person knows, then those to work on.
    pub fn acquis(&self) -> impl Iterator<Item = &ResultatDomaine> {
        self.domaines.iter().filter(|d| d.acquis)
    }

    pub fn a_travailler(&self) -> impl Iterator<Item = &ResultatDomaine> {
        self.domaines.iter().filter(|d| !d.acquis)
    }

    /// The lieux services that teach what is to work on, or everyday tools when every
    /// domain is known.
    pub fn services_a_suivre(&self) -> Vec<Service> {
        let mut services: Vec<Service> = self.a_travailler().map(|d| d.domaine.service()).collect();
        services.dedup();
        if services.is_empty() {
            services.push(Service::MaitriseOutils);
        }
        services
    }

    /// What changed since an earlier result: each domain's levels gained (or lost).
    pub fn progres_depuis(&self, avant: &Resultat) -> Progres {
        Progres {
            niveaux: i16::from(self.niveau.0) - i16::from(avant.niveau.0),
            acquis: self
                .domaines
                .iter()
                .filter(|d| {
                    d.acquis
                        && avant
                            .domaines
                            .iter()
                            .any(|a| a.domaine == d.domaine && !a.acquis)
                })
                .map(|d| d.domaine)
                .collect(),
        }
    }
}

/// What a person gained between two diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progres {
    /// Levels gained overall (negative if lost).
    pub niveaux: i16,
    /// Domains known now that were not.
    pub acquis: Vec<Domaine>,
}

impl Progres {
    /// Whether the person progressed: a level gained or a domain learnt.
    pub fn progresse(&self) -> bool {
        self.niveaux > 0 || !self.acquis.is_empty()
    }
}

fn milli(x: f64) -> i64 {
    (x * 1_000.0).round() as i64
}

/// The random bits for the item at `rang` of a diagnostic drawn with `graine`: the same on
/// every reload, so a page shows the same question until it is answered.
pub fn tirage(graine: i64, rang: usize) -> u64 {
    let mut alea =
        super::adaptatif::Alea((graine as u64) ^ (rang as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    alea.suivant()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::adaptatif::{REGLES, Reponse};
    use crate::diagnostic::irt::Parametres;

    fn banque() -> Vec<Item> {
        Domaine::ALL
            .iter()
            .flat_map(|&domaine| {
                (0..8).map(move |k| Item {
                    domaine,
                    parametres: Parametres {
                        a: 1.4,
                        b: -2.5 + 0.7 * k as f64,
                    },
                })
            })
            .collect()
    }

    fn passe(juste: impl Fn(Domaine) -> bool, graine: i64) -> Resultat {
        let b = banque();
        let mut p = Passation::new(REGLES);
        let mut rang = 0;
        while let Some(i) = p.prochaine(&b, tirage(graine, rang)) {
            let r = if juste(b[i].domaine) {
                Reponse::Juste
            } else {
                Reponse::NeSaitPas
            };
            p.repondre(&b, i, r);
            rang += 1;
        }
        Resultat::de(&p, &b)
    }

    #[test]
    fn words_say_what_is_known_and_what_to_work_on() {
        let r = passe(|d| d != Domaine::Securite, 7);
        let securite = r
            .domaines
            .iter()
            .find(|d| d.domaine == Domaine::Securite)
            .unwrap();
        assert!(!securite.acquis);
        assert!(
            securite
                .phrase()
                .starts_with("À travailler : vous protéger")
        );
        assert!(r.acquis().any(|d| d.phrase().starts_with("Vous savez ")));
    }

    #[test]
    fn progress_counts_levels_and_domains_learnt() {
        let avant = passe(|_| false, 1);
        let apres = passe(|_| true, 2);
        let p = apres.progres_depuis(&avant);
        assert!(p.progresse());
        assert!(p.niveaux >= 3, "{p:?}");
        assert_eq!(p.acquis.len(), Domaine::ALL.len());
        assert!(!avant.progres_depuis(&apres).progresse());
    }

    #[test]
    fn the_draw_is_the_same_on_every_reload() {
        assert_eq!(tirage(42, 3), tirage(42, 3));
        assert_ne!(tirage(42, 3), tirage(42, 4));
        assert_ne!(tirage(42, 3), tirage(43, 3));
    }
}
