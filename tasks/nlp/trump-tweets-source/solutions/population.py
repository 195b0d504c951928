"""Varied solutions, from trivial to strong, whose scores make leaderboard.csv.

Each entry is (team name, source code); the code reads ./input/ and writes ./submission.csv. The programs are
built from a few templates over model settings: constants, one-feature rules, metadata models, text models
(naive Bayes, linear models, SVMs over word/char n-grams), text + metadata, and stacks with LightGBM.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"logreg-words-simple": "simple.py", "stack-words-chars-neighbours": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = '''\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["android"].to_numpy()
'''

FOOTER = '''
p = np.clip(np.nan_to_num(np.asarray(p, dtype=float), nan=0.5), 0.0, 1.0)
pd.DataFrame({"id": test["id"], "android": p}).to_csv("submission.csv", index=False)
'''

META = '''
def meta(frame):
    utc = pd.to_datetime(frame["created_at"], utc=True)
    local = utc.dt.tz_convert("America/New_York")
    text = frame["text"]
    return pd.DataFrame({
        "hour": local.dt.hour + local.dt.minute / 60,
        "weekday": local.dt.day_of_week,
        "days": (utc - pd.Timestamp("2015-06-01", tz="UTC")).dt.total_seconds() / 86400,
        "log_retweets": np.log1p(frame["retweet_count"]),
        "log_favorites": np.log1p(frame["favorite_count"]),
        "is_reply": frame["is_reply"],
        "link": text.str.contains("http", regex=False).astype(int),
        "hashtags": text.str.count("#"),
        "mentions": text.str.count("@"),
        "length": text.str.len(),
        "exclamations": text.str.count("!"),
    })
'''

NEIGHBOURS = '''
seconds_train = pd.to_datetime(train["created_at"], utc=True).astype("int64").to_numpy() // 10**9
seconds_test = pd.to_datetime(test["created_at"], utc=True).astype("int64").to_numpy() // 10**9


def neighbours(seconds, is_train, k={k}):
    gaps = np.abs(seconds[:, None] - seconds_train[None, :]).astype(float)
    if is_train:
        np.fill_diagonal(gaps, np.inf)
    nearest = np.argsort(gaps, axis=1)[:, :k]
    gap = np.take_along_axis(gaps, nearest, axis=1)
    weights = 1.0 / (1.0 + gap / 3600.0)
    return pd.DataFrame({{
        "nn_gap": np.log1p(gap[:, 0]),
        "nn_label": y[nearest[:, 0]],
        "nn_weighted": (y[nearest] * weights).sum(1) / weights.sum(1),
    }})
'''

# text representations: name -> expression building a fitted-later vectorizer (or a union of them)
VECTORIZERS = {
    "count": 'CountVectorizer(min_df=1)',
    "binary": 'CountVectorizer(min_df=1, binary=True)',
    "word": 'TfidfVectorizer(min_df=2, sublinear_tf=True)',
    "word12": 'TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, '
              'token_pattern=r"(?u)[\\w@#\']+|[^\\w\\s]")',
    "char": 'TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=False)',
    "wordchar": 'make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, '
                'token_pattern=r"(?u)[\\w@#\']+|[^\\w\\s]"), TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), '
                'min_df=2, sublinear_tf=True, lowercase=False))',
}

TEXT_IMPORTS = '''
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, MultinomialNB
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC
'''


def noise(seed: int) -> str:
    """Random guesses: the floor of the ranking."""
    return HEADER + f"\np = np.random.default_rng({seed}).random(len(test))\n" + FOOTER


def constant(value: str) -> str:
    return HEADER + f"\np = np.full(len(test), {value})\n" + FOOTER


def rule(expression: str, smoothing: float) -> str:
    """Rate of Android tweets in each group of a one-line feature, smoothed towards the prior."""
    return HEADER + f'''
def key(frame):
    text = frame["text"]
    return {expression}


prior = y.mean()
groups = pd.DataFrame({{"key": key(train), "y": y}}).groupby("key")["y"].agg(["sum", "count"])
rates = (groups["sum"] + {smoothing} * prior) / (groups["count"] + {smoothing})
p = key(test).map(rates).fillna(prior).to_numpy()
''' + FOOTER


def meta_model(estimator: str, columns: list[str] | None = None) -> str:
    select = "" if columns is None else f"[{columns!r}]"
    return HEADER + '''
import lightgbm as lgb
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.compose import make_column_transformer
''' + META + f'''
x_train, x_test = meta(train){select}, meta(test){select}
model = {estimator}
p = model.fit(x_train, y).predict_proba(x_test)[:, 1]
''' + FOOTER


def text_model(vectorizer: str, classifier: str, output: str = "proba") -> str:
    predict = {
        "proba": "model.predict_proba(x_test)[:, 1]",
        "sigmoid": "1.0 / (1.0 + np.exp(-model.decision_function(x_test)))",
    }[output]
    return HEADER + TEXT_IMPORTS + f'''
vectorizer = {VECTORIZERS[vectorizer]}
x_train = vectorizer.fit_transform(train["text"])
x_test = vectorizer.transform(test["text"])
model = {classifier}
model.fit(x_train, y)
p = {predict}
''' + FOOTER


def text_meta_linear(vectorizer: str, c: float) -> str:
    """Text n-grams next to metadata (one-hot local hour and weekday, scaled numbers) in one logistic regression."""
    return HEADER + TEXT_IMPORTS + """from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
