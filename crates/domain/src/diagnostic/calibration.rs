//! The item parameters re-estimated from real answers, by marginal maximum likelihood with
//! the EM algorithm (Bock & Aitkin, 1981) on the grid the test estimates on. Each round:
//! every person's posterior over the grid under the current parameters and the test's prior
//! (E step), then each item's (a, b) maximising its expected log-likelihood over the grid,
//! a weighted logistic regression solved by Newton's method (M step). The prior fixes the
//! scale, so new parameters stay on the scale the levels are cut on. An item answered by
//! too few people keeps its parameters; every estimate is bounded to values the bank's
//! lint accepts. A result already given is never recomputed (it is kept as given).

use super::irt::{POINTS, Parametres, Posterieure, point};

/// Bounds of an estimate: those the bank's authors use.
pub const A_MIN: f64 = 0.3;
pub const A_MAX: f64 = 3.0;
pub const B_MIN: f64 = -4.0;
pub const B_MAX: f64 = 4.0;

/// How the estimation ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reglage {
    /// The prior on ability: the test's.
    pub ecart_a_priori: f64,
    /// Answers an item needs to be re-estimated.
    pub minimum: usize,
    pub tours: usize,
}

/// Re-estimates `items` from `personnes`' answers (item index, right or not). Each item's
/// new parameters, or `None` when it had fewer answers than `reglage.minimum`.
pub fn reestimer(
    items: &[Parametres],
    personnes: &[Vec<(usize, bool)>],
    reglage: Reglage,
) -> Vec<Option<Parametres>> {
    let mut courants = items.to_vec();
    let mut reponses = vec![0usize; items.len()];
    for p in personnes {
        for &(i, _) in p {
            reponses[i] += 1;
        }
    }
    let thetas: Vec<f64> = (0..POINTS).map(point).collect();
    for _ in 0..reglage.tours {
        // E step: expected answers (n) and right answers (r) of each item at each point.
        let mut n = vec![vec![0.0; POINTS]; items.len()];
        let mut r = vec![vec![0.0; POINTS]; items.len()];
        for p in personnes {
            let mut post = Posterieure::normale(0.0, reglage.ecart_a_priori);
            for &(i, juste) in p {
                post.ajouter(courants[i], juste);
            }
            let w = post.poids();
            for &(i, juste) in p {
                for q in 0..POINTS {
                    n[i][q] += w[q];
                    if juste {
                        r[i][q] += w[q];
                    }
                }
            }
        }
        // M step.
        for i in 0..items.len() {
            if reponses[i] >= reglage.minimum {
                courants[i] = maximiser(courants[i], &thetas, &n[i], &r[i]);
            }
        }
    }
    courants
        .into_iter()
        .zip(reponses)
        .map(|(p, k)| (k >= reglage.minimum).then_some(p))
        .collect()
}

/// The (a, b) maximising Σ r log P + (n − r) log (1 − P) over the grid: Newton's method on
/// logit P = a θ + c, then b = −c / a, bounded.
fn maximiser(depart: Parametres, thetas: &[f64], n: &[f64], r: &[f64]) -> Parametres {
    let (mut a, mut c) = (depart.a, -depart.a * depart.b);
    for _ in 0..25 {
        let (mut ga, mut gc, mut haa, mut hac, mut hcc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for q in 0..thetas.len() {
            if n[q] < 1e-12 {
                continue;
            }
            let t = thetas[q];
            let p = 1.0 / (1.0 + (-(a * t + c)).exp());
            let e = r[q] - n[q] * p;
            let w = n[q] * p * (1.0 - p);
            ga += e * t;
            gc += e;
            haa += w * t * t;
            hac += w * t;
            hcc += w;
        }
        let det = haa * hcc - hac * hac;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hcc * ga - hac * gc) / det;
        let dc = (haa * gc - hac * ga) / det;
        // Half steps at most a unit at a time: a flat likelihood must not throw it away.
        let pas = 1.0f64.min(1.0 / da.abs().max(dc.abs()).max(1e-12));
        a = (a + pas * da).clamp(A_MIN, A_MAX);
        c += pas * dc;
        if da.abs().max(dc.abs()) < 1e-6 {
            break;
        }
    }
    Parametres {
        a,
        b: (-c / a).clamp(B_MIN, B_MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::adaptatif::{Alea, Item, Passation, REGLES, abilites};
    use crate::diagnostic::referentiel::Domaine;

    /// 60 items over the scale, taken adaptively by 2,500 people of known ability.
    #[test]
    fn parameters_are_found_back_from_adaptive_answers() {
        let vrais: Vec<Item> = (0..60)
            .map(|k| Item {
                domaine: Domaine::ALL[k % 5],
                parametres: Parametres {
                    a: 0.8 + 0.02 * k as f64,
                    b: -2.8 + 0.095 * k as f64,
                },
            })
            .collect();
        // The bank as its authors guessed: difficulties off by up to 0.8, a flattened.
        let devines: Vec<Item> = vrais
            .iter()
            .enumerate()
            .map(|(k, it)| Item {
                parametres: Parametres {
                    a: 1.0,
                    b: it.parametres.b + if k % 2 == 0 { 0.8 } else { -0.6 },
                },
                ..*it
            })
            .collect();
        let mut alea = Alea(11);
        let personnes: Vec<Vec<(usize, bool)>> = abilites(2_500, &mut alea)
            .into_iter()
            .map(|theta| {
                // Asked as the served bank says, answering as the true parameters say.
                let mut p = Passation::new(REGLES);
                while let Some(i) = p.prochaine(&devines, alea.suivant()) {
                    let juste = alea.uniforme() < vrais[i].parametres.p(theta);
                    p.repondre(
                        &devines,
                        i,
                        if juste {
                            crate::diagnostic::adaptatif::Reponse::Juste
                        } else {
                            crate::diagnostic::adaptatif::Reponse::Fausse
                        },
                    );
                }
                p.reponses.iter().map(|&(i, r)| (i, r.juste())).collect()
            })
            .collect();
        let depart: Vec<Parametres> = devines.iter().map(|i| i.parametres).collect();
        let estimes = reestimer(
            &depart,
            &personnes,
            Reglage {
                ecart_a_priori: REGLES.ecart_a_priori,
                minimum: 200,
                tours: 20,
            },
        );
        let ecart_b = |ps: &dyn Fn(usize) -> Option<f64>| {
            let e: Vec<f64> = (0..vrais.len())
                .filter_map(|k| Some(ps(k)? - vrais[k].parametres.b))
                .collect();
            ((e.iter().map(|x| x * x).sum::<f64>()) / e.len() as f64).sqrt()
        };
        let avant = ecart_b(&|k| estimes[k].map(|_| depart[k].b));
        let apres = ecart_b(&|k| estimes[k].map(|p| p.b));
        let estimes_n = estimes.iter().filter(|e| e.is_some()).count();
        assert!(estimes_n >= 30, "{estimes_n} items re-estimated");
        eprintln!("RMSE of b: {avant:.3} → {apres:.3}, {estimes_n} items");
        assert!(
            apres < 0.35 && apres < avant / 2.0,
            "RMSE of b: {avant:.3} → {apres:.3}"
        );
        // With a few people, no item has enough answers: every one keeps its parameters.
        let peu = reestimer(
            &depart,
            &personnes[..20],
            Reglage {
                ecart_a_priori: REGLES.ecart_a_priori,
                minimum: 200,
                tours: 2,
            },
        );
        assert!(peu.iter().all(Option::is_none));
    }
}
