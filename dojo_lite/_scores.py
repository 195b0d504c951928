"""Where a score stands on a task's leaderboard: its position, position score and medal.

Medals follow MLE-bench, which follows Kaggle's progression rules: by the number of teams N, a
medal goes to the top k positions (see ``medal_ranks``), and its threshold is the score of the
entry at position k. A score at least as good as a threshold earns that medal, so ties with a
leaderboard entry always count in the agent's favour.

A leaderboard file holds rounded scores (Kaggle shows five decimals; ours were written with eight
significant digits), while an agent's score is exact. So a score ties an entry when it rounds to
that entry at the precision the file was written with (``Precision``): 274/327 ties the entry
``0.83792049``, though it is a little below it.
"""

from __future__ import annotations

import enum
import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
import pandas as pd

from ._errors import ConfigError, TaskFormatError
from ._metrics import Direction

__all__ = ["Grade", "Leaderboard", "Medal", "Precision", "Thresholds", "grade_score", "medal_ranks"]


class Medal(enum.Enum):
    """The medal a score would earn on the leaderboard."""

    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"
    NONE = "none"


def medal_ranks(n_teams: int) -> tuple[int, int, int]:
    """The last positions that earn gold, silver and bronze among ``n_teams`` teams.

    ==================  =================  ==========  ==========
    teams               gold               silver      bronze
    ==================  =================  ==========  ==========
    N < 100             top 10%            top 20%     top 40%
    100 <= N < 250      top 10             top 20%     top 40%
    250 <= N < 1000     top 10 + 0.2% N    top 50      top 100
    N >= 1000           top 10 + 0.2% N    top 5%      top 10%
    ==================  =================  ==========  ==========

    Fractions round down, as in MLE-bench, but never below position 1, so that a leaderboard of
    one to nine teams still has a gold (its best entry). Integer arithmetic: no float rounding.
    """
    if n_teams < 1:
        raise ConfigError(f"a leaderboard needs at least one team, got {n_teams}")
    if n_teams < 100:
        return max(1, n_teams // 10), max(1, n_teams // 5), max(1, 2 * n_teams // 5)
    if n_teams < 250:
        return 10, n_teams // 5, 2 * n_teams // 5
    if n_teams < 1000:
        return 10 + n_teams // 500, 50, 100
    return 10 + n_teams // 500, n_teams // 20, n_teams // 10


@attrs.frozen
class Thresholds:
    """The worst scores that still earn each medal, and the leaderboard's median score."""

    gold: float
    silver: float
    bronze: float
    median: float


def _check_scores(instance: Leaderboard, attribute: attrs.Attribute[tuple[float, ...]],
                  scores: tuple[float, ...]) -> None:
    if not scores:
        raise TaskFormatError("a leaderboard needs at least one entry")
    if not all(math.isfinite(score) for score in scores):
        bad = [score for score in scores if not math.isfinite(score)]
        raise TaskFormatError(f"leaderboard scores must be finite numbers, found {bad}")
    if any(instance.direction.better(b, a) for a, b in itertools.pairwise(scores)):
        raise TaskFormatError(f"leaderboard scores must be sorted best first ({instance.direction.value})")


def _floats(scores: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(score) for score in scores)


@attrs.frozen
class Precision:
    """The precision a leaderboard's scores were written with: at most ``significant`` significant
    digits and at most ``decimals`` decimal places (the most any entry shows)."""

    significant: int = attrs.field(validator=attrs.validators.ge(1))
    decimals: int = attrs.field(validator=attrs.validators.ge(0))

    @classmethod
    def of(cls, texts: Sequence[str]) -> Precision:
        """The precision of scores written as ``texts`` (``"0.77511"``, ``"1.2e-05"``, ``"12"``);
        ValueError for a text that is not a finite decimal number."""
        significant, decimals = 1, 0
        for text in texts:
            try:
                number = Decimal(text.strip())
            except InvalidOperation:
                raise ValueError(f"not a number: {text!r}") from None
            exponent = number.as_tuple().exponent
            if not isinstance(exponent, int):
                raise ValueError(f"not a finite number: {text!r}")
            significant = max(significant, len(number.as_tuple().digits))
            decimals = max(decimals, -exponent)
        return cls(min(significant, 17), decimals)

    def ties(self, score: float, entry: float) -> bool:
        """Whether ``score`` rounds to ``entry`` at this precision (to its decimals, or to its
        significant digits: either way the file could have been written)."""
        if score == entry:
            return True
        return round(score, self.decimals) == entry or float(f"{score:.{self.significant}g}") == entry


@attrs.frozen
class Leaderboard:
    """The scores of a task's leaderboard, best first (``from_scores`` sorts them for you).

    ``precision`` is how the scores were written (``read`` finds it in the file); a score that
    rounds to an entry at that precision ties it. None: the scores are exact.
    """

    scores: tuple[float, ...] = attrs.field(converter=_floats, validator=_check_scores)
    direction: Direction
    precision: Precision | None = None

    @classmethod
    def from_scores(cls, scores: Iterable[float], direction: Direction,
                    precision: Precision | None = None) -> Leaderboard:
        """A leaderboard of ``scores`` in any order."""
        ordered = sorted(_floats(scores), reverse=direction is Direction.MAXIMIZE)
        return cls(tuple(ordered), direction, precision)

    @classmethod
    def read(cls, path: Path, direction: Direction) -> Leaderboard:
        """The leaderboard in ``path``: a CSV with the columns ``team,score``, one row per team, any order.

        Raises TaskFormatError if it cannot be read, has other columns, no rows, or a score that is
        not a number.
        """
        try:
            # header=None: the header is read as a row, so pandas never takes a column for an index.
            table = pd.read_csv(path, header=None, dtype=str, na_filter=False)
        except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise TaskFormatError(f"{path}: cannot read the leaderboard: {error}") from None
        header = [str(name).strip() for name in table.iloc[0]]
        if header != ["team", "score"]:
            raise TaskFormatError(f"{path}: the leaderboard's columns must be team,score, found {','.join(header)}")
        texts = table.iloc[1:, 1].str.strip()
        scores = pd.to_numeric(texts, errors="coerce").astype(float).tolist()
        if not scores or not all(math.isfinite(score) for score in scores):
            raise TaskFormatError(f"{path}: the leaderboard needs at least one row, and a finite number in every score")
        try:
            precision = Precision.of(texts.tolist())
        except ValueError as error:  # "0x1p-3" and the like: pandas reads them, Decimal does not
            raise TaskFormatError(f"{path}: write every score as a decimal number: {error}") from None
        return cls.from_scores(scores, direction, precision)

    def __len__(self) -> int:
        return len(self.scores)

    def _ties(self, score: float, entry: float) -> bool:
        return score == entry if self.precision is None else self.precision.ties(score, entry)

    def _ahead(self, entry: float, score: float) -> bool:
        """Whether ``entry`` is strictly better than ``score``, at the leaderboard's precision."""
        return self.direction.better(entry, score) and not self._ties(score, entry)

    def position(self, score: float) -> int:
        """1 + the number of entries strictly better than ``score`` (a tie takes the entry's place)."""
        if math.isnan(score):
            raise ConfigError("a NaN score has no position")
        return 1 + sum(self._ahead(entry, score) for entry in self.scores)

    def beat(self, score: float) -> int:
        """How many entries ``score`` is strictly better than (a tie beats nobody)."""
        return sum(self.direction.better(score, entry) and not self._ties(score, entry) for entry in self.scores)

    def position_score(self, score: float) -> float:
        """``(N - position + 1) / N`` clipped to [0, 1], for N entries.

        That is the fraction of entries ``score`` is at least as good as: 1 when it ties or beats
        the best entry, ``1/N`` when it ties the worst, 0 when it is worse than every entry.
        """
        n = len(self.scores)
        return min(1.0, max(0.0, (n - self.position(score) + 1) / n))

    def thresholds(self) -> Thresholds:
        """The medal thresholds (the scores at the ranks of ``medal_ranks``) and the median score."""
        gold, silver, bronze = medal_ranks(len(self.scores))
        return Thresholds(
            gold=self.scores[gold - 1],
            silver=self.scores[silver - 1],
            bronze=self.scores[bronze - 1],
            median=float(statistics.median(self.scores)),
        )

    def medal(self, score: float) -> Medal:
        """The best medal whose threshold ``score`` reaches (ties count), or ``Medal.NONE``."""
        if math.isnan(score):
            raise ConfigError("a NaN score has no medal")
        thresholds = self.thresholds()
        for medal, threshold in ((Medal.GOLD, thresholds.gold), (Medal.SILVER, thresholds.silver),
                                 (Medal.BRONZE, thresholds.bronze)):
            if not self._ahead(threshold, score):
                return medal
        return Medal.NONE

    def above_median(self, score: float) -> bool:
        """True when ``score`` is strictly better than the median score (a tie is not above)."""
        return self.direction.better(score, self.thresholds().median)


_ORDINAL = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else _ORDINAL.get(n % 10, 'th')}"


