"""Reference: word + char TF-IDF logistic regression (out-of-fold on train), stacked with metadata in LightGBM.

Metadata: local (US Eastern) hour, weekday and date of the tweet, counts, simple text statistics (links,
hashtags, mentions, length), and the labels of the nearest training tweets in time (phones are used in bursts).
"""

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_union

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["android"].to_numpy()


def text_matrix(fit_text, texts):
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)[\w@#']+|[^\w\s]")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=False)
    union = make_union(words, chars).fit(fit_text)
    return [union.transform(t).tocsr() for t in texts]


def text_model():
    return LogisticRegression(C=10.0, max_iter=3000)


# out-of-fold text probabilities for train, a full fit for test
n_folds = 5 if len(train) >= 1000 else 3
oof = np.zeros(len(train))
for fit_idx, val_idx in StratifiedKFold(n_folds, shuffle=True, random_state=0).split(train, y):
    x_fit, x_val = text_matrix(train["text"].iloc[fit_idx], [train["text"].iloc[fit_idx], train["text"].iloc[val_idx]])
    oof[val_idx] = text_model().fit(x_fit, y[fit_idx]).predict_proba(x_val)[:, 1]
x_train, x_test = text_matrix(train["text"], [train["text"], test["text"]])
text_test = text_model().fit(x_train, y).predict_proba(x_test)[:, 1]


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
        "starts_dot_at": text.str.startswith(".@").astype(int),
        "length": text.str.len(),
        "words": text.str.split().str.len(),
        "upper": text.str.count(r"[A-Z]") / text.str.len().clip(lower=1),
        "exclamations": text.str.count("!"),
    })


# labels of the nearest training tweets in time (leaving the tweet itself out for training rows)
seconds_train = pd.to_datetime(train["created_at"], utc=True).astype("int64").to_numpy() // 10**9
seconds_test = pd.to_datetime(test["created_at"], utc=True).astype("int64").to_numpy() // 10**9


def neighbours(seconds, is_train, k=5):
    gaps = np.abs(seconds[:, None] - seconds_train[None, :]).astype(float)
    if is_train:
        np.fill_diagonal(gaps, np.inf)
    nearest = np.argsort(gaps, axis=1)[:, :k]
    gap = np.take_along_axis(gaps, nearest, axis=1)
    labels = y[nearest]
    weights = 1.0 / (1.0 + gap / 3600.0)
    return pd.DataFrame({
        "nn_gap": np.log1p(gap[:, 0]),
        "nn_label": labels[:, 0],
        "nn_weighted": (labels * weights).sum(1) / weights.sum(1),
        "nn_mean_gap": np.log1p(gap.mean(1)),
    })


features_train = pd.concat([meta(train), neighbours(seconds_train, True)], axis=1).assign(text_p=oof)
features_test = pd.concat([meta(test), neighbours(seconds_test, False)], axis=1).assign(text_p=text_test)

p = np.zeros(len(test))
seeds = [0, 1, 2]
for seed in seeds:
    booster = lgb.LGBMClassifier(
        n_estimators=400, learning_rate=0.03, num_leaves=15, min_child_samples=20, subsample=0.8, subsample_freq=1,
        colsample_bytree=0.8, random_state=seed, n_jobs=1, verbose=-1,
    )
    p += booster.fit(features_train, y).predict_proba(features_test)[:, 1] / len(seeds)

p = np.clip(p, 0.005, 0.995)
pd.DataFrame({"id": test["id"], "android": p}).to_csv("submission.csv", index=False)
