"""Parity table for answer normalisation and correctness (OPRO_SPEC.md §4.2–§4.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opro_gui.problems.answers import (
    TASK_TYPES,
    decimals_of,
    detect_task_type,
    is_correct,
    normalize,
)

MC_PROMPT = "Which way does the sun rise?\nOptions:\n(A) west\n(B) east\n(C) north\n(D) south"
MC_NESTED = "Pick one.\nOptions:\n(A) red\n(B) dark red\n(C) blue"

# (raw model output, task type, expected normalised answer) — every rule of §4.2.
NORMALIZE_TABLE = [
    # step 6 examples quoted in the spec
    ("…The answer is 18.", "numeric", "18"),
    ("So she makes $18 every day.", "numeric", "18"),
    ("The answer is 1,234.", "numeric", "1234"),
    # banker's rounding of Python's round()
    ("The answer is 2.5", "numeric", "2"),
    ("The answer is 3.5", "numeric", "4"),
    ("The answer is 7.49", "numeric", "7"),
    # currency / percent symbols removed, text after last "=", cut at ":"
    ("Total = 40 + 2 = $42", "numeric", "42"),
    ("It costs €30", "numeric", "30"),
    ("About 15% of them", "numeric", "15"),
    ("The answer is 12: twelve apples", "numeric", "12"),
    # number words, including the "none" -> "n1" quirk (then the last digit run "1")
    ("The answer is eight", "numeric", "8"),
    ("none of them", "numeric", "1"),
    # first non-alphabetic token when an answer is indicated, else the last one
    ("The answer is 5600 pounds and 3 ounces", "numeric", "5600"),
    ("I have 3 apples and 5 pears", "numeric", "5"),
    # trailing letters and a trailing "-" stripped
    ("The answer is 156kgs", "numeric", "156"),
    ("He ran the 823-yard race", "numeric", "823"),
    # not a float: last run of digits
    ("The answer is 3/4", "numeric", "4"),
    # cut at the first ":" happens before token choice: a capitalised "Answer: " is no marker
    ("Answer: 3/4", "numeric", ""),
    # GSM8K-style "#### N"
    ("48/2 = 24\n#### 72", "numeric", "72"),
    # "answer ahead" markers
    ("42 is the answer.", "numeric", "42"),
    ("(C) is the correct answer", "choice", "(c)"),
    ("Paris is the final answer", "text", "paris"),
    ("blue is the right answer", "text", "blue"),
    # secondary behind markers only when no primary marker is in the original text
    ("The colours are: red, blue.", "text", "red, blue"),
    ("The answer is: yes. It is: no", "boolean", "yes"),
    ("The sum is: 4. The colours are: 9", "numeric", "9"),
    # primary marker detection is case-sensitive on the raw text ("Answer is " is not primary)
    ("Answer is 4. The total is: 9", "numeric", "9"),
    # next-question cut-off (English and multilingual)
    ("The answer is 7.\nQ: How many more?", "numeric", "7"),
    ("The answer is 7. Question: and 8?", "numeric", "7"),
    ("Die Antwort ist 9. Frage: 10?", "numeric", "9"),
    ("答えは 5 です 問題：6", "numeric", "5"),
    # multilingual step-by-step answer labels
    ("Schritt-für-Schritt-Antwort: 12 Äpfel, dann 9", "numeric", "12"),
    ("Respuesta paso a paso: 21 manzanas", "numeric", "21"),
    ("逐步解答：13", "numeric", "13"),
    # "this is the solution:" cut, trailing full stops and quotes
    ("The answer is 8 this is the solution: 8 = 4 + 4", "numeric", "8"),
    ("The answer is 'apple'.", "text", "'apple"),
    ("the answer is done...", "text", "done"),
    # exactly one bracketed letter -> that group
    ("The answer is (B) east.", "choice", "(b)"),
    ("I think (A) or (B).", "choice", "i think (a) or (b)"),
    # non-number tasks keep the text before the first "."
    ("The answer is word sorting. Then more", "text", "word sorting"),
    # Boolean tasks: 0/1 mapping, punctuation removed
    ("The answer: no", "boolean", "no"),
    ("Yes, the sentence is plausible.", "boolean", "yes the sentence is plausible"),
    ("1", "boolean", "true"),
    ("The answer is 0.", "boolean", "false"),
    ("True.", "boolean", "true"),
    ("Valid", "boolean", "valid"),
    # first line only, leading ":" stripped
    ("The answer is 4\nbecause 2+2", "numeric", "4"),
    ("answer: :blue\nred", "text", "blue"),
    ("", "numeric", ""),
    ("", "text", ""),
]


@pytest.mark.parametrize(("raw", "task_type", "expected"), NORMALIZE_TABLE)
def test_normalize_parity(raw: str, task_type: str, expected: str) -> None:
    assert normalize(raw, task_type) == expected


def test_boxed_only_when_asked() -> None:
    raw = "We get \\boxed{17} apples, not 3"
    assert normalize(raw, "numeric") == "3"
    assert normalize(raw, "numeric", boxed=True) == "17"


def test_second_round_takes_first_line_before_normalising() -> None:
    assert normalize(": 42.\nQ: next", "numeric", second_round=True) == "42"
    assert normalize(" (B).\nmore", "choice", second_round=True) == "(b)"


def test_num_decimals_and_decimals_of() -> None:
    assert decimals_of("2.50") == 2
    assert decimals_of("18") == 0
    assert decimals_of("(A)") == 0
    assert normalize("The answer is 2.456", "numeric", num_decimals=2) == "2.46"


# (parsed prediction, gold, task type, prompt, lenient, expected verdict) — every rule of §4.3.
CORRECT_TABLE = [
    # exact match and match after punctuation removal
    ("18", "18", "numeric", "", True, True),
    ("18", "19", "numeric", "", True, False),
    ("1234", "1,234", "numeric", "", True, True),
    # quirk: punctuation removal also drops a minus sign
    ("5", "-5", "numeric", "", True, True),
    # numeric tasks never use the lenient substring rule
    ("118", "18", "numeric", "", True, False),
    # bracketed letters reduced to the letter on both sides
    ("(b)", "(B)", "choice", MC_PROMPT, True, True),
    ("b", "(B)", "choice", MC_PROMPT, True, True),
    ("(a)", "(B)", "choice", MC_PROMPT, True, False),
    # option text equals the gold option's text
    ("east", "(B)", "choice", MC_PROMPT, False, True),
    # gold option text included and no other option text
    ("the sun rises in the east", "(B)", "choice", MC_PROMPT, False, True),
    ("east or west", "(B)", "choice", MC_PROMPT, False, False),
    # one option's text contains another's: "dark red" contains "red"
    ("dark red", "(B)", "choice", MC_NESTED, False, True),
    ("it is red", "(A)", "choice", MC_NESTED, False, True),
    ("dark red", "(A)", "choice", MC_NESTED, False, False),
    # a non-letter gold scores 0 on multiple-choice tasks, even with the lenient rule
    ("monsters, inc", "Monsters, Inc", "choice", MC_PROMPT, True, False),
    # gold letter beyond the listed options never raises
    ("(e)", "(E)", "choice", MC_PROMPT, True, False),
    # Boolean mapping: gold yes/no/valid accept true/false and 0/1 predictions
    ("true", "Yes", "boolean", "", False, True),
    ("1", "yes", "boolean", "", False, True),
    ("0", "No", "boolean", "", False, True),
    ("false", "valid", "boolean", "", False, False),
    ("false", "invalid", "boolean", "", False, True),
    ("no", "No", "boolean", "", False, True),
    # the mapping is one-way (prediction side only): gold "True" does not accept "yes"
    ("yes", "True", "boolean", "", False, False),
    # lenient rule: gold is a substring of the prediction (on by default)
    ("yes the sentence is plausible", "yes", "boolean", "", True, True),
    ("yes the sentence is plausible", "yes", "boolean", "", False, False),
    ("none", "no", "boolean", "", True, True),
    ("not sure", "no", "boolean", "", True, True),
    ("apple banana cherry", "apple banana", "text", "", True, True),
    ("apple banana cherry", "apple banana", "text", "", False, False),
    # text exact after punctuation removal
    ("] ]", "] ]", "text", "", False, True),
    ("hello, world", "hello world", "text", "", False, True),
]


@pytest.mark.parametrize(
    ("pred", "gold", "task_type", "prompt", "lenient", "expected"), CORRECT_TABLE
)
def test_is_correct_parity(
    pred: str, gold: str, task_type: str, prompt: str, lenient: bool, expected: bool
) -> None:
    assert is_correct(pred, gold, task_type, prompt=prompt, lenient=lenient) is expected


def test_end_to_end_raw_output_to_verdict() -> None:
    raw = "Let's see. The answer is (B) east."
    assert is_correct(normalize(raw, "choice"), "(B)", "choice", prompt=MC_PROMPT)
    raw = "Step 1: 3 + 4 = 7. So the answer is 7 apples."
    assert is_correct(normalize(raw, "numeric"), "7", "numeric")
    assert not is_correct(normalize("The answer is 70.", "numeric"), "7", "numeric")


def test_exact_and_regex_modes() -> None:
    assert is_correct(" Paris ", "Paris", mode="exact")
    assert not is_correct("paris", "Paris", mode="exact")
    assert is_correct("the year 1969 it was", r"\b1969\b", mode="regex")
    assert not is_correct("19690", r"\b1969\b", mode="regex")
    assert not is_correct("anything", "(unclosed", mode="regex")


def test_detect_task_type() -> None:
    assert detect_task_type(["18", "-3", "2.5"]) == "numeric"
    assert detect_task_type(["True", "False"]) == "boolean"
    assert detect_task_type(["yes", "No", "valid"]) == "boolean"
    assert detect_task_type(["(A)", "(B)", "(C)"]) == "choice"
    assert detect_task_type(["apple banana", "] ]"]) == "text"
    assert detect_task_type([]) == "text"


@settings(max_examples=300, deadline=None)
@given(raw=st.text(), task_type=st.sampled_from([*TASK_TYPES, "bogus"]), boxed=st.booleans())
def test_normalize_never_raises(raw: str, task_type: str, boxed: bool) -> None:
    out = normalize(raw, task_type, boxed=boxed)
    assert isinstance(out, str)
    assert "\n" not in out
    assert isinstance(normalize(raw, task_type, second_round=True), str)


@settings(max_examples=300, deadline=None)
@given(
    pred=st.text(max_size=30),
    gold=st.one_of(st.text(max_size=5), st.sampled_from(["(A)", "(E)", "yes", "0", "a"])),
    task_type=st.sampled_from(TASK_TYPES),
    prompt=st.one_of(st.just(MC_PROMPT), st.text(max_size=40)),
    mode=st.sampled_from(["paper", "exact", "regex"]),
)
def test_is_correct_never_raises(
    pred: str, gold: str, task_type: str, prompt: str, mode: str
) -> None:
    assert isinstance(is_correct(pred, gold, task_type, prompt=prompt, mode=mode), bool)
