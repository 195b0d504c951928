"""Simple: word TF-IDF of the tweet text and a logistic regression."""

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")

vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
model = LogisticRegression(C=1.0, max_iter=2000)
model.fit(vectorizer.fit_transform(train["text"]), train["android"])

p = model.predict_proba(vectorizer.transform(test["text"]))[:, 1]
pd.DataFrame({"id": test["id"], "android": p}).to_csv("submission.csv", index=False)