""" + META + f'''
numeric = ["days", "log_retweets", "log_favorites", "is_reply", "link", "hashtags", "mentions", "length"]


def table(frame):
    m = meta(frame)
    return m.assign(text=frame["text"].to_numpy(), hour=np.floor(m["hour"]).astype(int))


columns = make_column_transformer(
    ({VECTORIZERS[vectorizer]}, "text"),
    (OneHotEncoder(handle_unknown="ignore"), ["hour", "weekday"]),
    (StandardScaler(), numeric),
)
x_train = columns.fit_transform(table(train))
x_test = columns.transform(table(test))
model = LogisticRegression(C={c}, max_iter=3000).fit(x_train, y)
p = model.predict_proba(x_test)[:, 1]
''' + FOOTER


def stack(vectorizer: str, c: float, n_estimators: int, k: int | None) -> str:
    """Out-of-fold text logistic regression, then LightGBM on metadata (+ time neighbours) + the text probability."""
    neighbour_code = "" if k is None else NEIGHBOURS.format(k=k)
    extra_train = "" if k is None else ", neighbours(seconds_train, True)"
    extra_test = "" if k is None else ", neighbours(seconds_test, False)"
    return HEADER + TEXT_IMPORTS + "import lightgbm as lgb\nfrom sklearn.model_selection import StratifiedKFold\n" \
        + META + neighbour_code + f'''
def text_probabilities(fit_frame, fit_y, frames):
    vectorizer = {VECTORIZERS[vectorizer]}
    x_fit = vectorizer.fit_transform(fit_frame["text"])
    model = LogisticRegression(C={c}, max_iter=3000).fit(x_fit, fit_y)
    return [model.predict_proba(vectorizer.transform(f["text"]))[:, 1] for f in frames]


oof = np.zeros(len(train))
for fit_idx, val_idx in StratifiedKFold(5, shuffle=True, random_state=0).split(train, y):
    oof[val_idx] = text_probabilities(train.iloc[fit_idx], y[fit_idx], [train.iloc[val_idx]])[0]
text_test = text_probabilities(train, y, [test])[0]

f_train = pd.concat([meta(train){extra_train}], axis=1).assign(text_p=oof)
f_test = pd.concat([meta(test){extra_test}], axis=1).assign(text_p=text_test)
model = lgb.LGBMClassifier(n_estimators={n_estimators}, learning_rate=0.03, num_leaves=15, subsample=0.8,
                           subsample_freq=1, colsample_bytree=0.8, random_state=0, n_jobs=1, verbose=-1)
p = model.fit(f_train, y).predict_proba(f_test)[:, 1]
''' + FOOTER


def stack_seeded(vectorizer: str, c: float, n_estimators: int, k: int | None, seed: int, leaves: int = 15,
                 learning_rate: float = 0.03) -> str:
    """As stack(), with the folds and the booster seeded by `seed`, and the booster's size and pace as settings."""
    neighbour_code = "" if k is None else NEIGHBOURS.format(k=k)
    extra_train = "" if k is None else ", neighbours(seconds_train, True)"
    extra_test = "" if k is None else ", neighbours(seconds_test, False)"
    return HEADER + TEXT_IMPORTS + "import lightgbm as lgb\nfrom sklearn.model_selection import StratifiedKFold\n" \
        + META + neighbour_code + f'''
def text_probabilities(fit_frame, fit_y, frames):
    vectorizer = {VECTORIZERS[vectorizer]}
    x_fit = vectorizer.fit_transform(fit_frame["text"])
    model = LogisticRegression(C={c}, max_iter=3000, random_state={seed}, n_jobs=1).fit(x_fit, fit_y)
    return [model.predict_proba(vectorizer.transform(f["text"]))[:, 1] for f in frames]


oof = np.zeros(len(train))
for fit_idx, val_idx in StratifiedKFold(5, shuffle=True, random_state={seed}).split(train, y):
    oof[val_idx] = text_probabilities(train.iloc[fit_idx], y[fit_idx], [train.iloc[val_idx]])[0]
text_test = text_probabilities(train, y, [test])[0]

f_train = pd.concat([meta(train){extra_train}], axis=1).assign(text_p=oof)
f_test = pd.concat([meta(test){extra_test}], axis=1).assign(text_p=text_test)
model = lgb.LGBMClassifier(n_estimators={n_estimators}, learning_rate={learning_rate}, num_leaves={leaves},
                           subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state={seed}, n_jobs=1,
                           verbose=-1)
p = model.fit(f_train, y).predict_proba(f_test)[:, 1]
''' + FOOTER