@attrs.frozen(kw_only=True)
class Grade:
    """How a score fares against a leaderboard.

    ``position``, ``position_score`` and ``thresholds`` are None when there is no score or no
    leaderboard; then ``medal`` is ``NONE``, ``above_median`` False and ``beat`` 0. ``teams``
    is the number of leaderboard entries (0 without a leaderboard).
    """

    score: float | None
    position: int | None = None
    position_score: float | None = None
    medal: Medal = Medal.NONE
    above_median: bool = False
    beat: int = 0
    teams: int = 0
    thresholds: Thresholds | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (the medal as its value, e.g. ``"gold"``)."""
        return {
            "score": self.score,
            "position": self.position,
            "position_score": self.position_score,
            "medal": self.medal.value,
            "above_median": self.above_median,
            "beat": self.beat,
            "teams": self.teams,
            "thresholds": None if self.thresholds is None else attrs.asdict(self.thresholds),
        }

    def describe(self, metric: str) -> str:
        """A sentence or two for the agent: the score, and where it would place on the leaderboard."""
        if self.score is None:
            return "No score."
        text = f"Score: {self.score:.6g} ({metric})."
        if self.position is None or self.thresholds is None:
            return text + " This task has no leaderboard to place it on."
        t = self.thresholds
        medal = "no medal" if self.medal is Medal.NONE else f"a {self.medal.value} medal"
        return (
            f"{text} On the leaderboard of {self.teams} teams it would place {_ordinal(self.position)} "
            f"(beating {self.beat}; position score {self.position_score:.3f}): {medal}. "
            f"Medal thresholds: gold {t.gold:.6g}, silver {t.silver:.6g}, bronze {t.bronze:.6g}; "
            f"median {t.median:.6g}."
        )


def grade_score(leaderboard: Leaderboard | None, score: float | None) -> Grade:
    """The grade of ``score`` (None: no valid submission) on ``leaderboard`` (None: the task has none)."""
    if leaderboard is None:
        return Grade(score=score)
    thresholds = leaderboard.thresholds()
    if score is None:
        return Grade(score=None, teams=len(leaderboard), thresholds=thresholds)
    return Grade(
        score=score,
        position=leaderboard.position(score),
        position_score=leaderboard.position_score(score),
        medal=leaderboard.medal(score),
        above_median=leaderboard.above_median(score),
        beat=leaderboard.beat(score),
        teams=len(leaderboard),
        thresholds=thresholds,
    )
