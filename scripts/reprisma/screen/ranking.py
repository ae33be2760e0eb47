"""Relevance ranking of unscreened records, learned from the screening decisions so far.

Model (chosen by ``benchmarks/screening.py``; see the "Screening prioritisation" section of
``benchmarks/RESULTS.md``):

* text = title + abstract (a missing abstract is an empty string);
* features = TF-IDF (sublinear tf, max_df 0.95, stop words kept, L2-normalised) over 1-2-grams of
  Snowball English *stems* (:class:`StemmedWords`: ``rats``/``rat``, ``antidepressants``/
  ``antidepressant``, ``nudging``/``nudge`` count as one term);
* classifier = linear SVM (scikit-learn's ``LinearSVC``, C = 0.11) trained with sample weights that
  balance the two classes and then weight the relevant class 9.8 times more (``positive_weight``),
  rescaled to mean 1; records are ranked by the decision function. C and the weight are ASReview
  LAB's published settings for its default model ELAS u4 (TF-IDF word 1-2-grams + SVM), so the one
  change against ASReview's model is the stemming; the retraining schedule is ``simulate``'s
  batched one.

How this model was chosen, and every variant tried against it, is in
``benchmarks/screening_experiments.md``.

The vectoriser is fitted on every record of the set (labelled or not): the vocabulary is a property
of the search result, not of the decisions, exactly as ASReview does.

Cold start: while no record has been judged relevant yet, records are ranked by a keyword score
(TF-IDF cosine similarity between each record and the protocol's keywords); with relevant records
but no irrelevant one, by cosine similarity to the centroid of the relevant records (plus the keyword
score). Ties are broken by the records' input order, so a ranking is fully deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

__all__ = [
    "RankerConfig",
    "StemmedWords",
    "Ranker",
    "record_text",
    "rank_records",
]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


class StemmedWords:
    """Text analyzer: lower-cased words of two or more letters or digits (scikit-learn's token
    pattern), reduced to their Snowball (Porter 2) English stem, as word n-grams.

    ``"Rats were treated"`` -> ``rat, were, treat, rat were, were treat`` (for ``ngrams=(1, 2)``).
    """

    def __init__(self, ngrams: tuple[int, int] = (1, 2), language: str = "english"):
        import snowballstemmer

        self.ngrams = tuple(ngrams)
        self._stem = snowballstemmer.stemmer(language).stemWord
        self._cache: dict[str, str] = {}

    def stems(self, text: str) -> list[str]:
        out = []
        for word in _TOKEN.findall(text.lower()):
            stem = self._cache.get(word)
            if stem is None:
                stem = self._cache[word] = self._stem(word)
            out.append(stem)
        return out

    def __call__(self, text: str) -> list[str]:
        words = self.stems(text)
        lo, hi = self.ngrams
        grams: list[str] = []
        for n in range(lo, hi + 1):
            grams.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
        return grams


@dataclass(frozen=True)
class RankerConfig:
    """Settings of the ranking model (the defaults are the documented, benchmarked ones)."""

    word_ngrams: tuple[int, int] = (1, 2)
    stem: bool = True  # Snowball English stems instead of words (StemmedWords)
    char_ngrams: tuple[int, int] | None = None
    char_weight: float = 1.0
    min_df: int = 1
    max_df: float = 0.95
    C: float = 0.11
    classifier: str = "svm"  # "svm" | "logistic" | "nb"
    stop_words: str | None = None  # only without stemming
    # weight of the relevant class relative to "balanced" class weights (ASReview's "balance
    # ratio", 9.8 in its default model ELAS u4); sample weights are rescaled to mean 1
    positive_weight: float = 9.8


def record_text(title: object, abstract: object) -> str:
    """The text a record is ranked on: title and abstract joined (missing parts are empty)."""

    def clean(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and np.isnan(value):
            return ""
        return str(value).strip()

    return f"{clean(title)}\n{clean(abstract)}".strip()


class Ranker:
    """Scores records for relevance given labels for some of them.

    ``texts`` are all records of the set (fixed for the lifetime of the ranker); ``seed`` makes the
    (already deterministic) solvers reproducible should a stochastic one be configured.
    """

    def __init__(self, texts: Sequence[str], *, seed: int = 0, config: RankerConfig | None = None):
        self.config = config or RankerConfig()
        self.seed = int(seed)
        self.n = len(texts)
        cfg = self.config
        words = ({"analyzer": StemmedWords(cfg.word_ngrams)} if cfg.stem
                 else {"ngram_range": cfg.word_ngrams, "stop_words": cfg.stop_words})
        self._word = TfidfVectorizer(
            sublinear_tf=True,
            min_df=cfg.min_df,
            max_df=cfg.max_df if self.n > 20 else 1.0,
            dtype=np.float64,
            **words,
        )
        # A record without title and abstract keeps an all-zero vector: it carries no evidence
        # either way, so it gets the model's neutral (intercept) score instead of a learned
        # "empty" feature that would bury it (relevant records without an abstract exist).
        texts = [t if t.strip() else "" for t in texts]
        blocks = [self._fit(self._word, texts)]
        self._char = None
        if cfg.char_ngrams is not None:
            self._char = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=cfg.char_ngrams,
                sublinear_tf=True,
                min_df=cfg.min_df,
                max_df=cfg.max_df if self.n > 20 else 1.0,
                dtype=np.float64,
            )
            blocks.append(self._fit(self._char, texts) * cfg.char_weight)
        self.X = normalize(sp.hstack(blocks).tocsr())

    @staticmethod
    def _fit(vectorizer, texts):
        try:
            return vectorizer.fit_transform(texts)
        except ValueError:  # empty vocabulary (e.g. only one-letter words): the block stays empty
            vectorizer.vocabulary_ = None
            return sp.csr_matrix((len(texts), 1))

    @staticmethod
    def _transform(vectorizer, texts):
        if getattr(vectorizer, "vocabulary_", None) is None:
            return sp.csr_matrix((len(texts), 1))
        return vectorizer.transform(texts)

    # -- scoring -----------------------------------------------------------------------------

    def keyword_scores(self, keywords: Iterable[str]) -> np.ndarray:
        """Cosine similarity of every record to the protocol keywords (0 when there are none)."""
        query = " ".join(k for k in keywords if k and str(k).strip())
        if not query.strip():
            return np.zeros(self.n)
        blocks = [self._transform(self._word, [query])]
        if self._char is not None:
            blocks.append(self._transform(self._char, [query]) * self.config.char_weight)
        q = normalize(sp.hstack(blocks).tocsr())
        return np.asarray((self.X @ q.T).todense()).ravel()

    def _classifier(self):
        cfg = self.config
        if cfg.classifier == "logistic":
            # dual liblinear: same optimum, ~3x faster when features >> labelled records
            return LogisticRegression(
                C=cfg.C, solver="liblinear", dual=True, max_iter=1000, random_state=self.seed,
            )
        if cfg.classifier == "svm":
            from sklearn.svm import LinearSVC

            return LinearSVC(C=cfg.C, random_state=self.seed)
        if cfg.classifier == "nb":
            from sklearn.naive_bayes import ComplementNB

            return ComplementNB(alpha=cfg.C)
        raise ValueError(f"unknown classifier {cfg.classifier!r} (logistic, svm, nb)")

    def sample_weights(self, y: np.ndarray) -> np.ndarray:
        """Balanced class weights with the relevant class up-weighted by ``positive_weight``,
        rescaled to mean 1 (so that C keeps its meaning whatever the class sizes)."""
        y = np.asarray(y, dtype=int)
        n_pos = int(y.sum())
        n_neg = len(y) - n_pos
        w = np.where(
            y == 1, len(y) / (2.0 * n_pos) * self.config.positive_weight, len(y) / (2.0 * n_neg)
        )
        return w * (len(y) / w.sum())

    def scores(
        self,
        labelled: Sequence[int],
        labels: Sequence[int],
        keywords: Iterable[str] = (),
    ) -> np.ndarray:
        """A relevance score for every record (higher = screen sooner).

        ``labelled`` are row positions, ``labels`` their decisions (1 relevant, 0 irrelevant).
        """
        idx = np.asarray(labelled, dtype=int)
        y = np.asarray(labels, dtype=int)
        if idx.shape != y.shape:
            raise ValueError("labelled and labels must have the same length")
        kw = self.keyword_scores(keywords)
        n_pos = int(y.sum())
        if n_pos == 0:
            return kw
        if n_pos == len(y):
            centroid = np.asarray(self.X[idx[y == 1]].mean(axis=0)).ravel()
            return np.asarray(self.X @ centroid).ravel() + kw
        clf = self._classifier()
        if self.config.classifier == "nb":
            clf.fit(self.X[idx], y)
        else:
            clf.fit(self.X[idx], y, sample_weight=self.sample_weights(y))
        if hasattr(clf, "decision_function"):
            return np.asarray(clf.decision_function(self.X), dtype=float)
        return clf.predict_proba(self.X)[:, 1]

    def order(self, scores: np.ndarray, candidates: Sequence[int]) -> np.ndarray:
        """Candidates sorted by descending score, ties by input order (deterministic)."""
        cand = np.asarray(candidates, dtype=int)
        # lexsort: last key is primary -> (-score, position)
        return cand[np.lexsort((cand, -scores[cand]))]


def rank_records(
    records,
    decisions: Mapping[str, int] | None = None,
    *,
    keywords: Iterable[str] = (),
    seed: int = 0,
    config: RankerConfig | None = None,
):
    """Rank the records that have no decision yet.

    ``records``: a DataFrame (or list of dicts) with ``record_id``, ``title``, ``abstract``.
    ``decisions``: record_id -> 1 (include/maybe) or 0 (exclude) for the records already screened.
    ``keywords``: the protocol's keywords, used for the cold start.

    Returns a DataFrame ``rank, record_id, score`` of the unscreened records, best first
    (``rank`` starts at 1).
    """
    import pandas as pd

    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if df.empty:
        return pd.DataFrame({"rank": [], "record_id": [], "score": []})
    decisions = dict(decisions or {})
    ids = [str(x) for x in df["record_id"]]
    unknown = sorted(set(decisions) - set(ids))
    if unknown:
        raise ValueError(f"decisions for unknown record ids: {', '.join(unknown[:5])}")
    abstracts = df["abstract"] if "abstract" in df.columns else [None] * len(df)
    texts = [record_text(t, a) for t, a in zip(df["title"], abstracts)]
    ranker = Ranker(texts, seed=seed, config=config)
    pos = {rid: i for i, rid in enumerate(ids)}
    labelled = [pos[r] for r in sorted(decisions, key=pos.__getitem__)]
    labels = [int(decisions[ids[i]]) for i in labelled]
    scores = ranker.scores(labelled, labels, keywords)
    done = set(labelled)
    candidates = [i for i in range(len(ids)) if i not in done]
    order = ranker.order(scores, candidates)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "record_id": [ids[i] for i in order],
            "score": [round(float(scores[i]), 12) for i in order],
        }
    )