LGBM_META = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate=0.03, num_leaves={leaves}, random_state=0, "
             "n_jobs=1, verbose=-1)")
LOGREG_META = ("make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown='ignore'), ['weekday']), "
               "remainder=StandardScaler()), LogisticRegression(C=1.0, max_iter=2000))")

POPULATION: list[tuple[str, str]] = [
    ("coin-flip", constant("0.5")),
    ("base-rate", constant("y.mean()")),
    ("has-link-rule", rule('text.str.contains("http", regex=False)', 10)),
    ("link-and-hashtag-rule", rule('text.str.contains("http", regex=False).astype(str) + text.str.contains("#")'
                                   '.astype(str)', 10)),
    ("hour-of-day-rule", rule('pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert("America/New_York")'
                              '.dt.hour', 20)),
    ("length-only", meta_model("make_pipeline(StandardScaler(), LogisticRegression())", ["length", "exclamations"])),
    ("when-only-lgbm", meta_model(LGBM_META.format(n=200, leaves=15), ["hour", "weekday", "days"])),
    ("metadata-logreg", meta_model(LOGREG_META)),
    ("metadata-lgbm", meta_model(LGBM_META.format(n=300, leaves=15))),
    ("naive-bayes-counts", text_model("count", "MultinomialNB(alpha=1.0)")),
    ("bernoulli-nb", text_model("binary", "BernoulliNB(alpha=0.5)")),
    ("naive-bayes-tfidf", text_model("word12", "MultinomialNB(alpha=0.1)")),
    ("logreg-words-weak", text_model("word", "LogisticRegression(C=0.3, max_iter=2000)")),
    ("logreg-words", text_model("word12", "LogisticRegression(C=3.0, max_iter=2000)")),
    ("logreg-chars", text_model("char", "LogisticRegression(C=3.0, max_iter=2000)")),
    ("logreg-words-chars", text_model("wordchar", "LogisticRegression(C=10.0, max_iter=3000)")),
    ("sgd-logloss", text_model("word12", "SGDClassifier(loss='log_loss', alpha=1e-4, max_iter=50, random_state=0)")),
    ("svm-raw-margins", text_model("wordchar", "LinearSVC(C=1.0)", output="sigmoid")),
    ("svm-calibrated", text_model("wordchar", "CalibratedClassifierCV(LinearSVC(C=0.3), cv=5)")),
    ("text-plus-meta-logreg", text_meta_linear("wordchar", 3.0)),
    ("text-plus-meta-logreg-c30", text_meta_linear("word12", 30.0)),
    ("stack-text-meta", stack("word12", 3.0, 300, None)),
    ("stack-wordchar-meta", stack("wordchar", 10.0, 400, None)),
    ("stack-with-time-neighbours", stack("wordchar", 10.0, 300, 5)),
    ("stack-neighbours-overfit", stack("word", 30.0, 1500, 1)),
]

# The sweep: more settings of the same templates, weak to strong, each model single-threaded and seeded.
LOGREG = "LogisticRegression(C={c}, max_iter=3000, random_state=0, n_jobs=1)"
SVM = "LinearSVC(C={c}, random_state=0)"
SGD = "SGDClassifier(loss='{loss}', alpha={alpha}, max_iter=50, tol=None, random_state={seed})"
LGBM_META_SEEDED = ("lgb.LGBMClassifier(n_estimators={n}, learning_rate={lr}, num_leaves={leaves}, subsample=0.8, "
                    "subsample_freq=1, colsample_bytree=0.8, random_state={seed}, n_jobs=1, verbose=-1)")
LOGREG_META_C = ("make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown='ignore'), ['weekday']), "
                 "remainder=StandardScaler()), LogisticRegression(C={c}, max_iter=2000, random_state=0, n_jobs=1))")


def _c(value: float) -> str:
    return f"{value:g}".replace(".", "p")


SWEEP: list[tuple[str, str]] = [(f"random-guess-seed{seed}", noise(seed)) for seed in (0, 1)]
SWEEP += [(f"constant-{_c(value)}", constant(str(value))) for value in (0.3, 0.7)]
SWEEP += [(f"has-link-rule-s{smoothing}", rule('text.str.contains("http", regex=False)', smoothing))
          for smoothing in (1, 100)]
