"""The out-of-domain detector's model: in-domain vs out-of-domain, apart from DIET.

A logistic regression on word (1-2) and char_wb (2-5) n-grams of the lowercased,
accent-folded text, trained only on the training data (data/nlu/, Italian and English in
data/nlu/en/). ``mode``:

- ``intents`` (the one chosen): one-vs-rest over every intent of the training data;
  P(out) is the normalised score of ``out_of_scope``. Each welfare intent has its own
  boundary, so an out-of-domain sentence near one intent's words is still told apart;
- ``binary``: out_of_scope against all the in-domain intents pooled (``label_of``).

Shared by the Rasa
component (nlu/ood_detector.py) and the prototype (devtools/ood_prototype.py), so the
figures measured on the validation splits are those of the component. Runs in Rasa's
environment (scikit-learn comes with Rasa); nothing of ours is imported.

One text at a time (the served case) is scored by ``_FastScorer``: the vectorisers' own
analysers, the vocabulary lookup, the fitted idf and l2 normalisation, a dot with the
regression's coefficients and its logistic, the arithmetic of ``predict_proba`` without
scikit-learn's input checks around a one-row sparse matrix (1.2 ms a call, mostly those
checks). It is built from the fitted objects when first needed and never stored, so the
trained artifact is the same; a setting it does not reproduce (another norm, binary
counts, a multinomial regression) leaves scikit-learn's path in use.
tests/nlu/test_ood_fast_path.py holds it to scikit-learn's probabilities.

Binary labels (``label_of``): ``out_of_scope`` is out; the welfare intents, the dialogue's
short answers (affirm, deny, inform) and ``emergency`` are in; the social intents
(greet, goodbye, thank, bot_challenge) are left out of the training: the assistant
answers them well already, DIET tells them apart, the gate never overrides them, and as
either label they would teach the detector that short social words are (or are not)
welfare (docs/nlu-pipeline.md, "Out-of-domain detector").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import hstack
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

OUT_OF_SCOPE = "out_of_scope"
SOCIAL = frozenset({"greet", "goodbye", "thank", "bot_challenge"})
OUT, IN = 1, 0


def label_of(intent: str, social: str = "skip") -> int | None:
    """1 for out of domain, 0 for in domain, None for an example the detector skips."""
    if intent == OUT_OF_SCOPE:
        return OUT
    if intent in SOCIAL:
        return {"out": OUT, "in": IN}.get(social)
    return IN


@dataclass(frozen=True)
class DetectorSettings:
    mode: str = "intents"  # intents | binary
    # inverse regularisation of the logistic regression: 100 since the model trains on both
    # languages (best in cross-validation and on the validation splits at 1 % loss;
    # docs/nlu-pipeline.md, "Out-of-domain detector, both languages")
    c: float = 100.0
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    social: str = "skip"  # binary mode: skip | out | in, what the social intents are
    balanced: bool = True  # class weights inversely proportional to the class sizes


class OodModel:
    """Vectorisers and the regression; ``probability`` is P(out of domain)."""

    def __init__(self, settings: DetectorSettings = DetectorSettings()) -> None:
        self.settings = settings
        self._word = TfidfVectorizer(
            analyzer="word",
            ngram_range=settings.word_ngrams,
            lowercase=True,
            strip_accents="unicode",
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
        )
        self._char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=settings.char_ngrams,
            lowercase=True,
            strip_accents="unicode",
            sublinear_tf=True,
        )
        self._regression = LogisticRegression(
            C=settings.c,
            class_weight="balanced" if settings.balanced else None,
            max_iter=2000,
            solver="liblinear",
            random_state=42,
        )

    @property
    def _out_label(self) -> int | str:
        return OUT_OF_SCOPE if self.settings.mode == "intents" else OUT

    def _features(self, texts: Sequence[str], *, fit: bool = False):
        if fit:
            return hstack([self._word.fit_transform(texts), self._char.fit_transform(texts)])
        return hstack([self._word.transform(texts), self._char.transform(texts)])

    def fit(self, examples: Iterable[tuple[str, str]]) -> OodModel:
        """Train on (text, intent) pairs (binary mode: the intent mapped by ``label_of``)."""
        texts: list[str] = []
        labels: list[int | str] = []
        for text, intent in examples:
            label = (
                intent
                if self.settings.mode == "intents"
                else label_of(intent, self.settings.social)
            )
            if label is not None and text.strip():
                texts.append(text)
                labels.append(label)
        if self._out_label not in labels or len(set(labels)) < 2:
            raise ValueError("the detector needs out_of_scope and in-domain training examples")
        self.__dict__.pop("_fast", None)  # a scorer of the former fit
        self._regression.fit(self._features(texts, fit=True).tocsr(), labels)
        return self

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scorer = self.fast_scorer()
        if scorer is not None:
            return [scorer.probability(text) for text in texts]
        return self.sklearn_probabilities(texts)

    def sklearn_probabilities(self, texts: Sequence[str]) -> list[float]:
        """P(out) through scikit-learn's pipeline (what the fast path reproduces)."""
        if not texts:
            return []
        scores = self._regression.predict_proba(self._features(texts).tocsr())
        column = list(self._regression.classes_).index(self._out_label)
        return [float(row[column]) for row in scores]

    def fast_scorer(self) -> _FastScorer | None:
        """The one-text scorer, built once from the fitted objects (None: not reproducible,
        or not fitted)."""
        if "_fast" not in self.__dict__:
            self._fast = _FastScorer.build(
                self._word, self._char, self._regression, self._out_label
            )
        return self._fast

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fast", None)  # derived from the fitted objects: never stored
        return state

    def probability(self, text: str) -> float:
        return self.probabilities([text])[0]


