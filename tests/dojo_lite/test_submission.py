"""Submissions: the [grading] table, every check on submission.csv (real files), and scoring."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from dojo_lite._errors import SubmissionError, TaskFormatError
from dojo_lite._grading import GradingSpec, PredictionKind, read_submission, score_submission
from dojo_lite._metrics import METRICS, Direction, Metric

TITANIC: dict[str, Any] = {
    "metric": "accuracy", "direction": "maximize", "id_column": "PassengerId", "prediction_columns": ["Survived"],
    "prediction_kind": "label", "labels": [0, 1], "answer_column": "Survived",
}
HOUSES: dict[str, Any] = {
    "metric": "rmsle", "direction": "minimize", "id_column": "Id", "prediction_columns": ["SalePrice"],
    "prediction_kind": "value", "answer_column": "SalePrice",
}
BINARY: dict[str, Any] = {
    "metric": "roc_auc", "direction": "maximize", "id_column": "id", "prediction_columns": ["p"],
    "prediction_kind": "probability", "answer_column": "target",
}
IRIS: dict[str, Any] = {
    "metric": "log_loss", "direction": "minimize", "id_column": "id",
    "prediction_columns": ["setosa", "versicolor", "virginica"], "prediction_kind": "probability",
    "labels": ["setosa", "versicolor", "virginica"], "answer_column": "species",
}


def spec_of(table: dict[str, Any], **changes: Any) -> GradingSpec:
    return GradingSpec.from_table({**table, **changes})


def write(folder: Path, content: str | bytes, name: str = "submission.csv") -> Path:
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def rejected(folder: Path, spec: GradingSpec, ids: list[Any], code: str, **kwargs: Any) -> str:
    """The message of the SubmissionError that reading ``folder``'s submission raises; checks its code."""
    with pytest.raises(SubmissionError) as caught:
        read_submission(folder, spec, pd.Series(ids), **kwargs)
    assert caught.value.code == code, caught.value.message
    assert caught.value.message == str(caught.value)
    return caught.value.message


IDS = [1, 2, 3]


@pytest.fixture
def titanic() -> GradingSpec:
    return spec_of(TITANIC)


# --------------------------------------------------------------------------- GradingSpec.from_table


def test_from_table_reads_every_field() -> None:
    spec = spec_of(TITANIC)
    assert spec == GradingSpec(
        metric="accuracy", direction=Direction.MAXIMIZE, id_column="PassengerId", prediction_columns=("Survived",),
        prediction_kind=PredictionKind.LABEL, labels=(0, 1), answer_column="Survived",
    )
    assert not spec.multiclass
    assert spec_of(IRIS).multiclass
    assert spec_of(HOUSES).labels is None


def test_from_table_takes_custom_metrics_in_either_direction() -> None:
    for direction in ("maximize", "minimize"):
        assert spec_of(HOUSES, metric="custom", direction=direction).direction is Direction(direction)


def test_multiclass_labels_may_be_numbers_naming_string_columns() -> None:
    spec = spec_of(IRIS, prediction_columns=["0", "1", "2"], labels=[0, 1, 2])
    assert spec.labels == (0, 1, 2)


