"""What an imported competition's generated files call, tested directly: the data
(``dojo_lite.recipes.ImportedData``: the full copy, the micro sampler) and the graders
(``dojo_lite.graders``: frames as pandas reads them, refusals by name, MLE-Dojo's order of calls,
MLE-bench's grader loaded from its checkout under the process-wide lock).

The competitions here are synthetic folders written by each test; tests/dojo_lite/test_importers.py
imports whole competitions through the importers.
"""

from __future__ import annotations

import hashlib
import os
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dojo_lite
from dojo_lite import graders
from dojo_lite.compat.mledojo._metrics import metric_base_modules
from dojo_lite.recipes import ImportedData, tree_digest

# --------------------------------------------------------------------------- the data


def _source(root: Path) -> Path:
    """``root/source`` as an importer writes it: public/ (a test set of 300 ids, a train set of
    1000 rows, images named by path, features named by stem, an unnamed file, a .csv that does
    not parse, a sample submission named otherwise) and private/answers.csv."""
    public, private = root / "source" / "public", root / "source" / "private"
    (public / "images").mkdir(parents=True)
    (public / "features").mkdir()
    private.mkdir(parents=True)
    test_ids = [f"T{i:04d}" for i in range(300)]
    train = pd.DataFrame({"rid": [f"R{i:04d}" for i in range(1000)], "x": [f"{i / 8:.3f}" for i in range(1000)],
                          "image": [f"images/R{i:04d}.png" for i in range(1000)]})
    test = pd.DataFrame({"rid": test_ids, "x": ["007", "1.50", "", " a, b "] * 75,
                         "image": [f"images/{i}.png" for i in test_ids]})
    train.to_csv(public / "train.csv", index=False)
    test.to_csv(public / "test.csv", index=False)
    order = np.random.default_rng(0).permutation(300)  # the sample lists the ids in another order
    pd.DataFrame({"rid": np.array(test_ids)[order], "y": 0}).to_csv(public / "sampleSubmission.csv", index=False)
    pd.DataFrame({"rid": test_ids, "y": range(300), "weight": 1.0}).to_csv(private / "answers.csv", index=False)
    for name in [*train.rid, *test_ids]:
        (public / "images" / f"{name}.png").write_bytes(name.encode())
    for name in test_ids[:100]:
        (public / "features" / f"{name}.npy").write_bytes(name.encode() * 2)  # named by the id alone
    (public / "notes.txt").write_text("named by no cell\n")
    (public / "broken.csv").write_bytes(b"\xff\xfe\x00not a table")
    return root / "source"


def _data(source: Path, **changes: Any) -> ImportedData:
    values: dict[str, Any] = {"source": source, "sha256": tree_digest(source), "answers": "answers.csv",
                              "sample": "sampleSubmission.csv", "id_column": "rid", "seed": 20250101,
                              "micro_test": 40, "micro_rows": 60}
    return ImportedData(**{**values, **changes})


