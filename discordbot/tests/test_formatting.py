import re

from discordbot.formatting import split_message


def fences_balanced(part: str) -> bool:
    return len(re.findall("```", part)) % 2 == 0


def test_a_short_reply_stays_one_message():
    assert split_message("Hello there!") == ["Hello there!"]


def test_long_prose_breaks_between_paragraphs():
    paragraph = " ".join(f"word{i}" for i in range(150))  # ~1,040 characters
    assert split_message(f"{paragraph}\n\n{paragraph}\n\n{paragraph}") == [paragraph] * 3


def test_a_paragraph_longer_than_a_message_breaks_between_words():
    paragraph = " ".join(f"word{i}" for i in range(500))  # ~3,900 characters
    parts = split_message(paragraph)

    assert len(parts) == 2
    assert all(len(part) <= 2000 for part in parts)
    assert " ".join(parts) == paragraph  # no word cut in two


def test_a_code_block_cut_in_two_is_closed_and_reopened_with_its_language():
    code = "\n".join(f"    print({i})  # line {i}" for i in range(200))
    text = f"Here you go:\n\n```python\n{code}\n```\n\nEnjoy!"
    parts = split_message(text)

    assert len(parts) > 1
    assert all(len(part) <= 2000 for part in parts)
    assert all(fences_balanced(part) for part in parts)
    assert all(part.startswith("```python\n") for part in parts[1:])
    assert all(part.endswith("```") or part.endswith("Enjoy!") for part in parts)
    lines = [line for part in parts for line in part.splitlines() if "print(" in line]
    assert lines == code.splitlines()  # every line whole, indentation kept
    assert parts[-1].endswith("Enjoy!")


def test_a_split_prefers_the_break_before_a_code_block():
    text = "a" * 1500 + "\n```js\n" + "let x = 1;\n" * 100 + "```"
    parts = split_message(text)

    assert parts[0] == "a" * 1500
    assert parts[1].startswith("```js\nlet x = 1;")
    assert all(fences_balanced(part) for part in parts)


def test_unbroken_text_is_cut_hard_without_splitting_a_fence_marker():
    assert [len(part) for part in split_message("x" * 4500)] == [1996, 1996, 508]
    text = "y" * 1994 + "```zz```" + "y" * 100
    parts = split_message(text)
    assert all(fences_balanced(part) for part in parts)
    assert all(len(part) <= 2000 for part in parts)


def test_a_smaller_limit_is_honoured():
    parts = split_message("one two three four five six seven eight nine ten", limit=20)
    assert all(len(part) <= 20 for part in parts)
    assert " ".join(parts) == "one two three four five six seven eight nine ten"
