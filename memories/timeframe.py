"""Is a question about the past? Then facts that have since changed may answer it.

A superseded memory ("Kai's favourite game is Minecraft", replaced by "... is
Terraria") stays out of prompts, except when someone asks what was true before:
"what did I like before?", "what was my favourite game last year?". Recognised by
words, in English and a few other languages Luma's communities write in; a word
list errs towards including past facts, which then reach the prompt marked as no
longer true (`Memory.prompt_text`).
"""

import re
import unicodedata

# Whole words or phrases (matched case-insensitively on word boundaries).
_PAST_WORDS = [
    # English
    r"before",
    r"used to",
    r"previously",
    r"formerly",
    r"originally",
    r"earlier",
    r"in the past",
    r"back then",
    r"back in",
    r"at first",
    r"anymore",
    r"any more",
    r"no longer",
    r"last (?:year|month|week|time|summer|winter|spring|autumn|fall)",
    r"\w+ (?:years?|months?|weeks?) ago",
    r"ago",
    r"once upon",
    r"did (?:i|you|we|he|she|they)",
    r"what was",
    r"what were",
    r"was (?:my|your|his|her|their|our)",
    r"were (?:my|your|his|her|their|our)",
    r"old (?:favou?rite|job|name|address|main|game)",
    r"changed",
    # Spanish, Portuguese, French, German, Italian
    r"antes",
    r"solía",
    r"solia",
    r"anteriormente",
    r"el año pasado",
    r"ya no",
    r"costumava",
    r"ano passado",
    r"avant",
    r"auparavant",
    r"autrefois",
    r"l'année dernière",
    r"l'an dernier",
    r"früher",
    r"vorher",
    r"damals",
    r"letztes jahr",
    r"nicht mehr",
    r"l'anno scorso",
    r"una volta",
]
_PAST_PATTERN = re.compile(
    r"(?<!\w)(?:" + "|".join(_PAST_WORDS) + r")(?!\w)", re.IGNORECASE | re.UNICODE
)
# Scripts without spaces between words: substrings.
_PAST_SUBSTRINGS = (
    # Chinese
    "以前",
    "之前",
    "曾经",
    "曾經",
    "过去",
    "過去",
    "原来",
    "原來",
    "去年",
    "从前",
    "從前",
    "以往",
    "上次",
    "当时",
    "當時",
    # Japanese
    "前は",
    "昔",
    "かつて",
    "もともと",
    "元々",
    "去年",
    "以前",
    # Korean
    "예전",
    "전에",
    "작년",
    "옛날",
)


def query_asks_about_the_past(text: str) -> bool:
    """Whether `text` asks what was true before (so superseded facts may answer it)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return bool(_PAST_PATTERN.search(folded)) or any(word in folded for word in _PAST_SUBSTRINGS)