def _prepared(data: ImportedData, target: Path, variant: str) -> tuple[Path, Path]:
    public, private = target / "public", target / "private"
    public.mkdir(parents=True)
    private.mkdir()
    data.prepare(public, private, variant)
    return public, private


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cells(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return _source(tmp_path)


def test_the_micro_sample_is_consistent_across_test_sample_and_answers(source: Path, tmp_path: Path) -> None:
    public, private = _prepared(_data(source), tmp_path / "micro", "micro")
    answers = _cells(private / "answers.csv")
    ids = set(answers.rid)
    assert len(ids) == 40 and list(answers.columns) == ["rid", "y", "weight"], "every column of the answers"
    assert set(_cells(public / "test.csv").rid) == set(_cells(public / "sampleSubmission.csv").rid) == ids
    assert (public / "sample_submission.csv").read_bytes() == (public / "sampleSubmission.csv").read_bytes()
    full_test = _cells(source / "public" / "test.csv")
    assert _cells(public / "test.csv").equals(full_test[full_test.rid.isin(ids)].reset_index(drop=True)), \
        "the test set's rows, in their order, their cells as written ('007', '', ' a, b ')"
    full_sample = _cells(source / "public" / "sampleSubmission.csv")
    assert list(_cells(public / "sampleSubmission.csv").rid) == [i for i in full_sample.rid if i in ids]
    train, full_train = _cells(public / "train.csv"), _cells(source / "public" / "train.csv")
    assert len(train) == 60 and list(train.rid) == sorted(train.rid), "at most micro_rows rows, in their order"
    assert set(train.rid) <= set(full_train.rid)
    images = {p.stem for p in (public / "images").iterdir()}
    assert images == set(train.rid) | ids, "an image named by a cell only if a kept row names it"
    assert {p.stem for p in (public / "features").iterdir()} == {i for i in ids if int(i[1:]) < 100}, \
        "a file named by a cell's stem (the id) too"
    assert (public / "notes.txt").is_file() and (public / "broken.csv").read_bytes().startswith(b"\xff\xfe"), \
        "a file that no cell names, and a .csv that is no table, are kept as they are"


def test_the_micro_sample_is_deterministic_and_each_file_draws_on_its_own(source: Path, tmp_path: Path) -> None:
    first = _prepared(_data(source), tmp_path / "one", "micro")
    again = _prepared(_data(source), tmp_path / "two", "micro")
    assert _files(first[0]) == _files(again[0]) and _files(first[1]) == _files(again[1])
    reseeded = _prepared(_data(source, seed=7), tmp_path / "reseeded", "micro")
    assert set(_cells(reseeded[1] / "answers.csv").rid) != set(_cells(first[1] / "answers.csv").rid)
    # another CSV in the competition does not change which rows of train.csv are drawn
    pd.DataFrame({"k": range(900)}).to_csv(source / "public" / "another.csv", index=False)
    more = _prepared(_data(source), tmp_path / "more", "micro")
    assert (more[0] / "train.csv").read_bytes() == (first[0] / "train.csv").read_bytes()
    assert (more[1] / "answers.csv").read_bytes() == (first[1] / "answers.csv").read_bytes()
    assert len(_cells(more[0] / "another.csv")) == 60


def test_the_full_variant_links_the_files_and_copies_what_it_renames(source: Path, tmp_path: Path) -> None:
    public, private = _prepared(_data(source), tmp_path / "full", "full")
    assert _files(public) == {**_files(source / "public"),
                              "sample_submission.csv": (source / "public" / "sampleSubmission.csv").read_bytes()}
    assert (private / "answers.csv").read_bytes() == (source / "private" / "answers.csv").read_bytes()
    train = public / "train.csv"
    assert os.stat(train).st_ino == os.stat(source / "public" / "train.csv").st_ino, "a hard link, no copy"
    assert os.stat(public / "sample_submission.csv").st_nlink == 1, "the renamed copy is no link into source/"


def test_a_changed_source_or_an_unknown_variant_is_refused(source: Path, tmp_path: Path) -> None:
    data = _data(source)
    with pytest.raises(ValueError, match="unknown variant 'huge'"):
        _prepared(data, tmp_path / "huge", "huge")
    (source / "public" / "notes.txt").write_text("edited\n")
    with pytest.raises(dojo_lite.PrepareError, match="changed since the import"):
        _prepared(data, tmp_path / "changed", "full")


def test_the_micro_sample_submission_must_hold_the_micro_test_ids(source: Path, tmp_path: Path) -> None:
    sample = source / "public" / "sampleSubmission.csv"
    sample.write_text(sample.read_text().replace("T0", "U0"))  # ids the answers do not hold
    with pytest.raises(dojo_lite.PrepareError, match="does not hold the micro test ids"):
        _prepared(_data(source), tmp_path / "micro", "micro")


def test_the_tree_digest_covers_names_and_contents(tmp_path: Path) -> None:
    (tmp_path / "a" / "sub").mkdir(parents=True)
    (tmp_path / "a" / "sub" / "x.csv").write_text("1\n")
    (tmp_path / "a" / "y").write_text("2\n")
    entries = [f"sub/x.csv\0{hashlib.sha256(b'1\n').hexdigest()}\n", f"y\0{hashlib.sha256(b'2\n').hexdigest()}\n"]
    assert tree_digest(tmp_path / "a") == hashlib.sha256("".join(entries).encode()).hexdigest()
    before = tree_digest(tmp_path / "a")
    (tmp_path / "a" / "y").rename(tmp_path / "a" / "z")
    assert tree_digest(tmp_path / "a") != before


# --------------------------------------------------------------------------- frames and refusals


def test_as_read_gives_integers_back_where_the_sample_holds_integers() -> None:
    frame = pd.DataFrame({"id": ["007", "8"], "whole": [3.0, -4.0], "half": [1.0, 2.5], "missing": [1.0, np.nan],
                          "huge": [2.0**53, 1.0], "other": [1.0, 2.0]})
    read = graders.as_read(frame, ["whole", "half", "missing", "huge"])
    assert read["whole"].tolist() == [3, -4] and pd.api.types.is_integer_dtype(read["whole"])
    for column in ("half", "missing", "huge", "other"):
        assert pd.api.types.is_float_dtype(read[column]), column
    assert read["id"].tolist() == [7, 8], "as pandas reads the file: '007' is a number"
    assert frame["whole"].dtype == np.float64, "the frame given is not changed"
    assert graders.as_read(frame, read_options={"dtype": str})["whole"].tolist() == ["3.0", "-4.0"]
    with pytest.raises(KeyError):
        graders.as_read(frame, ["nowhere"])


def test_a_refusal_is_known_by_its_class_name() -> None:
    class InvalidSubmissionError(Exception):  # any checkout's own class of that name
        pass

    class TooShort(InvalidSubmissionError):
        pass

    assert graders.is_refusal(InvalidSubmissionError("x")) and graders.is_refusal(TooShort("x"))
    assert graders.is_refusal(dojo_lite.compat.mledojo.InvalidSubmissionError("x"))
    assert not graders.is_refusal(ValueError("InvalidSubmissionError: x"))
    assert not graders.is_refusal(dojo_lite.SubmissionError("invalid_submission", "x"))


# --------------------------------------------------------------------------- MLE-Dojo

ORDERED_METRIC = '''
import pandas as pd
from mledojo.metrics.base import CompetitionMetrics, InvalidSubmissionError


class OrderedMetrics(CompetitionMetrics):
    """Says which frame came where, and refuses to evaluate what it has not validated."""

    def __init__(self):
        super().__init__(higher_is_better=True)
        self.validated = None

    def validate_submission(self, submission, ground_truth):
        if (submission["y"] < 0).any():
            raise InvalidSubmissionError("  negative y  ")
        if (submission["y"] > 100).any():
            raise InvalidSubmissionError()
        if (submission["y"] == 13).any():
            raise KeyError("unlucky")
        self.validated = (submission, ground_truth)
        return "Submission is valid."

    def evaluate(self, y_true, y_pred):
        assert self.validated is not None and self.validated[0] is y_pred and self.validated[1] is y_true
        assert pd.api.types.is_integer_dtype(y_pred["y"]), "whole numbers as integers"
        return 1000 * y_true["y"].sum() + y_pred["y"].sum()
'''


@pytest.fixture
def ordered_grader(tmp_path: Path) -> graders.CustomGrader:
    (tmp_path / "metric.py").write_text(ORDERED_METRIC)
    return graders.mledojo_grader(tmp_path / "metric.py", "OrderedMetrics", integer_columns=["y"])


def test_an_mledojo_metric_validates_then_evaluates(ordered_grader: graders.CustomGrader) -> None:
    answers = pd.DataFrame({"id": [1, 2], "y": [1, 2]})
    score = ordered_grader(pd.DataFrame({"id": [1, 2], "y": [5.0, 6.0]}), answers)
    assert score == 3011.0 and type(score) is float, "evaluate(answers, submission), as a float"
    assert "mledojo" not in sys.modules, "the stand-in for MLE-Dojo's base module is gone after loading"


def test_an_mledojo_refusal_is_a_submission_error_and_a_bug_is_not(ordered_grader: graders.CustomGrader) -> None:
    answers = pd.DataFrame({"id": [1, 2], "y": [1, 2]})
    with pytest.raises(dojo_lite.SubmissionError) as refused:
        ordered_grader(pd.DataFrame({"id": [1, 2], "y": [-1.0, 6.0]}), answers)
    assert refused.value.code == "invalid_submission"
    assert refused.value.message == "the competition's grader refused it: negative y"
    assert type(refused.value.__cause__).__name__ == "InvalidSubmissionError"
    with pytest.raises(dojo_lite.SubmissionError, match=r"refused it: InvalidSubmissionError$"):
        ordered_grader(pd.DataFrame({"id": [1, 2], "y": [101.0, 6.0]}), answers)
    with pytest.raises(KeyError, match="unlucky"):
        ordered_grader(pd.DataFrame({"id": [1, 2], "y": [13.0, 6.0]}), answers)


def test_an_mledojo_metric_that_is_not_there_fails_to_load(tmp_path: Path) -> None:
    (tmp_path / "metric.py").write_text(ORDERED_METRIC)
    with pytest.raises(AttributeError, match="NoSuchMetrics"):
        graders.mledojo_grader(tmp_path / "metric.py", "NoSuchMetrics")


# --------------------------------------------------------------------------- MLE-bench


def _checkout(root: Path, value: float, delay: float = 0.0) -> tuple[Path, Path]:
    """``root``: an MLE-bench checkout whose competition ``c`` grades every submission ``value``,
    its helpers taking ``delay`` seconds to import (a window for another thread's swap)."""
    files = {
        "mlebench/__init__.py": "",
        "mlebench/helpers.py": f"import time\ntime.sleep({delay})\nVALUE = {value}\n"
                               "class InvalidSubmissionError(Exception):\n    pass\n",
        "mlebench/competitions/__init__.py": "",
        "mlebench/competitions/c/grade.py": textwrap.dedent("""
            from mlebench.helpers import VALUE, InvalidSubmissionError

            def grade(submission, answers):
                if (submission["y"] < 0).any():
                    raise InvalidSubmissionError("no negative y")
                assert str(submission["y"].dtype) == "int64", "whole numbers as integers"
                return VALUE
        """),
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root, root / "mlebench/competitions/c/grade.py"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clean_mlebench() -> Iterator[None]:
    """No mlebench modules in sys.modules during the test (another test's checkout may have left
    them: a grader's checkout stays loaded when none was before), and as they were after it."""
    before = {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "mlebench"}
    yield
    for name in [n for n in sys.modules if n.split(".")[0] == "mlebench"]:
        del sys.modules[name]
    sys.modules.update(before)


FRAMES = (pd.DataFrame({"id": [1, 2], "y": [3.0, 4.0]}), pd.DataFrame({"id": [1, 2], "y": [3, 5]}))


@pytest.mark.usefixtures("clean_mlebench")
def test_an_mlebench_grader_loads_from_its_checkout(tmp_path: Path) -> None:
    checkout, grader_file = _checkout(tmp_path / "one", 1.5)
    path = list(sys.path)
    grade = graders.mlebench_grader(checkout, "mlebench.competitions.c.grade:grade", grader_file,
                                    _sha256(grader_file), integer_columns=["y"])
    assert sys.path == path, "the checkout is off sys.path again"
    assert grade(*FRAMES) == 1.5
    with pytest.raises(dojo_lite.SubmissionError, match="refused it: no negative y"):
        grade(pd.DataFrame({"id": [1, 2], "y": [-3.0, 4.0]}), FRAMES[1])
    grader_file.write_text(grader_file.read_text() + "\n# edited\n")
    with pytest.raises(dojo_lite.TaskCodeError, match="changed since the import"):
        graders.mlebench_grader(checkout, "mlebench.competitions.c.grade:grade", grader_file, "0" * 64)


@pytest.mark.usefixtures("clean_mlebench")
def test_another_checkout_s_modules_are_put_back(tmp_path: Path) -> None:
    one, one_file = _checkout(tmp_path / "one", 1.0)
    two, two_file = _checkout(tmp_path / "two", 2.0)
    first = graders.mlebench_grader(one, "mlebench.competitions.c.grade:grade", one_file, _sha256(one_file),
                                    integer_columns=["y"])
    loaded = sys.modules["mlebench.helpers"]
    assert Path(loaded.__file__ or "").is_relative_to(one), "with none before, the checkout's modules stay"
    second = graders.mlebench_grader(two, "mlebench.competitions.c.grade:grade", two_file, _sha256(two_file),
                                     integer_columns=["y"])
    assert sys.modules["mlebench.helpers"] is loaded, "the first checkout's modules are back"
    assert (first(*FRAMES), second(*FRAMES)) == (1.0, 2.0)
    with pytest.raises(dojo_lite.TaskCodeError, match="was loaded from"):
        graders.mlebench_grader(two, "mlebench.competitions.c.grade:grade", one_file, _sha256(one_file))


@pytest.mark.usefixtures("clean_mlebench")
def test_two_graders_loading_at_once_each_get_their_own_checkout(tmp_path: Path) -> None:
    """Each helpers module takes 0.2 s to import: without the lock, one thread's swap of
    sys.modules and sys.path lands in the middle of the other's import."""
    checkouts = [_checkout(tmp_path / f"checkout-{i}", float(i), delay=0.2) for i in range(2)]
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def load(i: int) -> None:
        checkout, grader_file = checkouts[i]
        start.wait()
        try:
            grade = graders.mlebench_grader(checkout, "mlebench.competitions.c.grade:grade", grader_file,
                                            _sha256(grader_file), integer_columns=["y"])
            results[i] = grade(*FRAMES)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {0: 0.0, 1: 1.0}, results


def test_every_swap_of_modules_holds_the_one_lock() -> None:
    """MLE-Dojo's metric base and MLE-bench's checkouts take turns with each other too."""
    taken: list[bool] = []

    def try_lock() -> None:
        acquired = graders.MODULES_LOCK.acquire(blocking=False)
        if acquired:
            graders.MODULES_LOCK.release()
        taken.append(acquired)

    for block in (metric_base_modules(), graders.checkout_modules("/nonexistent-checkout")):
        with block:
            other = threading.Thread(target=try_lock)
            other.start()
            other.join(10)
    try_lock()
    assert taken == [False, False, True]
