"""Vérifie la lisibilité des textes de la banque de questions du diagnostic.

    python3 verifier.py questions.toml [--seuil 60]

Le diagnostic s'adresse à des personnes qui lisent peu ou mal. Ses textes suivent
les règles FALC (Facile à lire et à comprendre). Ce script en est un juge
indépendant : il ne vient pas de Relais, il applique une formule publique.

Pour chaque question, il calcule l'indice de lecture de Flesch adapté au français
par Kandel et Moles (textstat en langue « fr », syllabes comptées par pyphen) :
  (a) de l'énoncé suivi des réponses, chaque réponse lue comme une phrase ;
  (b) de l'explication.
Plus le score est haut, plus le texte est facile. 60 veut dire « assez facile ».

Sortie : une ligne par texte sous le seuil (identifiant, texte, score), puis code 1.
Si tout passe : un résumé JSON (nombre de questions, nombre par domaine, scores
minimum et médian des énoncés et des explications), puis code 0.
Code 2 si le fichier est illisible ou mal formé.
"""
import argparse
import json
import statistics
import sys
import tomllib

import textstat

SEUIL_DEFAUT = 60.0
FINS_DE_PHRASE = (".", "!", "?", "…")


def en_phrase(texte):
    """Termine une réponse par un point, pour qu'elle compte comme une phrase."""
    texte = texte.strip()
    if texte.rstrip(" »").endswith(FINS_DE_PHRASE):
        return texte
    return texte + "."


def texte_enonce(question):
    """L'énoncé suivi de chaque réponse, comme on les lit à voix haute."""
    reponses = [en_phrase(r) for r in question["reponses"]]
    return " ".join([question["enonce"].strip(), *reponses])


def score(texte):
    return round(textstat.flesch_reading_ease(texte), 1)


def erreur(message):
    print(message, file=sys.stderr)
    sys.exit(2)


def charger(chemin):
    try:
        with open(chemin, "rb") as f:
            donnees = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        erreur(f"{chemin} : lecture impossible ({e})")
    questions = donnees.get("question")
    if not isinstance(questions, list) or not questions:
        erreur(f"{chemin} : aucune table [[question]]")
    for i, q in enumerate(questions):
        for cle in ("id", "domaine", "enonce", "reponses", "explication"):
            if cle not in q:
                erreur(f"{chemin} : question n° {i + 1} sans « {cle} »")
    return questions


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Lisibilité (Kandel et Moles) des textes du diagnostic."
    )
    parser.add_argument("fichier", help="la banque de questions, en TOML")
    parser.add_argument(
        "--seuil",
        type=float,
        default=SEUIL_DEFAUT,
        help="score minimum accepté (défaut : 60, « assez facile »)",
    )
    args = parser.parse_args(argv)

    textstat.set_lang("fr")
    questions = charger(args.fichier)

    echecs = []
    enonces, explications, domaines = [], [], {}
    for q in questions:
        domaines[q["domaine"]] = domaines.get(q["domaine"], 0) + 1
        for nom, texte, scores in (
            ("enonce", texte_enonce(q), enonces),
            ("explication", q["explication"], explications),
        ):
            s = score(texte)
            scores.append(s)
            if s < args.seuil:
                echecs.append(f"{q['id']}\t{nom}\t{s}")

    if echecs:
        print("\n".join(echecs))
        print(
            f"{len(echecs)} texte(s) sous le seuil {args.seuil:g}",
            file=sys.stderr,
        )
        return 1

    resume = {
        "questions": len(questions),
        "seuil": args.seuil,
        "domaines": dict(sorted(domaines.items())),
        "enonces": {
            "min": min(enonces),
            "mediane": round(statistics.median(enonces), 1),
        },
        "explications": {
            "min": min(explications),
            "mediane": round(statistics.median(explications), 1),
        },
    }
    print(json.dumps(resume, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
