"""Simple: logistic regression on the 64 raw pixel values."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
X_train = np.load("input/train_images.npy").reshape(len(train), -1) / 16.0
X_test = np.load("input/test_images.npy").reshape(len(test), -1) / 16.0

model = LogisticRegression(C=1.0, max_iter=2000)
model.fit(X_train, train["label"])
pd.DataFrame({"id": test["id"], "label": model.predict(X_test).astype(int)}).to_csv("submission.csv", index=False)
