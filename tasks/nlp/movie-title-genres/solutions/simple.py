"""Simple: word counts of the title and multinomial naive Bayes."""

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")

vectorizer = CountVectorizer()
model = MultinomialNB(alpha=1.0)
model.fit(vectorizer.fit_transform(train["title"]), train["genre"])

prediction = model.predict(vectorizer.transform(test["title"]))
pd.DataFrame({"id": test["id"], "genre": prediction}).to_csv("submission.csv", index=False)
