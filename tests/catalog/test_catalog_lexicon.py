"""The catalogue's lexicon (catalog/synonyms.yaml) as a whole: everyday requests reach their
category, ordinary messages name none, and the table stays consistent as it grows.

The sentences are written for this test (2026-12-07), not taken from an evaluation set.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml

from catalog.synonyms import SYNONYMS_FILE, synonym_table
from catalog.text import terms
from catalog.understanding import named_kind, understand
from catalog.vocabulary import CATEGORY_LABELS


def first_category(text: str) -> str | None:
    match = synonym_table().match(understand(text).terms)
    return match.categories[0] if match.categories else None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a gennaio finisce la maternità e devo trovare un nido", "childcare"),
        ("cerco una scuola materna vicino casa", "childcare"),
        ("spazio gioco per bimbi piccoli il pomeriggio", "childcare"),
        ("chi mi tiene il bambino quando è malato?", "babysitting"),
        ("qualcuno che vada a prendere i bambini all'uscita da scuola", "babysitting"),
        ("babysitting per stasera", "babysitting"),
        ("ripetizioni di matematica per la seconda media", "after_school"),
        ("mia figlia è dislessica e fa fatica a studiare", "after_school"),
        ("ha preso tre insufficienze in pagella", "after_school"),
        ("cosa faccio fare ai bambini quando chiudono le scuole?", "summer_camp"),
        ("un grest per l'estate", "summer_camp"),
        ("mia madre non riesce più a lavarsi da sola", "home_care"),
        ("cerco una badante convivente per il nonno", "home_care"),
        ("assistenza notturna per un anziano", "home_care"),
        ("mio padre ha l'alzheimer, c'è un centro diurno?", "elderly_day_care"),
        ("circolo per anziani dove giocare a carte", "elderly_day_care"),
        ("come si chiede l'invalidità civile", "disability"),
        ("aiuto per una persona in carrozzina", "disability"),
        ("mio nonno è non vedente", "disability"),
        ("soffro di attacchi di panico", "psychological_support"),
        ("mi sento giù e piango spesso", "psychological_support"),
        ("mi sento sola da quando è morto mio marito", "psychological_support"),
        ("cerco un dentista che costi poco", "health"),
        ("dove posso fare le analisi del sangue", "health"),
        ("fisioterapia dopo un'operazione al ginocchio", "health"),
        ("mi hanno dato lo sfratto, cosa faccio?", "housing"),
        ("cerco una stanza in affitto economica", "housing"),
        ("dormo in macchina da una settimana", "housing"),
        ("sono disoccupato da un anno", "job_search"),
        ("mi aiutate a scrivere il curriculum?", "job_search"),
        ("non ho più un lavoro", "job_search"),
        ("vorrei un corso per diventare OSS", "training"),
        ("corso di computer per principianti", "training"),
        ("voglio prendere la licenza media", "training"),
        ("mia moglie non parla bene italiano", "italian_course"),
        ("devo fare l'esame di italiano per il permesso di soggiorno", "italian_course"),
        ("non arrivo a fine mese", "income_support"),
        ("mi hanno staccato la luce perché non ho pagato", "income_support"),
        ("ho tanti debiti e non so come fare", "income_support"),
        ("dove danno il pacco alimentare", "food_aid"),
        ("mi servono pannolini e latte in polvere", "food_aid"),
        ("buoni spesa del comune", "food_aid"),
        ("io e mio marito litighiamo sempre", "family_counselling"),
        ("ci stiamo separando e non so come dirlo ai bambini", "family_counselling"),
        ("corso preparto per neomamme", "family_counselling"),
        ("spazio di coworking con area bimbi", "work_life_balance"),
        ("qualcuno che mi faccia le commissioni mentre lavoro", "work_life_balance"),
        ("portare i figli agli allenamenti quando lavoro", "work_life_balance"),
        ("piscina comunale per nuotare la mattina", "sport_leisure"),
        ("gite organizzate per pensionati", "sport_leisure"),
        ("voglio fare un po' di movimento", "sport_leisure"),
        # 2026-12-07, eighth session (tests/nlu_fresh/search_paraphrases_dev2.yml)
        ("una collaboratrice familiare per mio suocero non autosufficiente", "home_care"),
        ("struttura semiresidenziale per una persona anziana", "elderly_day_care"),
        ("un servizio di giorno per malati di demenza", "elderly_day_care"),
        ("tirocinio pagato per ragazzi", "job_search"),
        ("vorrei diventare OSS, dove si fa il corso?", "training"),
        ("lezioni di lingua per richiedenti asilo", "italian_course"),
        ("iscrizione al CPIA", "italian_course"),
        ("borse di generi di prima necessità per famiglie in crisi", "food_aid"),
        ("il mio ex non paga il mantenimento", "family_counselling"),
        ("entrata anticipata alla materna, io attacco alle 7", "work_life_balance"),
        ("la scuola finisce alle 16:30, c'è un post scuola?", "work_life_balance"),
        ("chi mi tiene i figli la mattina presto prima di scuola?", "work_life_balance"),
        ("un centro di aggregazione per ragazzi il pomeriggio", "after_school"),
        ("una signora che badi ai figli piccoli a domicilio", "babysitting"),
        ("sono ucraina, faccio la badante, vorrei studiare la grammatica", "italian_course"),
    ],
)
def test_everyday_requests_reach_their_category(text: str, category: str) -> None:
    assert first_category(text) == category


@pytest.mark.parametrize(
    "text",
    [
        "spegni la luce in salotto",
        "che tempo fa domani a Firenze",
        "il telefono ha la batteria scarica",
        "la ricetta della ribollita",
        "quanto costa il biglietto del tram",
        "metti una canzone di Vasco",
        "voglio comprare un computer nuovo",
        "ho mal di testa per il caldo",
        "domani ho una verifica di matematica",
        "il gatto non mangia da ieri",
        "il corriere ha lasciato il pacco dal vicino",
        "la bolletta del telefono è arrivata doppia",
        "voglio cambiare compagnia telefonica",
        "il condominio vuole rifare il tetto",
        "ho perso le chiavi di casa",
        "la cena è pronta",
        "compra il latte quando torni",
        "il medico della serie tv è bravissimo",
        "ho visto un bel film sulla famiglia",
        "la partita di calcio stasera in tv",
        "le scarpe da ginnastica di mio fratello",
        "lo stipendio arriva il 27",
        "oggi sono un po' stanca",
        "che ansia questo traffico",
        "come si diventa assistente sociale",
        "il prestito dei libri in biblioteca",
        "in estate fa troppo caldo",
        "my internet is down",
    ],
)
def test_ordinary_messages_name_no_kind_of_service(text: str) -> None:
    assert named_kind(text) is None


def _entries() -> list[dict[str, object]]:
    return yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8"))


def test_every_category_has_a_broad_vocabulary() -> None:
    words: dict[str, int] = defaultdict(int)
    for entry in _entries():
        if entry["category"]:
            words[str(entry["category"])] += len(entry["words"])  # type: ignore[arg-type]
    assert set(words) == set(CATEGORY_LABELS)
    assert min(words.values()) >= 40, words


def test_a_phrase_means_one_thing() -> None:
    """After normalisation no phrase belongs to two categories, or is both general and
    specific: «materna» and «maternità» share a stem, so only one of them can be listed."""
    meaning: dict[tuple[str, ...], set[tuple[object, bool]]] = defaultdict(set)
    for entry in _entries():
        for word in entry["words"]:  # type: ignore[union-attr]
            phrase = tuple(terms(str(word)))
            assert phrase, f"{word!r} is only stopwords"
            meaning[phrase].add((entry["category"], bool(entry.get("weak"))))
    assert {p: m for p, m in meaning.items() if len(m) > 1} == {}


def test_a_look_alike_phrase_names_nothing() -> None:
    match = synonym_table().match(terms("assistente sociale"))
    assert match.categories == [] and match.spans == [(0, 2)]
