"""Reference: an average of four models over the cleaned review text.

Word 1-3-gram TF-IDF logistic regression, char 1-5-gram TF-IDF logistic regression, NB-SVM (logistic regression
on TF-IDF scaled by naive Bayes log-count ratios) and LightGBM on word TF-IDF; their probabilities are averaged.
"""

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["great"].to_numpy()


def clean(text):
    return text.str.replace(r"<[^>]+>", " ", regex=True).str.replace(r"http\S+", " ", regex=True)


a, b = clean(train["review"]), clean(test["review"])
predictions = []

words = TfidfVectorizer(ngram_range=(1, 3), min_df=2, max_df=0.9, sublinear_tf=True,
                        token_pattern=r"(?u)\b\w[\w']*\b|[!?]")
xw_train, xw_test = words.fit_transform(a), words.transform(b)
predictions.append(LogisticRegression(C=4.0, max_iter=3000).fit(xw_train, y).predict_proba(xw_test)[:, 1])

chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), min_df=3, sublinear_tf=True, max_features=200000)
xc_train, xc_test = chars.fit_transform(a), chars.transform(b)
predictions.append(LogisticRegression(C=3.0, max_iter=3000).fit(xc_train, y).predict_proba(xc_test)[:, 1])

# NB-SVM: scale features by the log-count ratio between the classes
pos = (xw_train[y == 1].sum(0) + 1) / ((y == 1).sum() + 1)
neg = (xw_train[y == 0].sum(0) + 1) / ((y == 0).sum() + 1)
ratio = np.asarray(np.log(pos / neg)).ravel()
nbsvm = LogisticRegression(C=4.0, max_iter=3000).fit(xw_train.multiply(ratio).tocsr(), y)
predictions.append(nbsvm.predict_proba(xw_test.multiply(ratio).tocsr())[:, 1])

unigrams = TfidfVectorizer(min_df=3, sublinear_tf=True, token_pattern=r"(?u)\b\w[\w']*\b|[!?]")
xu_train, xu_test = unigrams.fit_transform(a).astype(np.float32), unigrams.transform(b).astype(np.float32)
booster = lgb.LGBMClassifier(n_estimators=500, learning_rate=0.05, num_leaves=15, colsample_bytree=0.3,
                             random_state=0, n_jobs=1, verbose=-1)
predictions.append(booster.fit(xu_train, y).predict_proba(xu_test)[:, 1])

p = np.mean(predictions, axis=0)
pd.DataFrame({"id": test["id"], "great": p}).to_csv("submission.csv", index=False)
