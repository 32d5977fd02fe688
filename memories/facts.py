"""What a fact says, as far as words in several languages tell without a multilingual
model: its meaningful units, whether it is negated, and which single-valued
attribute ("slot") it sets.

Luma's embedding model (all-MiniLM-L6-v2) is English: between an English fact and
its Chinese contradiction it gives 0.31 to 0.59, the same range as between
unrelated facts in the two languages (0.36 to 0.52, measured on 17 pairs), so
`memories.dedupe` cannot use it across languages. These rules are what is left:

- units: words, and for Chinese, Japanese and Korean (written without spaces) the
  characters that carry meaning, so that two wordings of one CJK fact compare;
- negation: "likes coffee" and "does not like coffee" are never one fact, in
  English, Chinese, Japanese, Korean, Spanish, German or French;
- slots: a dozen attributes a person has one of at a time (where they live, their
  birthday, age, job, name, and their favourite game, colour, food, drink, song,
  film, anime, book, animal or team), recognised in those languages. Two facts
  about one person that set the same slot differently are an update, whatever
  language each is in: "Kai's favourite game is Minecraft" and "Kai最喜欢的游戏是
  泰拉瑞亚". Anything else across languages stays a new fact for a person to review.
"""

import re
import unicodedata

from memories.search_index import query_terms

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Particles and other characters that carry no fact of their own.
_CJK_FILLER = frozenset(
    "的了是在有一个着过吗呢吧啊也都和与就很这那它他她我你们之其"
    "はがをにでとものへやねよかなだですますいるあるこの"
    "은는이가을를에의도와과요다"
)
_NEGATION = re.compile(
    r"(?<!\w)(?:not|no|never|none|nobody|nothing|neither|nor|cannot|no longer|"
    r"\w+n't|nunca|jamás|jamas|ya no|nicht|kein\w*|nie|niemals|ne|pas|jamais|plus)(?!\w)"
    r"|[不没沒别別無无未莫]|ない|ません|じゃない|안 |않|못",
    re.IGNORECASE,
)
_FAVOURITE = re.compile(
    r"favou?rite|最喜欢|最喜歡|最爱|最愛|一番好き|好きな|大好きな|favorit[oa]|preferid[oa]|"
    r"lieblings|préféré|préférée|prefere|favori|가장 좋아하는|제일 좋아하는",
    re.IGNORECASE,
)
_CATEGORIES = {
    "game": r"game|游戏|遊戲|ゲーム|게임|juego|videojuego|spiel|jeu(?!di)",
    "colour": r"colou?r|颜色|顏色|好きな色|색깔|farbe|couleur",
    "food": r"food|dish|meal|snack|零食|小吃|おやつ|간식|merienda|食物|菜|料理|食べ物|음식|comida|"
    r"plato|essen|gericht|plat|nourriture",
    "drink": r"drink|beverage|饮料|飲料|飲み物|음료|bebida|getränk|boisson",
    "song": r"song|music|band|歌|音乐|音樂|曲|音楽|노래|음악|canción|cancion|música|lied|musik|"
    r"chanson|musique",
    "film": r"movie|film|电影|電影|映画|영화|película|pelicula",
    "anime": r"anime|动漫|動漫|动画|アニメ|애니",
    "book": r"book|novel|书|書籍|好きな本|小説|책|libro|buch|livre",
    "animal": r"animal|pet|动物|動物|동물|tier|mascota",
    "team": r"team|club|球队|球隊|チーム|팀|equipo|mannschaft|verein|équipe|equipe",
}
_SLOTS = {
    "home": r"lives? in|living in|moved to|home ?town|住在|搬到|搬去|住んで|引っ越し|살아|살고|"
    r"vive en|vivo en|se mudó|wohnt|lebt in|zog nach|habite|vit à|vit a",
    "birthday": r"birthday|born on|生日|誕生日|생일|cumpleaños|cumpleanos|geburtstag|"
    r"anniversaire",
    "age": r"\d+ years? old|years of age|\d+\s*[岁歲歳살]|\d+ años|\d+ jahre alt|\d+ ans",
    "job": r"works? as|job is|profession|工作是|职业|職業|仕事は|직업|trabaja como|trabajo es|"
    r"arbeitet als|beruf|travaille comme|métier",
    "name": r"real name|name is|is called|叫做|名字是|名前は|이름은|se llama|heißt|heisst|"
    r"s'appelle",
}


# A number written against its unit ("8pm", "5km", "10:30PM") says what it says with a
# space. Units of one letter stay joined: "1a" and "1b" are two flats, not "1".
_NUMBER_THEN_UNIT = re.compile(r"(?<=\d)(?=[^\W\d_]{2,}\b)")


def text_folded(text: str) -> str:
    """`text` with compatibility forms (NFKC: ligatures, full-width letters) and case
    folded, and numbers set apart from their units: "8PM" and "8 pm" fold alike."""
    return _NUMBER_THEN_UNIT.sub(" ", unicodedata.normalize("NFKC", text).casefold())


# Degree words that say how much, not what: "really likes green tea" says what
# "likes green tea" says.
_INTENSIFIERS = frozenset(
    [
        "really",
        "very",
        "so",
        "quite",
        "truly",
        "absolutely",
        "totally",
        "super",
        "pretty",
        "definitely",
        "actually",
        "just",
        "lot",
        "lots",
        "much",
        "always",
        "genuinely",
    ]
)


def meaning_units(text: str) -> set[str]:
    """The words of `text` that carry meaning (degree words such as "really" aside),
    and its meaningful CJK characters."""
    folded = text_folded(text)
    units = {
        term for term in query_terms(folded) if not _CJK.search(term) and term not in _INTENSIFIERS
    }
    return units | {char for char in _CJK.findall(folded) if char not in _CJK_FILLER}


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def is_negated(text: str) -> bool:
    return bool(_NEGATION.search(text_folded(text)))


def fact_slots(text: str) -> set[str]:
    """The single-valued attributes `text` sets: {"favourite:game"}, {"home"}, ..."""
    folded = text_folded(text)
    slots = {name for name, pattern in _SLOTS.items() if re.search(pattern, folded)}
    if _FAVOURITE.search(folded):
        slots |= {
            f"favourite:{name}"
            for name, pattern in _CATEGORIES.items()
            if re.search(pattern, folded)
        }
    return slots
