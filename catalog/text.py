"""Italian text normalisation shared by indexing and querying.

A text becomes a list of *terms*: lowercase, spaCy's Italian tokenizer, the lookup
lemmatizer (with a guard against its known wrong guesses), Italian stopwords removed,
accents folded, then the Snowball Italian stem of the lemma. Documents and queries go
through the same function, so "Città"/"citta", "anziani"/"anziana" and
"corsi"/"corso" end up as the same term on every database backend.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import snowballstemmer

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy's Italian stopword list has words that matter for welfare services.
_KEEP: Final[frozenset[str]] = frozenset(
    {
        "casa", "lavoro", "citta", "città", "anni", "anno", "giorni", "giorno", "mesi", "ore",
        "persone", "vita", "tempo", "gruppo", "consiglio", "governo", "uomo", "fine",
        "futuro", "generale", "mondo", "paese", "posto", "registrazione", "luogo", "attesa",
        "anticipo", "nazionale", "scola", "piedi", "mezzo", "favore", "mancanza", "insieme",
    }
)  # fmt: skip

# Lemmas the lookup table gets wrong for words that matter here (noun read as a verb...).
LEMMA_FIXES: Final[dict[str, str]] = {
    "badante": "badante",
    "badanti": "badante",
    "corso": "corso",
    "corsi": "corso",
    "figlio": "figlio",
    "figli": "figlio",
    "figlia": "figlio",
    "figlie": "figlio",
    "lavoro": "lavoro",
    "lavori": "lavoro",
    "centro": "centro",
    "centri": "centro",
    "spesa": "spesa",
    "spese": "spesa",
    "pacco": "pacco",
    "pacchi": "pacco",
    "nido": "nido",
    "nidi": "nido",
    "sostegno": "sostegno",
    "aiuto": "aiuto",
    "aiuti": "aiuto",
    "gioco": "gioco",
    "giochi": "gioco",
    "ascolto": "ascolto",
    "consulenza": "consulenza",
    "compiti": "compito",
    "compito": "compito",
    "pasto": "pasto",
    "pasti": "pasto",
    "affitto": "affitto",
    "affitti": "affitto",
}


def fold(text: str) -> str:
    """Remove accents and other combining marks ("città" -> "citta"); case is kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from spacy.lang.it.stop_words import STOP_WORDS

    words = {w for w in STOP_WORDS if w not in _KEEP}
    return frozenset(words | {fold(w) for w in words})


@lru_cache(maxsize=1)
def nlp() -> Language:
    """spaCy's blank Italian pipeline with the lookup lemmatizer, built once per process."""
    import spacy

    pipeline = spacy.blank("it")
    pipeline.add_pipe("lemmatizer", config={"mode": "lookup"})
    pipeline.initialize()
    return pipeline


class _LemmaTable:
    """Read access by string to spaCy's ``lemma_lookup`` table (its keys are hashed)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: str, default: str) -> str:
        value = self._table.get(key, default)
        return value if isinstance(value, str) else default


@lru_cache(maxsize=1)
def _lemma_table() -> _LemmaTable:
    lemmatizer: Any = nlp().get_pipe("lemmatizer")
    return _LemmaTable(lemmatizer.lookups.get_table("lemma_lookup"))


@lru_cache(maxsize=1)
def _lemmas() -> frozenset[str]:
    """Every lemma of the lookup table (its keys are inflected forms, hashed)."""
    table: Any = _lemma_table()._table
    return frozenset(v for v in table.values() if isinstance(v, str))


# Pronouns glued to an infinitive: «farmi», «farle», «aiutarci».
_CLITICS: Final[tuple[str, ...]] = ("gliela", "glielo", "gli", "mi", "ti", "si", "ci", "vi",
                                    "lo", "la", "li", "le", "ne")  # fmt: skip


def is_word(word: str) -> bool:
    """True when the lowercase ``word`` is an Italian word form the lemmatizer knows.

    «marito», «denti», «babbo», «farmi» are words; «asistenza», «psicolgo», «cerko» are not.
    A known word is not a typo: the search must not "correct" it into another one
    («marito» into «marte», «denti» into «senti»).
    """
    if word in _stopwords() or word in LEMMA_FIXES:
        return True
    table = _lemma_table()
    if table.get(word, "") or word in _lemmas():
        return True
    for clitic in _CLITICS:
        if word.endswith(clitic) and len(word) > len(clitic) + 2:
            stem = word[: -len(clitic)]
            if stem.endswith("r") and (stem + "e" in _lemmas() or table.get(stem + "e", "")):
                return True
    return False


_stemmer = snowballstemmer.stemmer("italian")


def lemma(word: str) -> str:
    """The lookup lemma of a lowercase word, or the word itself when the guess looks wrong.

    The table is case-sensitive and sometimes maps to an unrelated word ("dei" -> "dio",
    "badanti" -> "badare"): a lemma is kept only when it shares its first three letters
    with the word (after accent folding), and ``LEMMA_FIXES`` wins over the table.
    """
    fixed = LEMMA_FIXES.get(word)
    if fixed is not None:
        return fixed
    guess = _lemma_table().get(word, word)
    head = min(3, len(word))
    if fold(guess[:head]) != fold(word[:head]):
        return word
    return guess


@lru_cache(maxsize=200_000)
def term(word: str) -> str | None:
    """The index term of one lowercase token, or None for stopwords, numbers and noise."""
    word = word.strip("'’")
    if len(word) < 2 or not any(c.isalpha() for c in word):
        return None
    stop = _stopwords()
    if word in stop:
        return None
    base = lemma(word)
    if base in stop:
        return None
    # Index terms are plain ASCII letters and digits, so every full-text engine reads
    # them as one token each.
    folded = "".join(c for c in fold(base) if c.isascii() and c.isalnum())
    if len(folded) < 2 or folded.isdigit():
        return None
    return _stemmer.stemWord(folded)


def terms(text: str) -> list[str]:
    """Index terms of ``text`` in order (duplicates kept)."""
    doc = nlp().make_doc(text.lower())
    return [t for t in (term(tok.text) for tok in doc) if t]


def terms_many(texts: Iterable[str], *, batch_size: int = 512) -> Iterator[list[str]]:
    """:func:`terms` for many texts, using spaCy's batched tokenizer."""
    lowered = (t.lower() for t in texts)
    for doc in nlp().tokenizer.pipe(lowered, batch_size=batch_size):
        yield [t for t in (term(tok.text) for tok in doc) if t]


def search_text(*parts: str | None) -> str:
    """The normalised, space-separated terms of ``parts``: what the full-text index stores."""
    return " ".join(terms(" . ".join(p for p in parts if p)))
