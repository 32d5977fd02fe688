"""People's names, taken out of the text a query's embedding is computed from.

Every memory about a person carries their name (a conversation's lines start with
the speaker's, a fact says whose it is), so in "Which games does Nate play?" the
name pulls the query's embedding towards everything about Nate, not towards games.
The full-text half of search still matches the name itself. On LoCoMo, embedding
the question without the speakers' names took recall@10 from about 77 to 79.

Only names written with a capital, as names are, are taken out: a display name that
is also a word ("Music") stays a word in "what music does Kai like?".
"""

import re

_WORD = re.compile(r"[\w'\u2019-]+", re.UNICODE)
_POSSESSIVE = re.compile(r"(?:['\u2019]s?)$")
# Longest name tried, in words ("Mary Jane Watson").
_MAX_WORDS = 3


def without_names(query: str, names: frozenset[str]) -> str:
    """`query` without the `names` it contains (capitalised, possessives too: "Nate's");
    spaces are tidied. The query as it is when it names none of them."""
    if not names:
        return query
    words = list(_WORD.finditer(query))
    cut: list[tuple[int, int]] = []
    position = 0
    while position < len(words):
        taken = _name_at(query, words, position, names)
        if taken:
            cut.append((words[position].start(), words[position + taken - 1].end()))
            position += taken
        else:
            position += 1
    if not cut:
        return query
    kept, start = [], 0
    for begin, end in cut:
        kept.append(query[start:begin])
        start = end
    kept.append(query[start:])
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def _name_at(query: str, words: list[re.Match[str]], position: int, names: frozenset[str]) -> int:
    """How many words from `position` on spell a name (0: none)."""
    if not words[position][0][:1].isupper():
        return 0
    for size in range(min(_MAX_WORDS, len(words) - position), 0, -1):
        span = query[words[position].start() : words[position + size - 1].end()]
        if span in names or _POSSESSIVE.sub("", span) in names:
            return size
    return 0