SWEEP += [(f"hour-of-day-rule-s{smoothing}",
           rule('pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert("America/New_York").dt.hour', smoothing))
          for smoothing in (2, 100)]
SWEEP += [
    ("weekday-rule", rule('pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert("America/New_York")'
                          '.dt.day_of_week', 10)),
    ("month-rule", rule('pd.to_datetime(frame["created_at"], utc=True).dt.strftime("%Y-%m")', 10)),
    ("is-reply-rule", rule('frame["is_reply"]', 10)),
    ("quote-rule", rule('text.str.contains(\'"\', regex=False)', 10)),
    ("hashtag-rule", rule('text.str.contains("#", regex=False)', 10)),
    ("mention-rule", rule('text.str.contains("@", regex=False)', 10)),
    ("link-quote-hour-rule", rule('text.str.contains("http", regex=False).astype(str) + text.str.startswith(\'"\')'
                                  '.astype(str) + pd.to_datetime(frame["created_at"], utc=True)'
                                  '.dt.tz_convert("America/New_York").dt.hour.astype(str)', 10)),
]
SWEEP += [(f"metadata-logreg-c{_c(c)}", meta_model(LOGREG_META_C.format(c=c))) for c in (0.01, 0.1, 10.0)]
SWEEP += [(f"metadata-lgbm-n{n}-leaves{leaves}-seed{seed}",
           meta_model(LGBM_META_SEEDED.format(n=n, lr=0.03, leaves=leaves, seed=seed)))
          for n, leaves in ((100, 7), (400, 15), (1000, 31)) for seed in (1, 2)]
SWEEP += [(f"when-only-lgbm-n{n}-seed{seed}",
           meta_model(LGBM_META_SEEDED.format(n=n, lr=0.03, leaves=15, seed=seed), ["hour", "weekday", "days"]))
          for n in (100, 400) for seed in (1,)]
SWEEP += [(f"multinomial-nb-{vectorizer}-a{_c(alpha)}", text_model(vectorizer, f"MultinomialNB(alpha={alpha})"))
          for vectorizer in ("count", "word12") for alpha in (0.03, 0.3, 3.0)]
SWEEP += [(f"bernoulli-nb-a{_c(alpha)}", text_model("binary", f"BernoulliNB(alpha={alpha})")) for alpha in (0.1, 2.0)]
SWEEP += [(f"logreg-{vectorizer}-c{_c(c)}", text_model(vectorizer, LOGREG.format(c=c)))
          for vectorizer in ("word", "word12", "char", "wordchar") for c in (0.1, 1.0, 10.0, 30.0)]
SWEEP += [(f"svm-{vectorizer}-c{_c(c)}", text_model(vectorizer, SVM.format(c=c), output="sigmoid"))
          for vectorizer in ("word12", "char") for c in (0.1, 0.3)]
SWEEP += [(f"svm-calibrated-{vectorizer}-c{_c(c)}",
           text_model(vectorizer, f"CalibratedClassifierCV({SVM.format(c=c)}, cv=5)"))
          for vectorizer in ("word12", "char", "wordchar") for c in (0.1, 1.0)]
SWEEP += [(f"sgd-{loss}-a{_c(alpha)}-seed{seed}", text_model("word12", SGD.format(loss=loss, alpha=alpha, seed=seed)))
          for loss in ("log_loss", "modified_huber") for alpha in (1e-5, 1e-4, 1e-3) for seed in (1,)]
SWEEP += [(f"text-plus-meta-logreg-{vectorizer}-c{_c(c)}", text_meta_linear(vectorizer, c))
          for vectorizer in ("word", "word12", "char", "wordchar") for c in (1.0, 10.0)
          if (vectorizer, c) != ("wordchar", 3.0)]
SWEEP += [(f"stack-{vectorizer}-c{_c(c)}-k{k}-n{n}-seed{seed}", stack_seeded(vectorizer, c, n, k, seed))
          for vectorizer, c in (("word12", 3.0), ("wordchar", 10.0)) for k in (None, 3, 10) for n in (300,)
          for seed in (1,)]
SWEEP += [(f"stack-wordchar-k5-n{n}-lr{_c(lr)}-leaves{leaves}-seed{seed}",
           stack_seeded("wordchar", 10.0, n, 5, seed, leaves, lr))
          for n, lr, leaves in ((200, 0.05, 7), (400, 0.03, 7), (600, 0.02, 15), (300, 0.1, 31)) for seed in (1, 2)]

POPULATION += SWEEP + [(team, _solution(team)) for team in SOLUTIONS]
