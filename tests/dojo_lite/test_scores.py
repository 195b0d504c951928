"""Leaderboards: positions, position scores, medal thresholds (MLE-bench's rules), grades."""

from __future__ import annotations

import json
import math
from pathlib import Path

import attrs
import pytest

from dojo_lite._errors import TaskFormatError
from dojo_lite._metrics import Direction
from dojo_lite._scores import Grade, Leaderboard, Medal, Precision, Thresholds, grade_score, medal_ranks

MAX, MIN = Direction.MAXIMIZE, Direction.MINIMIZE


def ranked(n: int, direction: Direction = MAX) -> Leaderboard:
    """N teams whose score at position k is k (minimize) or n + 1 - k (maximize)."""
    return Leaderboard.from_scores(range(1, n + 1), direction)


def score_at(board: Leaderboard, position: int) -> float:
    return board.scores[position - 1]


# --------------------------------------------------------------------------- positions


def test_from_scores_sorts_best_first() -> None:
    assert Leaderboard.from_scores([0.5, 0.9, 0.1], MAX).scores == (0.9, 0.5, 0.1)
    assert Leaderboard.from_scores([0.5, 0.9, 0.1], MIN).scores == (0.1, 0.5, 0.9)


@pytest.mark.parametrize("scores", [(), (0.1, 0.9), (0.9, math.nan), (math.inf, 0.5)])
def test_a_leaderboard_must_be_sorted_finite_and_not_empty(scores: tuple[float, ...]) -> None:
    with pytest.raises(TaskFormatError):
        Leaderboard(scores, MAX)


def test_position_counts_strictly_better_entries() -> None:
    board = Leaderboard.from_scores([0.9, 0.8, 0.8, 0.7], MAX)
    assert board.position(0.95) == 1
    assert board.position(0.9) == 1            # tied with the best: first
    assert board.position(0.85) == 2
    assert board.position(0.8) == 2            # tied with two entries: the first of their places
    assert board.position(0.75) == 4
    assert board.position(0.7) == 4
    assert board.position(0.1) == 5            # worse than all


def test_position_when_lower_is_better() -> None:
    board = Leaderboard.from_scores([1.0, 2.0, 2.0, 3.0], MIN)
    assert [board.position(s) for s in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 9.0)] == [1, 1, 2, 2, 4, 4, 5]
    assert [board.beat(s) for s in (0.5, 1.0, 2.0, 3.0, 9.0)] == [4, 3, 1, 0, 0]


def test_position_score_formula() -> None:
    board = Leaderboard.from_scores([0.9, 0.8, 0.8, 0.7], MAX)
    assert board.position_score(1.0) == 1.0    # better than all
    assert board.position_score(0.9) == 1.0    # tied with the best
    assert board.position_score(0.85) == 0.75  # position 2: (4 - 2 + 1) / 4
    assert board.position_score(0.8) == 0.75
    assert board.position_score(0.7) == 0.25   # tied with the worst: 1/N
    assert board.position_score(0.0) == 0.0    # worse than all


def test_position_score_when_lower_is_better() -> None:
    board = Leaderboard.from_scores([10.0, 20.0], MIN)
    assert [board.position_score(s) for s in (5.0, 10.0, 15.0, 20.0, 25.0)] == [1.0, 1.0, 0.5, 0.5, 0.0]


def test_nan_has_no_place() -> None:
    board = ranked(5)
    with pytest.raises(ValueError, match="NaN"):
        board.position(math.nan)
    with pytest.raises(ValueError, match="NaN"):
        board.medal(math.nan)


# --------------------------------------------------------------------------- medals


@pytest.mark.parametrize(("teams", "ranks"), [
    (1, (1, 1, 1)), (2, (1, 1, 1)), (3, (1, 1, 1)), (5, (1, 1, 2)), (10, (1, 2, 4)), (99, (9, 19, 39)),
    (100, (10, 20, 40)), (150, (10, 30, 60)), (249, (10, 49, 99)),
    (250, (10, 50, 100)), (500, (11, 50, 100)), (999, (11, 50, 100)),
    (1000, (12, 50, 100)), (2000, (14, 100, 200)), (10_000, (30, 500, 1000)),
])
def test_medal_ranks_follow_mle_bench(teams: int, ranks: tuple[int, int, int]) -> None:
    assert medal_ranks(teams) == ranks


def test_medal_ranks_need_a_team() -> None:
    with pytest.raises(ValueError):
        medal_ranks(0)


