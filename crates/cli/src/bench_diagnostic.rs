//! `relais bench-diagnostic`: the adaptive test on the bank compiled in, taken by simulated
//! respondents of known ability drawn over the whole scale, against the best fixed form of
//! the same length taken by the same respondents, in the same run; and the time to choose
//! a next question, the work one page of the test does.

use std::hint::black_box;
use std::time::Instant;

use relais_domain::diagnostic::adaptatif::{
    Alea, Bilan, Passation, REGLES, Reponse, abilites, forme_fixe, simuler, simuler_forme_fixe,
};
use relais_domain::diagnostic::referentiel::Niveau;

#[derive(clap::Args)]
pub struct Args {
    /// Répondants simulés.
    #[arg(long, default_value_t = 20_000, value_name = "NOMBRE")]
    repondants: usize,
    /// Graine du tirage (le même tirage d’une exécution à l’autre).
    #[arg(long, default_value_t = 2026, value_name = "NOMBRE")]
    graine: u64,
}

fn ligne(nom: &str, b: &Bilan) {
    println!(
        "| {nom} | {:.1} | {:.1} % | {:.1} % | {:.3} | {:.1} % |",
        b.items_moyen,
        100.0 * b.a_un_niveau_pres,
        100.0 * b.niveau_exact,
        b.rmse,
        100.0 * b.exposition_max
    );
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let banque = relais_web::diagnostic::banque();
    let items = &banque.items;
    let thetas = abilites(args.repondants, &mut Alea(args.graine));
    let debut = Instant::now();
    let adaptatif = simuler(items, REGLES, &thetas, &mut Alea(args.graine + 1));
    let duree = debut.elapsed();
    let longueur = adaptatif.items_moyen.round() as usize;
    let forme = forme_fixe(items, longueur);
    let fixe = simuler_forme_fixe(items, REGLES, &forme, &thetas, &mut Alea(args.graine + 1));
    println!(
        "{} questions relues ; {} répondants d’abilité uniforme sur [-3, 3] (graine {})",
        items.len(),
        args.repondants,
        args.graine
    );
    println!(
        "| test | questions en moyenne | à un niveau près | niveau exact | RMSE (logits) | exposition max |"
    );
    println!("|---|---|---|---|---|---|");
    ligne("adaptatif", &adaptatif);
    ligne(&format!("forme fixe de {longueur} questions"), &fixe);
    println!(
        "Rapport des RMSE fixe / adaptatif : {:.2} ; simulation des tests adaptatifs : {:.1} µs par répondant",
        fixe.rmse / adaptatif.rmse,
        duree.as_secs_f64() * 1e6 / args.repondants as f64
    );
    // Per true level: where each kind of person lands.
    println!(
        "| niveau vrai | répondants | adaptatif : à un niveau près, niveau exact | forme fixe : à un niveau près, niveau exact |"
    );
    println!("|---|---|---|---|");
    for n in 0..=Niveau::MAX {
        let dans: Vec<f64> = thetas
            .iter()
            .copied()
            .filter(|&t| Niveau::de(t) == Niveau(n))
            .collect();
        let a = simuler(items, REGLES, &dans, &mut Alea(args.graine + 2));
        let f = simuler_forme_fixe(items, REGLES, &forme, &dans, &mut Alea(args.graine + 2));
        println!(
            "| {} ({}) | {} | {:.1} %, {:.1} % | {:.1} %, {:.1} % |",
            n,
            Niveau(n).label(),
            dans.len(),
            100.0 * a.a_un_niveau_pres,
            100.0 * a.niveau_exact,
            100.0 * f.a_un_niveau_pres,
            100.0 * f.niveau_exact
        );
    }
    // One page of the test: the estimate from the answers so far, then the next question.
    let mut p = Passation::new(REGLES);
    let mut alea = Alea(args.graine + 3);
    for _ in 0..9 {
        let i = p.prochaine(items, alea.suivant()).expect("une question");
        p.repondre(items, i, Reponse::Juste);
    }
    let reponses = p.reponses.clone();
    let tours: u32 = 20_000;
    let debut = Instant::now();
    for k in 0..tours {
        let p = Passation::reprise(items, REGLES, black_box(&reponses));
        black_box(p.prochaine(items, u64::from(k)));
    }
    println!(
        "Une page du test (reprise de 9 réponses, puis la question suivante) : {:.1} µs",
        debut.elapsed().as_secs_f64() * 1e6 / f64::from(tours)
    );
    Ok(())
}
