//! `relais import lieux` as an operator runs it: a real file, again, and a broken one.

use crate::common;

use common::{relais_in, run};

#[test]
fn import_a_real_file_twice_and_refuse_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    );
    let run = |args: &[&str]| run(relais_in(dir.path()).args(args));
    let (ok, out, err) = run(&["import", "lieux", file]);
    assert!(ok, "{err}");
    assert!(
        out.contains("687 ligne(s) lue(s), 687 gardée(s) (687 nouvelle(s)"),
        "{out}"
    );
    assert!(out.contains("schéma v0.1, converti en v1"), "{out}");
    let (ok, out, _) = run(&["import", "lieux", "--source", "hinaura-2022-v0", file]);
    assert!(ok && out.contains("687 inchangée(s)"), "{out}");

    let broken = dir.path().join("cassé.json");
    std::fs::write(&broken, "{\"id\": \"1\"}").unwrap();
    let (ok, out, err) = run(&["import", "lieux", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        out.contains("fichier refusé : le JSON doit être un tableau d’objets"),
        "{out}"
    );
    assert!(
        err.contains("1 fichier(s) refusé(s)") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn a_device_is_refused_at_once_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let (ok, stdout, stderr) = run(relais_in(dir.path()).args(["import", "lieux", "/dev/zero"]));
    assert!(!ok);
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    assert!(
        stdout.contains(
            "/dev/zero : fichier refusé : « /dev/zero » n’est pas un fichier ordinaire (dossier, périphérique ou tube) : refusé"
        ),
        "{stdout}"
    );
    assert!(stderr.contains("1 fichier(s) refusé(s)"), "{stderr}");
    // With a mapping, the file is read whole: capped the same way.
    let mapping = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/mappings/angers.toml"
    );
    let (ok, stdout, _) = run(relais_in(dir.path()).args([
        "import",
        "lieux",
        "--correspondance",
        mapping,
        "/dev/zero",
    ]));
    assert!(!ok);
    assert!(
        stdout.contains("n’est pas un fichier ordinaire"),
        "{stdout}"
    );
}

/// A producer's file the schema does not fit: refused as it is, imported through the
/// mapping `--proposer-correspondance` writes.
#[test]
fn a_proposed_mapping_imports_a_file_the_schema_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/sources-brutes/gironde.json"
    );
    let run = |args: &[&str]| run(relais_in(dir.path()).args(args));
    let (ok, out, _) = run(&["import", "lieux", file]);
    assert!(
        !ok && out.contains("colonne(s) obligatoire(s) absente(s)"),
        "{out}"
    );
    let (ok, proposal, err) = run(&["import", "lieux", "--proposer-correspondance", file]);
    assert!(ok, "{err}");
    assert!(proposal.contains("[champs.nom]\n# confiance"), "{proposal}");
    assert!(proposal.contains("colonne = \"Lieu\""), "{proposal}");
    let mapping = dir.path().join("gironde.toml");
    std::fs::write(&mapping, &proposal).unwrap();
    let (ok, out, err) = run(&[
        "import",
        "lieux",
        "--correspondance",
        mapping.to_str().unwrap(),
        file,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("347 ligne(s) lue(s), 346 gardée(s)"), "{out}");
}

