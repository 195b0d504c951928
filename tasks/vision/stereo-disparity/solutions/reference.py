"""Reference: block matching by normalised cross-correlation over a 9x9 window around the query pixel, every
disparity from 0 to 16, then a parabola through the best cost and its two neighbours for a sub-pixel shift."""

import numpy as np
import pandas as pd

test = pd.read_csv("input/test.csv")
pairs = np.load("input/test_images.npy").astype(np.float64)
QUERY, HALF, MAX_DISPARITY = 21, 4, 16  # query pixel at (row 5, column 21); window 9x9


def centred(block):
    block = block - block.mean(axis=(1, 2), keepdims=True)
    return block / np.sqrt((block**2).sum(axis=(1, 2), keepdims=True) + 1e-9)


left = centred(pairs[:, 0, 5 - HALF:6 + HALF, QUERY - HALF:QUERY + HALF + 1])
costs = np.stack([-(left * centred(pairs[:, 1, 5 - HALF:6 + HALF, QUERY - d - HALF:QUERY - d + HALF + 1]))
                  .sum(axis=(1, 2)) for d in range(MAX_DISPARITY + 1)], axis=1)
best = np.clip(costs.argmin(axis=1), 1, MAX_DISPARITY - 1)
rows = np.arange(len(costs))
before, at, after = costs[rows, best - 1], costs[rows, best], costs[rows, best + 1]
curvature = before - 2 * at + after
shift = np.where(curvature > 1e-9, 0.5 * (before - after) / np.where(curvature > 1e-9, curvature, 1.0), 0.0)
prediction = np.clip(best + np.clip(shift, -1, 1), 0, MAX_DISPARITY)
pd.DataFrame({"id": test["id"], "disparity": prediction}).to_csv("submission.csv", index=False)
