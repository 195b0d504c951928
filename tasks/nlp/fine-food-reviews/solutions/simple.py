"""Simple: bag of words and multinomial naive Bayes."""

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")

vectorizer = CountVectorizer()
model = MultinomialNB(alpha=1.0)
model.fit(vectorizer.fit_transform(train["review"]), train["great"])

p = model.predict_proba(vectorizer.transform(test["review"]))[:, 1]
pd.DataFrame({"id": test["id"], "great": p}).to_csv("submission.csv", index=False)