@pytest.mark.parametrize(("teams", "gold", "silver", "bronze"), [
    (150, 10, 30, 60), (500, 11, 50, 100), (2000, 14, 100, 200),
])
@pytest.mark.parametrize("direction", [MAX, MIN])
def test_thresholds_are_the_scores_at_the_medal_ranks(
    teams: int, gold: int, silver: int, bronze: int, direction: Direction
) -> None:
    board = ranked(teams, direction)
    thresholds = board.thresholds()
    assert (thresholds.gold, thresholds.silver, thresholds.bronze) == (
        score_at(board, gold), score_at(board, silver), score_at(board, bronze))
    # At a threshold: that medal; one step worse: the next one down.
    step = 1.0 if direction is MIN else -1.0
    assert board.medal(thresholds.gold) is Medal.GOLD
    assert board.medal(thresholds.gold + step) is Medal.SILVER
    assert board.medal(thresholds.silver) is Medal.SILVER
    assert board.medal(thresholds.silver + step) is Medal.BRONZE
    assert board.medal(thresholds.bronze) is Medal.BRONZE
    assert board.medal(thresholds.bronze + step) is Medal.NONE
    assert board.medal(score_at(board, 1) - step) is Medal.GOLD
    assert board.medal(score_at(board, teams) + step) is Medal.NONE


@pytest.mark.parametrize("direction", [MAX, MIN])
def test_tiny_leaderboards_have_a_gold(direction: Direction) -> None:
    for teams in (1, 2, 3):
        board = ranked(teams, direction)
        best = score_at(board, 1)
        assert board.thresholds().gold == best
        assert board.medal(best) is Medal.GOLD                      # a tie with the best earns it
        assert board.medal(score_at(board, 2) if teams > 1 else best + (1 if direction is MIN else -1)) is (
            Medal.NONE)


def test_median_and_above_median() -> None:
    odd = Leaderboard.from_scores([1.0, 2.0, 3.0], MAX)
    assert odd.thresholds().median == 2.0
    assert odd.above_median(2.5) and not odd.above_median(2.0) and not odd.above_median(1.5)
    even = Leaderboard.from_scores([1.0, 2.0, 3.0, 4.0], MIN)
    assert even.thresholds().median == 2.5
    assert even.above_median(2.0) and not even.above_median(2.5) and not even.above_median(3.0)


def test_thresholds_value() -> None:
    assert Leaderboard.from_scores([3.0, 1.0, 2.0], MIN).thresholds() == Thresholds(1.0, 1.0, 1.0, 2.0)


# --------------------------------------------------------------------------- reading leaderboard.csv


def test_read_sorts_the_file(tmp_path: Path) -> None:
    path = tmp_path / "leaderboard.csv"
    path.write_text('team,score\nb,0.5\n"a, inc",0.9\nc,0.7\n')
    assert Leaderboard.read(path, MAX) == Leaderboard((0.9, 0.7, 0.5), MAX, Precision(1, 1))
    assert Leaderboard.read(path, MIN).scores == (0.5, 0.7, 0.9)


# --------------------------------------------------------------------------- ties at the file's precision

EIGHT_DIGITS = "team,score\na,0.84097859\nb,0.83792049\nc,0.83792049\nd,0.81957187\ne,0.7\n"


@pytest.mark.parametrize(("texts", "expected"), [
    (["0.77511", "0.7751", "1"], Precision(5, 5)),      # Kaggle: five decimals, trailing zeros dropped
    (["0.83792049", "12.345678", "0.5"], Precision(8, 8)),
    (["0.77510"], Precision(5, 5)),                     # a written trailing zero counts
    (["1.2e-05", "3"], Precision(2, 6)),
    (["0.8379204892966361"], Precision(16, 16)),
])
def test_precision_is_the_most_digits_any_entry_shows(texts: list[str], expected: Precision) -> None:
    assert Precision.of(texts) == expected


def test_an_exact_score_ties_the_rounded_entry_it_was_written_as(tmp_path: Path) -> None:
    """274/327 is written 0.83792049 with eight digits, a little above its true value: the agent who
    scores exactly 274/327 shares that entry's place (2nd), it is not put behind both copies (4th)."""
    path = tmp_path / "leaderboard.csv"
    path.write_text(EIGHT_DIGITS)
    board = Leaderboard.read(path, MAX)
    exact = 274 / 327
    assert exact < 0.83792049  # the trap: compared unrounded, both entries are better
    assert board.position(exact) == 2 and board.position_score(exact) == pytest.approx(4 / 5)
    assert board.beat(exact) == 2  # ties beat nobody: d and e only
    assert Leaderboard.from_scores(board.scores, MAX).position(exact) == 4  # exact scores: no tie


