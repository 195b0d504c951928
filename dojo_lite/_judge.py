"""Grading in the controller: the private answers, the task's grade.py, the leaderboard."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ._errors import SubmissionError, TaskCodeError
from ._grading import read_submission, score_submission
from ._observation import Action, Observation, Status
from ._scores import Grade, Leaderboard, grade_score
from ._task import PreparedData, Task

__all__ = ["Judge"]


class Judge:
    """Checks and grades what a run left in a work dir.  The answers of each variant are read
    once and never shown to agent code; the task's ``grade.py`` is loaded once, and whatever it
    raises is the task author's bug (:class:`TaskCodeError`), never the agent's."""

    def __init__(self, task: Task, cache: Path | None, leaderboard: Leaderboard | None) -> None:
        self.task = task
        self.cache = cache
        self.leaderboard = leaderboard
        self._data: dict[str, PreparedData] = {}
        self._answers: dict[str, pd.DataFrame] = {}

    def prepared(self, variant: str) -> PreparedData:
        if variant not in self._data:
            self._data[variant] = self.task.prepare(variant, self.cache)
        return self._data[variant]

    def answers(self, variant: str) -> pd.DataFrame:
        if variant not in self._answers:
            self._answers[variant] = self.prepared(variant).answers()
        return self._answers[variant]

    @functools.cached_property
    def _grader(self) -> Callable[..., float] | None:
        try:
            grader: Callable[..., float] | None = self.task.custom_grader()
        except Exception as exc:  # it does not even load: the task author's to fix
            raise TaskCodeError(f"{self.task.id}'s grade.py does not load: {exc!r}") from exc
        if grader is None:
            return None
        task_id = self.task.id

        def guarded(*args: Any, **kwargs: Any) -> float:
            try:
                return grader(*args, **kwargs)
            except SubmissionError:
                raise  # the hook may refuse a submission the way the built-in checks do
            except Exception as exc:
                raise TaskCodeError(f"{task_id}'s grade.py raised {exc!r}") from exc
        return guarded

    def judge(self, action: Action, workdir: Path, variant: str, text: str,
              data: dict[str, Any]) -> tuple[Observation, Grade | None]:
        """After a clean run: check ``submission.csv``; for ``execute_code``, score and place it.
        ``text`` and ``data`` describe the run; the observation adds the verdict to them."""
        spec = self.task.grading
        answers = self.answers(variant)
        try:
            submission = read_submission(workdir, spec, answers[spec.id_column])
            if action is Action.VALIDATE_CODE:
                return Observation(action, Status.OK, f"{text}\n\nThe submission's format is valid ({len(submission)} "
                                   "rows). Run execute_code to get a score on the full data.", data), None
            score = score_submission(spec, submission, answers, self._grader)
        except SubmissionError as exc:
            data["submission_error"] = {"code": exc.code, "message": exc.message}
            return Observation(action, Status.SUBMISSION_ERROR,
                               f"{text}\n\nThe submission is not valid: {exc.message}", data), None
        grade = grade_score(self.leaderboard, score)
        data["grade"] = grade.to_dict()
        return Observation(action, Status.OK, f"{text}\n\n{grade.describe(spec.metric)}", data), grade