@pytest.mark.parametrize(("table", "message"), [
    ({k: v for k, v in TITANIC.items() if k != "answer_column"}, "missing keys: answer_column"),
    ({k: v for k, v in TITANIC.items() if k not in ("metric", "direction")}, "missing keys: metric, direction"),
    ({**TITANIC, "threshold": 0.5}, r"unknown keys: threshold \(known: metric"),
    ({**TITANIC, "metric": "f2"}, "unknown metric 'f2'"),
    ({**TITANIC, "metric": 3}, "metric must be a non-empty string"),
    ({**TITANIC, "direction": "up"}, "direction must be one of maximize | minimize, got 'up'"),
    ({**TITANIC, "direction": "minimize"}, "direction = 'minimize' disagrees with accuracy, which is maximized"),
    ({**HOUSES, "direction": "maximize"}, "disagrees with rmsle, which is minimized"),
    ({**TITANIC, "prediction_kind": "class"}, "prediction_kind must be one of label | probability | value"),
    ({**TITANIC, "prediction_kind": "value", "labels": None}, "accuracy grades prediction_kind = label, got 'value'"),
    ({**HOUSES, "metric": "roc_auc", "direction": "maximize"}, "roc_auc grades prediction_kind = probability"),
    ({**TITANIC, "id_column": ""}, "id_column must be a non-empty string"),
    ({**TITANIC, "answer_column": ["Survived"]}, "answer_column must be a non-empty string"),
    ({**TITANIC, "prediction_columns": "Survived"}, "prediction_columns must be a non-empty list"),
    ({**TITANIC, "prediction_columns": []}, "prediction_columns must be a non-empty list"),
    ({**TITANIC, "prediction_columns": ["a", "a"]}, "prediction_columns lists a more than once"),
    ({**TITANIC, "prediction_columns": ["PassengerId"]}, "id_column 'PassengerId' is also among prediction_columns"),
    ({**TITANIC, "prediction_columns": ["a", "b"]}, "'label' takes one prediction column, got 2"),
    ({**HOUSES, "prediction_columns": ["a", "b"]}, "'value' takes one prediction column, got 2"),
    ({**HOUSES, "labels": [1, 2]}, "labels make no sense with prediction_kind = 'value'"),
    ({**TITANIC, "labels": []}, "labels must be a non-empty list"),
    ({**TITANIC, "labels": [True, False]}, "labels must be a non-empty list of strings or numbers"),
    ({**TITANIC, "labels": [0, 1, 1]}, "labels lists 1 more than once"),
    ({**BINARY, "labels": ["a", "b", "c"]}, r"labels = \[negative, positive\].*got 3 labels"),
    ({**IRIS, "labels": None}, "multi-class probabilities need labels naming the class of each prediction column"),
    ({**IRIS, "labels": ["setosa", "virginica", "versicolor"]}, r"labels = \['setosa', 'versicolor', 'virginica'\]"),
    ({**IRIS, "metric": "roc_auc", "direction": "maximize"}, "roc_auc grades one probability column"),
])
def test_from_table_errors(table: dict[str, Any], message: str) -> None:
    with pytest.raises(TaskFormatError, match=message):
        GradingSpec.from_table(table)