class _Block:
    """One fitted TfidfVectorizer, as its transform computes a single text's row."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int) -> None:
        self.analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.idf: np.ndarray | None = (
            np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
        )
        self.normalise = vectorizer.norm == "l2"
        self.offset = offset

    @staticmethod
    def reproducible(vectorizer: TfidfVectorizer) -> bool:
        return (
            vectorizer.norm in ("l2", None)
            and not vectorizer.binary
            and np.dtype(vectorizer.dtype) == np.float64
            and hasattr(vectorizer, "vocabulary_")
        )

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices (with the block's offset) and values of the text's tf-idf row."""
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for feature in self.analyze(text):
            index = vocabulary.get(feature)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear:
            np.log(values, values)
            values += 1
        if self.idf is not None:
            values *= self.idf[columns]
        if self.normalise:
            norm = float(np.dot(values, values))
            if norm != 0.0:
                values /= np.sqrt(norm)
        return columns + self.offset, values


class _FastScorer:
    """``predict_proba(hstack([word.transform([t]), char.transform([t])]))[0, out]`` for
    one text: the same steps, on the few non-zero columns only."""

    def __init__(
        self, blocks: list[_Block], coef: np.ndarray, intercept: np.ndarray, column: int
    ) -> None:
        self._blocks = blocks
        self._coef = coef  # (classes or 1, features), the regression's own array
        self._intercept = intercept
        self._column = column

    @classmethod
    def build(
        cls,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        regression: LogisticRegression,
        out_label: int | str,
    ) -> _FastScorer | None:
        if not all(_Block.reproducible(v) for v in (word, char)):
            return None
        if not hasattr(regression, "coef_") or not hasattr(regression, "classes_"):
            return None
        ovr = regression.multi_class in ("ovr", "warn") or (
            regression.multi_class == "auto"
            and (regression.classes_.size <= 2 or regression.solver == "liblinear")
        )
        classes = list(regression.classes_)
        if not ovr or out_label not in classes:
            return None
        coef = np.asarray(regression.coef_, dtype=np.float64)
        n_word = len(word.vocabulary_)
        if coef.shape[1] != n_word + len(char.vocabulary_):
            return None
        intercept = np.ravel(np.asarray(regression.intercept_, dtype=np.float64))
        blocks = [_Block(word, 0), _Block(char, n_word)]
        return cls(blocks, coef, intercept, classes.index(out_label))

    def probability(self, text: str) -> float:
        rows = [block.row(text) for block in self._blocks]
        columns = np.concatenate([r[0] for r in rows])
        values = np.concatenate([r[1] for r in rows])
        scores = self._coef[:, columns] @ values + self._intercept
        prob = expit(scores)
        if prob.shape[0] == 1:  # two classes: decision_function's one column is classes_[1]
            p_second = float(prob[0])
            return p_second if self._column == 1 else 1 - p_second
        # one-vs-rest normalisation, as LogisticRegression._predict_proba_lr
        return float(prob[self._column] / prob.sum())
