"""Simple: seasonal naive, each week's value 52 weeks earlier."""

import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")

y = train["barrels"].to_numpy()
steps = np.arange(1, len(test) + 1)
back = steps - 52 * np.ceil(steps / 52).astype(int)  # 52, 104, ... weeks back, always inside the history
pd.DataFrame({"id": test["id"], "barrels": y[len(y) - 1 + back]}).to_csv("submission.csv", index=False)
