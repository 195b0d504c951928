"""Simple: word counts of the bake's name and multinomial naive Bayes."""

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")

vectorizer = CountVectorizer()
model = MultinomialNB(alpha=1.0)
model.fit(vectorizer.fit_transform(train["bake"]), train["showstopper"])

p = model.predict_proba(vectorizer.transform(test["bake"]))[:, 1]
pd.DataFrame({"id": test["id"], "showstopper": p}).to_csv("submission.csv", index=False)
