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

Binary labels (``label_of``): ``out_of_scope`` is out; the welfare intents, the dialogue's
short answers (affirm, deny, inform) and ``emergency`` are in; the social intents
(greet, goodbye, thank, bot_challenge) are left out of the training: the assistant
answers them well already, DIET tells them apart, the gate never overrides them, and as
either label they would teach the detector that short social words are (or are not)
welfare (docs/nlu-pipeline.md, "Out-of-domain detector").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scipy.sparse import hstack
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
        self._regression.fit(self._features(texts, fit=True).tocsr(), labels)
        return self

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scores = self._regression.predict_proba(self._features(texts).tocsr())
        column = list(self._regression.classes_).index(self._out_label)
        return [float(row[column]) for row in scores]

    def probability(self, text: str) -> float:
        return self.probabilities([text])[0]
