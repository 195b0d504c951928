"""Reference: a linear SVM on the title's words and characters and on tokens of the course number.

The title becomes word TF-IDF and character 2-5-gram TF-IDF (within word boundaries); the course number becomes
three tokens: its prefix letters (M, C, CM: cross-listed or concurrent), its level (hundreds: lower division,
upper division, graduate, ...) and its suffix letters. One linear SVM over all of them predicts the subject.
"""

import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")


def number_tokens(frame):
    parts = frame["number"].astype(str).str.extract(r"^([A-Z]*)(\d+)([A-Z]*)$")
    level = pd.to_numeric(parts[1], errors="coerce").fillna(0) // 100
    prefix, suffix = "prefix_" + parts[0].fillna(""), " suffix_" + parts[2].fillna("")
    return prefix + " level_" + level.astype(int).astype(str) + suffix


titles = make_union(TfidfVectorizer(sublinear_tf=True),
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
numbers = CountVectorizer(token_pattern=r"\S+", binary=True, lowercase=False)
x_train = sparse.hstack([titles.fit_transform(train["title"]), 0.5 * numbers.fit_transform(number_tokens(train))])
x_test = sparse.hstack([titles.transform(test["title"]), 0.5 * numbers.transform(number_tokens(test))])

model = LinearSVC(C=0.5, random_state=0).fit(x_train.tocsr(), train["subject"])
pd.DataFrame({"id": test["id"], "subject": model.predict(x_test.tocsr())}).to_csv("submission.csv", index=False)