def test_from_table_wants_a_table() -> None:
    with pytest.raises(TaskFormatError, match="must be a table"):
        GradingSpec.from_table(["metric"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the file itself


def test_a_good_submission_is_aligned_on_the_expected_ids(tmp_path: Path, titanic: GradingSpec) -> None:
    # Other column order, other row order, ids written as floats, labels as "1.0", spaces, blank lines.
    write(tmp_path, "Survived,PassengerId\n1.0, 3.0\n\n0,1\n 1 ,2\n")
    frame = read_submission(tmp_path, titanic, pd.Series([1, 2, 3]))
    assert list(frame.columns) == ["PassengerId", "Survived"]
    assert frame["PassengerId"].tolist() == [1, 2, 3]
    assert frame["Survived"].tolist() == [0, 1, 1]
    assert all(type(value) is int for value in frame["Survived"])
    assert list(frame.index) == [0, 1, 2]


def test_string_ids_are_compared_as_written(tmp_path: Path) -> None:
    spec = spec_of(HOUSES, metric="rmse")
    write(tmp_path, "Id,SalePrice\n007,1\nb,2\n")
    frame = read_submission(tmp_path, spec, pd.Series(["b", "007"]))
    assert frame["Id"].tolist() == ["b", "007"] and frame["SalePrice"].tolist() == [2.0, 1.0]
    write(tmp_path, "Id,SalePrice\n7,1\nb,2\n")
    message = rejected(tmp_path, spec, ["b", "007"], "extra_ids")
    assert "ids not in test.csv: '7'" in message and "missing ids: 007" in message


def test_a_byte_order_mark_is_accepted(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, b"\xef\xbb\xbfPassengerId,Survived\n1,0\n2,1\n3,1\n")
    assert read_submission(tmp_path, titanic, pd.Series(IDS))["Survived"].tolist() == [0, 1, 1]


def test_another_file_name(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2,1\n3,1\n", name="preds.csv")
    assert len(read_submission(tmp_path, titanic, pd.Series(IDS), filename="preds.csv")) == 3
    with pytest.raises(ValueError, match="plain file name"):
        read_submission(tmp_path, titanic, pd.Series(IDS), filename="../preds.csv")


def test_missing_file(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n", name="preds.csv")
    message = rejected(tmp_path, titanic, IDS, "missing_file")
    assert "no submission.csv in the work dir" in message and "./submission.csv" in message
    assert "CSV files found there: 'preds.csv'" in message


def test_symlink_to_a_file_outside_is_not_followed(tmp_path: Path, titanic: GradingSpec) -> None:
    outside, workdir = tmp_path / "outside.csv", tmp_path / "work"
    workdir.mkdir()
    outside.write_text("PassengerId,Survived\n1,0\n2,1\n3,1\n")  # a valid file: only the link is wrong
    (workdir / "submission.csv").symlink_to(outside)
    assert "symbolic link" in rejected(workdir, titanic, IDS, "symlink")


def test_symlink_inside_the_work_dir_is_not_followed_either(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2,1\n3,1\n", name="real.csv")
    (tmp_path / "submission.csv").symlink_to("real.csv")
    rejected(tmp_path, titanic, IDS, "symlink")
    (tmp_path / "submission.csv").unlink()
    (tmp_path / "submission.csv").symlink_to("nowhere.csv")  # dangling
    rejected(tmp_path, titanic, IDS, "symlink")


@pytest.mark.timeout(10)
def test_a_fifo_is_not_read_and_does_not_block(tmp_path: Path, titanic: GradingSpec) -> None:
    os.mkfifo(tmp_path / "submission.csv")
    assert "FIFO" in rejected(tmp_path, titanic, IDS, "not_regular_file")


def test_a_directory_is_not_a_submission(tmp_path: Path, titanic: GradingSpec) -> None:
    (tmp_path / "submission.csv").mkdir()
    assert "is a directory, not a regular file" in rejected(tmp_path, titanic, IDS, "not_regular_file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n").chmod(0)
    assert "cannot be opened" in rejected(tmp_path, titanic, IDS, "unreadable")


def test_too_large_is_refused_before_reading(tmp_path: Path, titanic: GradingSpec) -> None:
    size = write(tmp_path, "PassengerId,Survived\n1,0\n2,1\n3,1\n").stat().st_size
    message = rejected(tmp_path, titanic, IDS, "too_large", max_bytes=size - 1)
    assert f"limit of {size - 1} bytes ({size} bytes or more)" in message
    assert len(read_submission(tmp_path, titanic, pd.Series(IDS), max_bytes=size)) == 3


def test_empty_file(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, b"")
    assert "empty (0 bytes)" in rejected(tmp_path, titanic, IDS, "empty")
    write(tmp_path, "\n  \n")
    assert "only whitespace" in rejected(tmp_path, titanic, IDS, "empty")


def test_latin1_is_not_utf8(tmp_path: Path) -> None:
    spec = spec_of(TITANIC, labels=None)
    data = "PassengerId,Survived\n1,café\n".encode("latin-1")
    write(tmp_path, data)
    message = rejected(tmp_path, spec, IDS, "encoding")
    assert f"byte 0xe9 at offset {data.index(0xE9)} (line 2)" in message and "utf-8" in message


@pytest.mark.parametrize(("content", "message"), [
    ("PassengerId,Survived\n1,0\n2,1,5\n3,1\n", "Expected 2 fields in line 3, saw 3"),
    # One field too many on every row: pandas would otherwise take the first column for an index.
    ("PassengerId,Survived\n1,0,5\n2,1,5\n3,1,5\n", "Expected 2 fields in line 2, saw 3"),
    ("PassengerId\n1,0\n", "Expected 1 fields in line 2, saw 2"),
    ('PassengerId,Survived\n1,"0\n2,1\n', "EOF inside string"),
])
def test_not_csv(tmp_path: Path, titanic: GradingSpec, content: str, message: str) -> None:
    write(tmp_path, content)
    text = rejected(tmp_path, titanic, IDS, "not_csv")
    assert text.startswith("submission.csv is not valid CSV: ") and message in text


def test_a_short_row_has_empty_cells(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2\n3,1\n")
    assert "empty or NaN: 1 of 3 rows (id '2')" in rejected(tmp_path, titanic, IDS, "nan")


def test_quoted_fields_and_crlf_line_ends(tmp_path: Path) -> None:
    spec = spec_of(TITANIC, labels=None)
    write(tmp_path, 'PassengerId,Survived\r\n1,"a, b"\r\n2,"x\ny"\r\n\r\n3,z\r\n')
    assert read_submission(tmp_path, spec, pd.Series(IDS))["Survived"].tolist() == ["a, b", "x\ny", "z"]


def test_missing_columns(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,survived\n1,0\n2,1\n3,1\n")
    message = rejected(tmp_path, titanic, IDS, "missing_columns")
    assert "lacks the column 'Survived'" in message
    assert "expected the columns PassengerId,Survived, found 'PassengerId','survived'" in message
    assert "case-sensitive" in message


def test_extra_columns(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived,Name\n1,0,a\n2,1,b\n3,1,c\n")
    assert "has the extra column 'Name'" in rejected(tmp_path, titanic, IDS, "extra_columns")


def test_a_wide_header_is_cut_short(tmp_path: Path, titanic: GradingSpec) -> None:
    names = [f"f{i}" for i in range(100)]
    write(tmp_path, ",".join(["PassengerId", "Survived", *names]) + "\n" + ",".join(["1"] * 102) + "\n")
    message = rejected(tmp_path, titanic, IDS, "extra_columns")
    assert "found 'PassengerId','Survived','f0'," in message and "'f17',... (102 in all)" in message
    assert "f18," not in message.split("found")[1]
    assert "the extra columns 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', ... (100 in all);" in message


def test_an_index_column_gets_a_hint(tmp_path: Path, titanic: GradingSpec) -> None:
    pd.DataFrame({"PassengerId": IDS, "Survived": [0, 1, 1]}).to_csv(tmp_path / "submission.csv")  # index=True
    assert "index=False" in rejected(tmp_path, titanic, IDS, "extra_columns")


def test_a_repeated_column(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived,Survived\n1,0,0\n2,1,1\n3,1,1\n")
    assert "repeats the column 'Survived'" in rejected(tmp_path, titanic, IDS, "extra_columns")


def test_header_without_rows(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n")
    assert "header but no rows" in rejected(tmp_path, titanic, IDS, "wrong_row_count")


def test_missing_ids(tmp_path: Path, titanic: GradingSpec) -> None:
    ids = list(range(1, 419))
    write(tmp_path, "PassengerId,Survived\n" + "".join(f"{i},0\n" for i in ids if i not in (12, 57)))
    message = rejected(tmp_path, titanic, ids, "missing_ids")
    assert message == "submission.csv has 416 rows, expected 418 (one per id in test.csv); missing ids: 12, 57"


def test_many_missing_ids_are_summarised(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n")
    message = rejected(tmp_path, titanic, list(range(1, 101)), "missing_ids")
    assert "missing ids: 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (99 in all)" in message


def test_duplicate_ids(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2,1\n2.0,1\n")
    message = rejected(tmp_path, titanic, IDS, "duplicate_ids")
    assert "has 3 rows, expected 3" in message
    assert "ids that appear more than once: '2' (2 times)" in message and "missing ids: 3" in message


def test_extra_ids(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2,1\n3,1\n99,0\n,1\n")
    message = rejected(tmp_path, titanic, IDS, "extra_ids")
    assert "has 5 rows, expected 3" in message and "ids not in test.csv: '99', '' (empty)" in message
    assert "missing" not in message


@pytest.mark.parametrize("cell", ["", "NaN", "nan", "NA"])
def test_nan_predictions(tmp_path: Path, cell: str) -> None:
    write(tmp_path, f"Id,SalePrice\n1,10\n2,{cell}\n3,{cell}\n")
    message = rejected(tmp_path, spec_of(HOUSES), IDS, "nan")
    assert message.startswith("column 'SalePrice' is empty or NaN: 2 of 3 rows (ids '2', '3')")


def test_nan_labels(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2,\n3,1\n")
    assert "column 'Survived' is empty or NaN: 1 of 3 rows (id '2')" in rejected(tmp_path, titanic, IDS, "nan")
    write(tmp_path, "PassengerId,Survived\n1,0\n2,\n3,1\n")
    rejected(tmp_path, spec_of(TITANIC, labels=None), IDS, "nan")


def test_strings_in_a_numeric_column(tmp_path: Path) -> None:
    write(tmp_path, "Id,SalePrice\n1,10\n2,abc\n3,1e3\n")
    message = rejected(tmp_path, spec_of(HOUSES), IDS, "non_numeric")
    assert "column 'SalePrice' has values that are not numbers: 1 of 3 rows (id '2': 'abc')" in message


def test_probabilities_outside_0_1(tmp_path: Path) -> None:
    write(tmp_path, "id,p\n1,1.2\n2,0.5\n3,-0.1\n")
    message = rejected(tmp_path, spec_of(BINARY), IDS, "out_of_range")
    assert "must be in [0, 1]: 2 of 3 rows (id '1': '1.2', id '3': '-0.1')" in message


def test_probabilities_at_the_bounds_are_fine(tmp_path: Path) -> None:
    write(tmp_path, "id,p\n1,1\n2,0.5\n3,0\n")
    assert read_submission(tmp_path, spec_of(BINARY), pd.Series(IDS))["p"].tolist() == [1.0, 0.5, 0.0]


def test_infinite_values(tmp_path: Path) -> None:
    write(tmp_path, "Id,SalePrice\n1,inf\n2,1\n3,1\n")
    assert "infinite" in rejected(tmp_path, spec_of(HOUSES, metric="rmse"), IDS, "infinite")
    write(tmp_path, "id,p\n1,inf\n2,0\n3,0\n")
    rejected(tmp_path, spec_of(BINARY), IDS, "out_of_range")


def test_unknown_labels(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n2,2\n3,yes\n")
    message = rejected(tmp_path, titanic, IDS, "bad_labels")
    assert "not labels: 2 of 3 rows (id '2': '2', id '3': 'yes'); the labels are: 0, 1" in message


def test_string_labels(tmp_path: Path) -> None:
    spec = spec_of(TITANIC, labels=["no", "yes"])
    write(tmp_path, "PassengerId,Survived\n1,yes\n2,no\n3,Yes\n")
    assert "id '3': 'Yes'" in rejected(tmp_path, spec, IDS, "bad_labels")


def test_negative_values_for_rmsle(tmp_path: Path) -> None:
    write(tmp_path, "Id,SalePrice\n1,10\n2,-5\n3,0\n")
    message = rejected(tmp_path, spec_of(HOUSES), IDS, "negative_values")
    assert "id '2': '-5'" in message and ">= 0" in message
    assert read_submission(tmp_path, spec_of(HOUSES, metric="rmse"), pd.Series(IDS))["SalePrice"].tolist() == [
        10.0, -5.0, 0.0]


def test_grading_asks_the_metric_not_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics registered under new names get the checks their properties call for, in their own words."""
    logs = attrs.evolve(METRICS["rmse"], name="rmse_of_logs", non_negative="takes log(prediction + 1)")
    monkeypatch.setitem(METRICS, logs.name, logs)
    write(tmp_path, "Id,SalePrice\n1,10\n2,-5\n3,0\n")
    message = rejected(tmp_path, spec_of(HOUSES, metric=logs.name), IDS, "negative_values")
    assert "(id '2': '-5')" in message
    assert message.endswith("; rmse_of_logs takes log(prediction + 1), so predictions must be >= 0: clip them at 0")

    seen: list[np.ndarray] = []

    def agreement(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        seen.append(y_pred)
        return float(np.mean(y_true == y_pred))

    ratings = Metric("agreement", Direction.MAXIMIZE, frozenset({PredictionKind.LABEL}), agreement, ratings=True)
    monkeypatch.setitem(METRICS, ratings.name, ratings)
    answers = pd.DataFrame({"id": [1, 2, 3], "rating": [1, 2, 3]})
    spec = spec_of(TITANIC, metric=ratings.name, id_column="id", prediction_columns=["rating"],
                   answer_column="rating", labels=None)
    assert graded(tmp_path, spec, "id,rating\n1,1.0\n2,2\n3,4\n", answers) == pytest.approx(2 / 3)
    assert seen[0].dtype == float, "ratings reach the metric as numbers"
    with pytest.raises(SubmissionError) as caught:
        graded(tmp_path, spec, "id,rating\n1,1\n2,high\n3,3\n", answers)
    assert caught.value.code == "non_numeric" and "agreement grades numeric ratings" in caught.value.message


def test_multiclass_columns_are_all_checked(tmp_path: Path) -> None:
    write(tmp_path, "id,setosa,versicolor,virginica\n1,0.2,0.3,0.5\n2,1,0,x\n3,0,0,1\n")
    assert "column 'virginica'" in rejected(tmp_path, spec_of(IRIS), IDS, "non_numeric")


def test_answers_with_duplicate_ids_are_a_task_error(tmp_path: Path, titanic: GradingSpec) -> None:
    write(tmp_path, "PassengerId,Survived\n1,0\n")
    with pytest.raises(TaskFormatError, match="duplicate ids"):
        read_submission(tmp_path, titanic, pd.Series([1, 1]))


# --------------------------------------------------------------------------- scoring


def graded(folder: Path, spec: GradingSpec, content: str, answers: pd.DataFrame, **kwargs: Any) -> float:
    write(folder, content)
    submission = read_submission(folder, spec, answers[spec.id_column])
    return score_submission(spec, submission, answers, **kwargs)


def test_accuracy_compares_labels_of_different_spellings(tmp_path: Path) -> None:
    answers = pd.DataFrame({"PassengerId": [1, 2, 3, 4], "Survived": [0, 1, 1, 0]})
    content = "PassengerId,Survived\n4,0.0\n3,1\n2,0\n1,0\n"
    assert graded(tmp_path, spec_of(TITANIC), content, answers) == 0.75
    assert graded(tmp_path, spec_of(TITANIC, labels=None), content, answers) == 0.75


def test_string_labels_score(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2, 3], "species": ["a", "b", "c"]})
    spec = spec_of(TITANIC, id_column="id", prediction_columns=["species"], answer_column="species", labels=None,
                   metric="macro_f1")
    assert graded(tmp_path, spec, "id,species\n1,a\n2,b\n3,c\n", answers) == 1.0


def test_qwk_scores_ratings(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2, 3], "rating": [0, 1, 3]})
    spec = spec_of(TITANIC, metric="qwk", id_column="id", prediction_columns=["rating"], answer_column="rating",
                   labels=None)
    assert graded(tmp_path, spec, "id,rating\n1,1\n2,1\n3,3\n", answers) == pytest.approx(20 / 23)
    with pytest.raises(SubmissionError) as caught:
        graded(tmp_path, spec, "id,rating\n1,1\n2,high\n3,3\n", answers)
    assert caught.value.code == "non_numeric" and "id '2': 'high'" in caught.value.message


def test_binary_probabilities(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2, 3, 4], "target": [0, 0, 1, 1]})
    content = "id,p\n1,0.1\n2,0.4\n3,0.35\n4,0.8\n"
    assert graded(tmp_path, spec_of(BINARY), content, answers) == pytest.approx(0.75)
    expected = -np.mean(np.log([0.9, 0.6, 0.35, 0.8]))
    assert graded(tmp_path, spec_of(BINARY, metric="log_loss", direction="minimize"), content, answers) == (
        pytest.approx(expected))


def test_binary_probabilities_with_named_classes(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2, 3, 4], "target": ["ham", "ham", "spam", "spam"]})
    content = "id,p\n1,0.1\n2,0.4\n3,0.35\n4,0.8\n"
    assert graded(tmp_path, spec_of(BINARY, labels=["ham", "spam"]), content, answers) == pytest.approx(0.75)
    # Reversed: P(spam) read as P(ham) turns 0.75 into 0.25.
    assert graded(tmp_path, spec_of(BINARY, labels=["spam", "ham"]), content, answers) == pytest.approx(0.25)
    with pytest.raises(TaskFormatError, match="binary answers must be 0 or 1"):
        graded(tmp_path, spec_of(BINARY), content, answers)


def test_multiclass_log_loss_in_labels_order(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2], "species": ["virginica", "setosa"]})
    # Columns in another order than labels: they are matched by name. Row 2 sums to 2.
    content = "id,virginica,setosa,versicolor\n1,0.5,0.25,0.25\n2,0.5,1.0,0.5\n"
    assert graded(tmp_path, spec_of(IRIS), content, answers) == pytest.approx(math.log(2))


def test_a_multiclass_row_of_zeros_is_refused_with_its_id(tmp_path: Path) -> None:
    write(tmp_path, "id,setosa,versicolor,virginica\n1,0.2,0.3,0.5\n2,0,0,0\n3,0,0.0,1e-9\n")
    message = rejected(tmp_path, spec_of(IRIS), IDS, "zero_probabilities")
    assert "1 of 3 rows" in message and "'2'" in message and "'3'" not in message


@pytest.mark.parametrize("spelling", [("1", "0"), ("1.0", "0.0"), ("true", "false"), ("True", "False"),
                                      ("TRUE", "FALSE")])
def test_boolean_answers_take_any_spelling_of_a_boolean(tmp_path: Path, spelling: tuple[str, str]) -> None:
    """answers.csv with True/False reads as booleans: 1/0 and true/false used to score a silent 0."""
    (tmp_path / "answers.csv").write_text("id,alive\n1,True\n2,False\n3,True\n4,True\n")
    answers = pd.read_csv(tmp_path / "answers.csv")
    assert answers["alive"].dtype == bool  # the case at hand
    yes, no = spelling
    content = f"id,alive\n1,{yes}\n2,{no}\n3,{yes}\n4,{no}\n"
    spec = spec_of(TITANIC, id_column="id", prediction_columns=["alive"], answer_column="alive", labels=None)
    assert graded(tmp_path, spec, content, answers) == 0.75
    assert graded(tmp_path, spec_of(TITANIC, id_column="id", prediction_columns=["alive"], answer_column="alive",
                                    metric="macro_f1"), "id,alive\n1,1\n2,0\n3,1\n4,1\n", answers) == 1.0


def test_boolean_answers_refuse_what_is_not_a_boolean(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2, 3], "alive": [True, False, True]})
    spec = spec_of(TITANIC, id_column="id", prediction_columns=["alive"], answer_column="alive", labels=None)
    with pytest.raises(SubmissionError) as caught:
        graded(tmp_path, spec, "id,alive\n1,yes\n2,0\n3,2\n", answers)
    assert caught.value.code == "bad_labels"
    assert "id '1': 'yes'" in caught.value.message and "id '3': '2'" in caught.value.message
    assert "True/False or 1/0" in caught.value.message


def test_multiclass_with_integer_classes(tmp_path: Path) -> None:
    answers = pd.DataFrame({"id": [1, 2], "digit": [2, 0]})
    spec = spec_of(IRIS, prediction_columns=["0", "1", "2"], labels=[0, 1, 2], answer_column="digit")
    assert graded(tmp_path, spec, "id,0,1,2\n1,0,0,1\n2,1,0,0\n", answers) == pytest.approx(0.0, abs=1e-12)


def test_rmse_and_rmsle(tmp_path: Path) -> None:
    answers = pd.DataFrame({"Id": [1, 2], "SalePrice": [0.0, math.e - 1]})
    content = "Id,SalePrice\n2,0\n1,0\n"
    assert graded(tmp_path, spec_of(HOUSES), content, answers) == pytest.approx(math.sqrt(0.5))
    assert graded(tmp_path, spec_of(HOUSES, metric="rmse"), content, answers) == pytest.approx((math.e - 1) / 2 ** 0.5)


def test_custom_grader_gets_aligned_copies(tmp_path: Path) -> None:
    answers = pd.DataFrame({"Id": [1, 2], "SalePrice": [1.0, 2.0]})
    seen: list[pd.DataFrame] = []

    def grade(submission: pd.DataFrame, truth: pd.DataFrame) -> float:
        seen.append(submission)
        submission["SalePrice"] = 0.0  # must not leak out
        return float((truth["SalePrice"] * 10).sum())

    spec = spec_of(HOUSES, metric="custom", direction="maximize")
    write(tmp_path, "Id,SalePrice\n2,5\n1,4\n")
    submission = read_submission(tmp_path, spec, answers["Id"])
    assert score_submission(spec, submission, answers, grade) == 30.0
    assert seen[0]["Id"].tolist() == [1, 2]
    assert submission["SalePrice"].tolist() == [4.0, 5.0]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_custom_score_is_a_grader_error(tmp_path: Path, value: float) -> None:
    answers = pd.DataFrame({"Id": [1], "SalePrice": [1.0]})
    spec = spec_of(HOUSES, metric="custom")
    with pytest.raises(SubmissionError) as caught:
        graded(tmp_path, spec, "Id,SalePrice\n1,1\n", answers, custom=lambda s, a: value)
    assert caught.value.code == "grader" and "not a finite number" in caught.value.message


def test_custom_grader_misuse_is_a_task_error(tmp_path: Path) -> None:
    answers = pd.DataFrame({"Id": [1], "SalePrice": [1.0]})
    with pytest.raises(TaskFormatError, match=r"needs grade\.py"):
        graded(tmp_path, spec_of(HOUSES, metric="custom"), "Id,SalePrice\n1,1\n", answers)
    with pytest.raises(TaskFormatError, match="only used with metric = 'custom'"):
        graded(tmp_path, spec_of(HOUSES), "Id,SalePrice\n1,1\n", answers, custom=lambda s, a: 1.0)
    with pytest.raises(TaskFormatError, match="not a number"):
        graded(tmp_path, spec_of(HOUSES, metric="custom"), "Id,SalePrice\n1,1\n", answers, custom=lambda s, a: "1")


def test_an_overflowing_metric_is_a_grader_error(tmp_path: Path) -> None:
    answers = pd.DataFrame({"Id": [1], "SalePrice": [1.0]})
    with pytest.raises(SubmissionError) as caught:
        graded(tmp_path, spec_of(HOUSES, metric="rmse"), "Id,SalePrice\n1,1e308\n", answers)
    assert caught.value.code == "grader"


def test_unaligned_frames_are_refused(tmp_path: Path) -> None:
    answers = pd.DataFrame({"Id": [1, 2], "SalePrice": [1.0, 2.0]})
    spec = spec_of(HOUSES, metric="rmse")
    write(tmp_path, "Id,SalePrice\n1,1\n2,2\n")
    submission = read_submission(tmp_path, spec, answers["Id"])
    with pytest.raises(ValueError, match="not aligned"):
        score_submission(spec, submission, answers.iloc[::-1].reset_index(drop=True))


def test_scores_are_json_ready_floats(tmp_path: Path) -> None:
    answers = pd.DataFrame({"PassengerId": [1, 2], "Survived": [0, 1]})
    value = graded(tmp_path, spec_of(TITANIC), "PassengerId,Survived\n1,0\n2,1\n", answers)
    assert type(value) is float and json.loads(json.dumps(value)) == 1.0