def test_a_score_equal_to_a_medal_threshold_at_the_file_precision_gets_that_medal(tmp_path: Path) -> None:
    path = tmp_path / "leaderboard.csv"
    path.write_text("team,score\n" + "".join(f"t{i},0.{99 - i:02d}123457\n" for i in range(10)))
    board = Leaderboard.read(path, MAX)  # 10 teams: gold is 1st, silver 2nd, bronze 4th
    silver = board.thresholds().silver
    just_below = 0.9812345651  # rounds to 0.98123457 at eight digits, the silver entry
    assert just_below < silver and board.medal(just_below) is Medal.SILVER
    assert board.medal(0.98123456) is Medal.BRONZE  # one unit of the last digit below: no tie
    assert Leaderboard.from_scores(board.scores, MAX).medal(just_below) is Medal.BRONZE


def test_kaggle_precision_ties_at_five_decimals(tmp_path: Path) -> None:
    path = tmp_path / "leaderboard.csv"
    path.write_text("team,score\na,0.25\nb,0.2\nc,0.13579\n")
    board = Leaderboard.read(path, MIN)
    assert board.position(0.135794) == 1  # shows as 0.13579 on Kaggle: a tie with the best
    assert board.position(0.135796) == 2  # shows as 0.1358: behind it
    assert board.position(0.200004) == 2 and board.position(0.20001) == 3


def test_a_score_not_written_as_a_decimal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leaderboard.csv"
    path.write_text("team,score\na,0x1p-3\n")
    with pytest.raises(TaskFormatError):
        Leaderboard.read(path, MAX)


@pytest.mark.parametrize("content", [
    "", "team,score\n", "team,points\na,1\n", "name,team,score\nx,a,1\n", "team,score\na,1\nb,\n",
    "team,score\na,1\nb,high\n", "team,score\na,inf\n", "team,score\na,1,2\n",
])
def test_read_rejects_bad_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "leaderboard.csv"
    path.write_text(content)
    with pytest.raises(TaskFormatError, match="leaderboard"):
        Leaderboard.read(path, MAX)


def test_read_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaskFormatError, match="cannot read"):
        Leaderboard.read(tmp_path / "nope.csv", MAX)


# --------------------------------------------------------------------------- grades


def test_grade_score_on_a_leaderboard() -> None:
    board = ranked(150, MIN)                  # scores 1..150, lower is better
    grade = grade_score(board, 30.0)
    assert grade == Grade(score=30.0, position=30, position_score=121 / 150, medal=Medal.SILVER, above_median=True,
                          beat=120, teams=150, thresholds=Thresholds(10.0, 30.0, 60.0, 75.5))
    assert grade_score(board, 0.5).position_score == 1.0
    assert grade_score(board, 151.0) == Grade(score=151.0, position=151, position_score=0.0, medal=Medal.NONE,
                                              above_median=False, beat=0, teams=150, thresholds=board.thresholds())


def test_grade_without_a_score_or_a_leaderboard() -> None:
    board = ranked(4)
    assert grade_score(board, None) == Grade(score=None, teams=4, thresholds=board.thresholds())
    assert grade_score(None, 0.5) == Grade(score=0.5)
    for grade in (grade_score(board, None), grade_score(None, 0.5), grade_score(None, None)):
        assert grade.position is None and grade.position_score is None
        assert grade.medal is Medal.NONE and not grade.above_median and grade.beat == 0


def test_grade_to_dict_is_json_ready() -> None:
    data = grade_score(ranked(4), 4.0).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["medal"] == "gold" and data["position"] == 1 and data["thresholds"]["median"] == 2.5
    assert grade_score(None, 1.0).to_dict()["thresholds"] is None


def test_grade_describe() -> None:
    text = grade_score(ranked(150, MIN), 30.0).describe("rmse")
    assert text.startswith("Score: 30 (rmse).")
    assert "leaderboard of 150 teams it would place 30th (beating 120; position score 0.807): a silver medal" in text
    assert "gold 10, silver 30, bronze 60; median 75.5" in text
    assert "place 1st" in grade_score(ranked(3), 3.0).describe("accuracy")
    assert "place 12th" in grade_score(ranked(20, MIN), 12.0).describe("mae")
    assert "no medal" in grade_score(ranked(20, MIN), 12.0).describe("mae")
    assert "no leaderboard" in grade_score(None, 0.5).describe("accuracy")
    assert grade_score(ranked(3), None).describe("accuracy") == "No score."


def test_values_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ranked(3).scores = (1.0,)  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Grade(score=1.0).medal = Medal.GOLD  # type: ignore[misc]