/// A register of structures: imported, said with its rejected rows, and a role given in
/// one of the units sharing a SIRET.
#[test]
fn a_register_of_structures_is_imported_and_its_units_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registre-drome.csv");
    std::fs::write(
        &file,
        "ID,Name,Siret,Address,Zip Code,City,Is Active\n\
         1,CMS de Chabeuil,22260001700016.0,7 rue des Cerisiers,26120,Chabeuil,true\n\
         2,CMS de Crest,22260001700016.0,1 place,26400,Crest,true\n\
         3,Sans SIRET,0.0,rue,26120,Chabeuil,true\n",
    )
    .unwrap();
    let run = |args: &[&str]| run(relais_in(dir.path()).args(args));
    let path = file.to_str().unwrap();
    let (ok, out, err) = run(&["import", "structures", path, "--label", "aidants_connect"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("3 ligne(s) lue(s), 2 gardée(s) (2 nouvelle(s), 0 modifiée(s), 0 inchangée(s)), 2 SIRET réparé(s)"),
        "{out}"
    );
    assert!(
        out.contains("ligne 4, siret « 0.0 » : valeur obligatoire absente"),
        "{out}"
    );
    let (ok, _, err) = run(&["import", "structures", path, "--label", "inconnu"]);
    assert!(!ok && err.contains("label « inconnu » inconnu"), "{err}");

    let mut account = relais_in(dir.path());
    account
        .args([
            "admin",
            "creer-compte",
            "--courriel",
            "a@exemple.fr",
            "--prenom",
            "A",
            "--nom",
            "B",
        ])
        .env("RELAIS_NOUVEAU_MOT_DE_PASSE", "une longue phrase de passe");
    let (ok, _, err) = common::run(&mut account);
    assert!(ok, "{err}");
    let grant = |extra: &[&str]| {
        let mut args = vec![
            "admin",
            "attribuer-role",
            "--courriel",
            "a@exemple.fr",
            "--siret",
            "22260001700016",
            "--role",
            "aidant",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (ok, _, err) = grant(&[]);
    assert!(
        !ok && err.contains("2 structures ont le SIRET 22260001700016"),
        "{err}"
    );
    let id = err
        .lines()
        .find(|l| l.contains("CMS de Crest"))
        .and_then(|l| l.trim().split(' ').next())
        .unwrap()
        .to_string();
    let (ok, out, err) = grant(&["--structure", &id]);
    assert!(ok, "{err}");
    assert!(out.contains("de CMS de Crest"), "{out}");
}

/// `relais import activites-v1` on the example file the project ships: each report
/// becomes an activity of the conseiller's account, again adds nothing, and a broken line
/// is named with its field while the others are kept.
#[test]
fn version_1_reports_are_imported_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| run(relais_in(dir.path()).args(args));
    let mut account = relais_in(dir.path());
    account
        .args([
            "admin",
            "creer-compte",
            "--courriel",
            "conseiller@exemple.fr",
            "--prenom",
            "Camille",
            "--nom",
            "Martin",
        ])
        .env("RELAIS_NOUVEAU_MOT_DE_PASSE", "une longue phrase de passe");
    let (ok, _, err) = common::run(&mut account);
    assert!(ok, "{err}");
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/activites/cra-v1-exemple.jsonl"
    );
    let (ok, out, _) = run(&["import", "activites-v1", file]);
    assert!(
        ok && out.contains("0 compte(s) rendu(s) importé(s), 0 déjà importé(s), 5 rejeté(s)"),
        "{out}"
    );
    assert!(out.contains("ligne 1, champ « conseiller » : aucun médiateur numérique n’a le compte « conseiller@exemple.fr »."), "{out}");

    let (ok, _, err) = run(&[
        "admin",
        "creer-structure",
        "--siret",
        "13002526500013",
        "--nom",
        "Médiathèque",
        "--commune",
        "42218",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "admin",
        "attribuer-role",
        "--courriel",
        "conseiller@exemple.fr",
        "--siret",
        "13002526500013",
        "--role",
        "mediateur",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["import", "activites-v1", file]);
    assert!(ok, "{err}");
    assert!(
        out.contains("5 compte(s) rendu(s) importé(s), 0 déjà importé(s), 0 rejeté(s)"),
        "{out}"
    );
    let (ok, out, _) = run(&["import", "activites-v1", file]);
    assert!(
        ok && out.contains("0 compte(s) rendu(s) importé(s), 5 déjà importé(s), 0 rejeté(s)"),
        "{out}"
    );

    let broken = dir.path().join("cra.jsonl");
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| l.replace("\"id\":\"v1-", "\"id\":\"b-"))
        .collect();
    lines[1] = lines[1].replace("\"smartphone\"", "\"jardinage\"");
    lines[3] = lines[3].replace("\"42218\"", "\"99999\"");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let (ok, out, _) = run(&["import", "activites-v1", broken.to_str().unwrap()]);
    assert!(
        ok && out.contains("3 compte(s) rendu(s) importé(s), 0 déjà importé(s), 2 rejeté(s)"),
        "{out}"
    );
    assert!(
        out.contains("ligne 2, champ « themes » : thème inconnu « jardinage »."),
        "{out}"
    );
    assert!(
        out.contains("ligne 4, champ « codeCommune » : « 99999 » n’est pas une commune connue."),
        "{out}"
    );
}
