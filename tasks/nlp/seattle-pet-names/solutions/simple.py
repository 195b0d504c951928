"""Simple: character 2-3-gram counts of the name and a strongly regularised logistic regression."""

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")

vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 3))
model = LogisticRegression(C=0.1, max_iter=3000)
model.fit(vectorizer.fit_transform(train["name"]), train["cat"])

p = model.predict_proba(vectorizer.transform(test["name"]))[:, 1]
pd.DataFrame({"id": test["id"], "cat": p}).to_csv("submission.csv", index=False)
