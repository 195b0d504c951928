"""Simple baseline: linear regression of log(price) on a handful of size and age columns."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "log_living_area": np.log1p(frame["Gr_Liv_Area"]),
            "log_lot_area": np.log1p(frame["Lot_Area"]),
            "basement_area": frame["Total_Bsmt_SF"],
            "garage_cars": frame["Garage_Cars"],
            "full_baths": frame["Full_Bath"],
            "year_built": frame["Year_Built"],
            "year_remodelled": frame["Year_Remod_Add"],
        }
    )


model = LinearRegression().fit(features(train), np.log1p(train["Sale_Price"]))
prediction = np.expm1(model.predict(features(test)))
prediction = np.clip(prediction, train["Sale_Price"].min(), train["Sale_Price"].max())
pd.DataFrame({"Id": test["Id"], "Sale_Price": prediction}).to_csv("submission.csv", index=False)
