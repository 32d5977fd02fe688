"""What is never proposed as a memory: secrets and personal data.

Every fact the AI suggests passes `privacy_findings` before it is stored
(`chat.suggestions`); one with a finding is withheld, and only its category is
counted (`SuggestionRun.withheld_categories`), never the text. The model's answer
kept for the admin is redacted with the same findings (`privacy_redacted`).

Mem0, LangMem and Letta ask the model not to store personal data; their users
report that it still does (mem0ai/mem0#2214), so here the model's prompt carries
the streamer's rules and this module decides, deterministically:

- API keys and tokens: detect-secrets' patterns for known services (AWS, GitHub,
  Discord, Slack, Stripe, OpenAI, JWT, private keys, URLs with credentials, …), a
  few it lacks (newer OpenAI and Anthropic keys, Google, Hugging Face, Twitch stream
  keys, webhooks, Luma's own tokens), a key named in prose ("the API key is …") and
  long random-looking strings.
- Passwords named in prose, in several languages ("my password is hunter2").
- Email addresses, plus tags and "at"/"dot" spellings included.
- Phone numbers: Google's libphonenumber matcher (valid numbers only) with a
  handful of home regions, and the North American shape.
- Street addresses in the styles of the US/UK, Germany and its neighbours,
  France/Spain/Italy/Portugal, Japan, China and Korea, and postcodes that only
  an address carries (UK, Canada, a US state with its ZIP code, 〒).
- Payment card numbers (Luhn-checked, known issuer prefixes), IBANs (mod-97
  checked) and national ID numbers (US SSN, UK National Insurance).
- The streamer's blocklist (`Blocklist`).

Ordinary facts must pass: times, dates, years, scores, counts and durations are
not any of these (see memories/tests/test_privacy.py for both tables).
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from memories.search_index import GRAM_RANGES

# The categories a withheld fact is counted under, with the words the owner sees.
CATEGORY_LABELS: dict[str, str] = {
    "api_key": "API key or token",
    "password": "password",
    "email": "email address",
    "phone": "phone number",
    "address": "street address",
    "payment_card": "payment card number",
    "bank_account": "bank account number",
    "national_id": "national ID number",
    "blocklist": "blocked word or phrase",
}

BLOCKLIST_MAX_ENTRIES, BLOCKLIST_MAX_CHARS = 500, 200


@dataclass(frozen=True)
class Finding:
    """One secret or piece of personal data: its category and where it is in the text
    (`text[start:end]`), so that it can be redacted without being repeated."""

    category: str
    start: int
    end: int


Span = tuple[int, int]


def _spans(pattern: re.Pattern[str], text: str, group: int = 0) -> Iterator[Span]:
    for match in pattern.finditer(text):
        yield match.span(group)


# ---------------------------------------------------------------- API keys and tokens

# detect-secrets' plugins for known services, used as a library on one string. Left
# out: the entropy and keyword plugins (made for source code: in prose they flag every
# word), the public IP plugin, and Artifactory's (its password shape matches words
# such as "APEXLegends").
_SERVICE_DETECTORS: tuple[RegexBasedDetector, ...] = tuple(
    plugin()
    for plugin in (
        AWSKeyDetector,
        AzureStorageKeyDetector,
        BasicAuthDetector,
        CloudantDetector,
        DiscordBotTokenDetector,
        GitHubTokenDetector,
        GitLabTokenDetector,
        IbmCloudIamDetector,
        IbmCosHmacDetector,
        JwtTokenDetector,
        MailchimpDetector,
        NpmDetector,
        OpenAIDetector,
        PrivateKeyDetector,
        PypiTokenDetector,
        SendGridDetector,
        SlackDetector,
        SoftlayerDetector,
        SquareOAuthDetector,
        StripeDetector,
        TelegramBotTokenDetector,
        TwilioKeyDetector,
    )
)

_MORE_TOKENS = re.compile(
    r"""
    \bsk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d+-)?[A-Za-z0-9_-]{20,}  # OpenAI & co.
    | \bAIza[0-9A-Za-z_-]{35}                                  # Google API key
    | \bhf_[A-Za-z0-9]{30,}                                    # Hugging Face
    | \bgithub_pat_[A-Za-z0-9_]{30,}                           # GitHub fine-grained
    | \bgh[pousr]_[A-Za-z0-9]{30,}                             # GitHub, shorter test forms
    | \blive_\d{5,}_[A-Za-z0-9]{20,}                           # Twitch stream key
    | \boauth:[a-z0-9]{30}\b                                   # Twitch chat token
    | \bluma_[A-Za-z0-9_-]{40,}                                # Luma's own API tokens
    | \b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}  # Discord
    | https?://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]+
    | https?://hooks\.slack\.com/services/[\w/]+
    | \bBearer\s+[A-Za-z0-9._~+/-]{16,}=*
    """,
    re.VERBOSE,
)

# Values that say something about a secret without being one: "the password is
# too weak", "the token was reset", "密码是对的".
_NOT_A_VALUE = frozenset(
    """
    a an the my his her their our your its this that these those same not no none still
    too very so really now also just always never probably definitely weak strong long
    short simple easy hard secure insecure safe unsafe changed reset lost forgotten forgot
    leaked wrong right correct incorrect required needed saved stored expired old new
    different hidden private secret unknown something nothing empty blank set being
    getting in on at for from to of which what how why where when written shared
    protected sensitive complicated complex random unique case-sensitive managed generated
    rotated revoked invalid valid working broken enabled disabled
    """.split()  # noqa: SIM905 (100 quoted words would read worse)
)

_KEY_WORDS = (
    r"api[ _-]?keys?|access[ _-]?keys?|secret[ _-]?keys?|client[ _-]?secrets?|"
    r"(?:auth|access|bearer|bot|api|refresh|discord|twitch|github|openai|deepseek|oauth)"
    r"[ _-]?tokens?|tokens?|stream[ _-]?keys?|private[ _-]?keys?|seed[ _-]?phrases?|"
    r"recovery[ _-]?(?:phrases?|codes?|keys?)|backup[ _-]?codes?|2fa[ _-]?(?:codes?|secrets?)|"
    r"license[ _-]?keys?|webhook(?:[ _-]?url)?"
)
_SEPARATOR = (
    # "the password for her Steam account", "le mot de passe de Kai"
    r"(?:\s+(?:for|to|of|on|de|del|di|da|do|von|van)\s+[\w .'\u2019-]{1,30}?)?"
    r"\s*(?:\bis\b|\bwas\b|\bare\b|\bwere\b|\bist\b|\blautet\b|\best\b|\bes\b|\bé\b|:=|=|:|-|—|->)"
    r"\s*(?:\bis\b\s*)?"
)
_VALUE = r"[\"'`“\u2018«]?([^\s\"'`”\u2019»,;]*[^\s\"'`”\u2019»,;.!?:)])"
_KEY_IN_PROSE = re.compile(rf"\b(?:{_KEY_WORDS}){_SEPARATOR}{_VALUE}", re.IGNORECASE)

_TOKEN_SHAPED = re.compile(r"[A-Za-z0-9_\-+/=.]{20,}")


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_random(token: str) -> bool:
    """A string no one would write in a sentence: long, letters and digits mixed, and
    as varied as generated keys are (a 20-character key of 62 symbols has about 4.3
    bits per character; "EldenRing2022GOTYEdition" has 3.9)."""
    token = token.strip(".-_=/+")
    letters = sum(char.isalpha() for char in token)
    digits = sum(char.isdigit() for char in token)
    if len(token) < 20 or letters < 4 or digits < 3 or "." in token.strip("."):
        return False
    mixed_case = any(c.islower() for c in token) and any(c.isupper() for c in token)
    needed = 4.0 if mixed_case else 3.6
    return _entropy(token) >= needed and (mixed_case or len(token) >= 32)


def _api_keys(text: str) -> Iterator[Span]:
    for detector in _SERVICE_DETECTORS:
        for pattern in detector.denylist:
            for match in pattern.finditer(text):
                jwt = isinstance(detector, JwtTokenDetector)
                if not jwt or detector.is_formally_valid(match[0]):
                    yield match.span()
    yield from _spans(_MORE_TOKENS, text)
    for match in _KEY_IN_PROSE.finditer(text):
        value = match[1]
        if value.casefold() not in _NOT_A_VALUE and (
            (any(char.isdigit() for char in value) and len(value) >= 6) or len(value) >= 12
        ):
            yield match.span(1)
    for match in _TOKEN_SHAPED.finditer(text):
        if _looks_random(match[0]):
            yield match.span()


# -------------------------------------------------------------------------- passwords

# The words that name a password, not a password.
_PASSWORD_WORDS = (
    r"pass(?:word|wd|phrase|code)s?|pass\s+word|pwd|pw|wi-?fi\s+(?:key|code)|"  # noqa: S105
    r"mot\s+de\s+passe|passwort|kennwort|contraseñas?|contrasenas?|senhas?|"
    r"wachtwoord|пароль|hasło"
)
_PASSWORD_IN_PROSE = re.compile(
    rf"\b(?:{_PASSWORD_WORDS}){_SEPARATOR}{_VALUE}", re.IGNORECASE | re.UNICODE
)
_PASSWORD_ASSIGNED = re.compile(r"\b(?:pass|pwd|pw|passwd|password)\s*=\s*(\S{3,})", re.IGNORECASE)
_PIN = re.compile(
    rf"\b(?:pin(?:\s+(?:code|number))?|passcode|unlock\s+code){_SEPARATOR}[\"'“]?(\d{{4,8}})\b",
    re.IGNORECASE,
)
_PASSWORD_CJK = re.compile(
    r"(?:密码|密碼|口令|パスワード|暗証番号|비밀번호|암호)\s*"
    r"(?:是|为|為|\uff1a|:|は|が|는|은|=)\s*[「『\"']?([^\s\uff0c。,.、」』\"']{3,})"
)


def _passwords(text: str) -> Iterator[Span]:
    for match in _PASSWORD_IN_PROSE.finditer(text):
        value = match[1].strip(".!?)")
        if len(value) >= 3 and value.casefold() not in _NOT_A_VALUE:
            yield match.span(1)
    yield from _spans(_PASSWORD_ASSIGNED, text, 1)
    yield from _spans(_PIN, text, 1)
    yield from _spans(_PASSWORD_CJK, text, 1)


# ----------------------------------------------------------------------------- emails

# Each starts where its run of name characters starts (the look-behind): tried from
# every character of a long run, the match would cost the square of its length.
_EMAIL = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}",
    re.UNICODE,
)
_TLDS = r"(?:com|net|org|edu|gov|io|me|co|uk|de|fr|jp|cn|kr|es|it|nl|ca|au|br|ru|info|dev|tv|gg)"
_AT, _DOT = r"(?:\[at\]|\(at\)|\{at\}|<at>)", r"(?:\[dot\]|\(dot\)|\{dot\}|<dot>|\bdot\b)"
_MAIL_HOSTS = (
    r"gmail|googlemail|yahoo|hotmail|outlook|live|icloud|me|proton(?:mail)?|pm|gmx|web|"
    r"aol|yandex|mail|qq|163|126|naver|daum|t-online|orange|free|libero"
)
# "kai [at] example [dot] com"; with a plain " at ", only a mail host's name:
# "streams at twitch dot tv" is not an address.
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.+-])[\w.+-]+\s*(?:{_AT}\s*[\w-]+|\bat\s+(?:{_MAIL_HOSTS}))(?:\s*{_DOT}\s*[\w-]+)*"
    rf"\s*{_DOT}\s*{_TLDS}\b",
    re.IGNORECASE,
)


def _emails(text: str) -> Iterator[Span]:
    if "@" in text:
        yield from _spans(_EMAIL, text)
    yield from _spans(_EMAIL_SPELLED, text)


# ----------------------------------------------------------------------------- phones

# Numbers written without a country code are read as each of these countries'
# (libphonenumber's matcher keeps only numbers valid there, so "1-0", "2024-05-12" or
# "1,234,567 followers" are none); those with "+" are read as written.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "JP", "CN", "KR", "IN", "BR", "AU")
# North America's shape, separators required: fictional 555 numbers are not "valid".
_NANP = re.compile(r"(?<![\w-])(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])")


def _phones(text: str) -> Iterator[Span]:
    if sum(char.isdigit() for char in text) < 7:
        return
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            yield match.start, match.end
    yield from _spans(_NANP, text)


# -------------------------------------------------------------------- street addresses

_EN_STREET = (
    r"street|st|avenue|ave|av|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|"
    r"place|pl|terrace|ter|crescent|cres|close|highway|hwy|parkway|pkwy|square|sq|"
    r"circle|cir|trail|trl|alley|mews|grove|gardens|row|esplanade|parade"
)
_HOUSE_NUMBER = r"(?<![\w/-])\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
# "221B Baker Street", "1600 Pennsylvania Avenue NW", "42 Wallaby Way": a house
# number and capitalised name words before a street type; "3 Sesame Street episodes"
# is not an address, so one of these must be there too: a word that introduces an
# address before it, or a town, a unit or a postcode after it.
_EN_ADDRESS = re.compile(
    rf"{_HOUSE_NUMBER},?\s+(?:[A-Z][\w'\u2019.-]*\s+){{1,4}}(?i:{_EN_STREET})\b\.?"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
)
_ADDRESS_BEFORE = re.compile(
    r"\b(?:at|address|lives?|living|lived|moved|moving|located|house|home|flat|apartment|"
    r"apt|from|ship(?:ped)?|send|sent|deliver(?:ed)?)(?:\s+(?:at|on|in|to|is|was|into))?\W*$",
    re.IGNORECASE,
)
_ADDRESS_AFTER = re.compile(
    r"^(?:,?\s+(?:apt|apartment|suite|ste|unit|flat|floor|fl)\b|,\s*[A-Z][\w'\u2019.-]+|\s+[A-Z]{2}\s+\d{5})"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
    "NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_US_CITY_STATE_ZIP = re.compile(
    rf"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*,\s*(?:{_US_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"
)
# UK postcodes (the inward part's letters never include C, I, K, M, O or V, which
# leaves out "2TB" and "1GB" via the units check), Canadian postal codes, 〒 codes.
_UK_POSTCODE = re.compile(
    r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|GIR)\s?\d(?!(?:GB|TB|PB|HP)\b)[ABD-HJLNP-UW-Z]{2}\b"
)
_CA_POSTCODE = re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d\b")
_PO_BOX = re.compile(
    r"\b(?:P\.?\s?O\.?\s+Box|Post\s+Office\s+Box|Postfach|Apartado)\s+\d+", re.IGNORECASE
)
# Germany, Austria, Switzerland, the Netherlands, Scandinavia, Poland: the name, then
# the number. A street word glued to its name ("Hauptstraße 5") or after a
# capitalised word ("Berliner Straße 12"); "Platz 1" alone is a ranking.
_GERMANIC_STREET = (
    r"straße|strasse|str\.|weg|gasse|platz|allee|damm|ufer|chaussee|steig|pfad|markt|"
    r"straat|laan|gracht|plein|kade|dijk|singel|steeg|"
    r"gatan|gata|vägen|väg|vej|veien|vei|gade|torget"
)
_GERMANIC_ADDRESS = re.compile(
    rf"\b(?:[A-ZÄÖÜÅØÆ][\wäöüßåøæé-]+(?:{_GERMANIC_STREET})|[A-ZÄÖÜÅØÆ][\wäöüßåøæé-]+[\s-]"
    rf"(?i:{_GERMANIC_STREET}|gate))\s+\d{{1,4}}\s?[a-zA-Z]?\b"
    r"|\bul\.\s+[A-ZŁŚŻŹĆ][\wąćęłńóśźż-]+(?:\s+[A-ZŁŚŻŹĆ][\wąćęłńóśźż-]+)*\s+\d{1,4}"
)
# France, Spain, Italy, Portugal, Latin America: a street word, then the name, then
# (Spain, Italy, Portugal) the number; France puts the number first. Words that
# English uses too ("via", "plaza", "avenue") count only capitalised.
_ROMANCE_STREET = (
    r"(?i:calle|c/|avenida|avda\.|paseo|carrera|viale|piazza|vicolo|rua|travessa|alameda|"
    r"rue|chemin|impasse|allée|quai)|Via|Corso|Largo|Plaza|Avenue|Boulevard|Cours"
)
_PARTICLE = r"(?:de\s+la|de\s+l'|de|del|la|le|les|des|du|da|do|dos|das|di|della|dei|d'|l')"
_ROMANCE_NAME = rf"(?:\s+{_PARTICLE})?(?:\s+|(?<=/))[\w'\u2019À-ÿ-]+(?:\s+[\w'\u2019À-ÿ-]+){{0,3}}?"
_ROMANCE_ADDRESS = re.compile(
    rf"\b(?:{_ROMANCE_STREET}){_ROMANCE_NAME},?\s+(?:n(?:[º°o]|\.º?)\s*)?\d{{1,4}}\b"
    rf"|{_HOUSE_NUMBER}(?:\s?(?:bis|ter))?,?\s+(?:(?i:rue|boulevard|bd|chemin|impasse|allée|quai)"
    rf"(?:\s+{_PARTICLE})?|(?i:avenue|place|cours)\s+{_PARTICLE})\s*[\w'\u2019À-ÿ-]+"
)
# Japan: a prefecture and a city or ward, then block numbers; 丁目/番地/号 forms.
# China: a road or street with a building number (号). Korea: a city or district,
# then a road name and its number ("강남구 테헤란로 152").
_EAST_ASIAN_ADDRESS = re.compile(
    r"〒\s?\d{3}-?\d{4}"
    r"|[\u4e00-\u9fff]{0,3}(?:都|道|府|県)[^\s、。,]{1,12}?(?:市|区|郡|町|村)[^\s、。,]{0,16}?\d+(?:丁目|番地?|号|[-\uff0d\u2010]\d+)"
    r"|(?<!\d)\d+丁目\s?\d+(?:番地?|[-\uff0d\u2010])\s?\d*"
    r"|[\u4e00-\u9fff]{1,12}(?:路|街|大道|巷|弄|胡同)\s*\d+\s*(?:号|號)"
    r"|(?<![가-힣])(?:[가-힣]{1,10}(?:시|도|구|군|동|읍|면)\s+){1,4}[가-힣0-9]{1,15}(?:로|길)\s*\d+(?:-\d+)?(?:번길\s*\d+)?"
)


def _addresses(text: str) -> Iterator[Span]:
    for match in _EN_ADDRESS.finditer(text):
        before, after = text[max(0, match.start() - 30) : match.start()], text[match.end() :]
        if _ADDRESS_BEFORE.search(before) or _ADDRESS_AFTER.match(after):
            yield match.span()
    for pattern in (
        _US_CITY_STATE_ZIP,
        _UK_POSTCODE,
        _CA_POSTCODE,
        _PO_BOX,
        _GERMANIC_ADDRESS,
        _ROMANCE_ADDRESS,
        _EAST_ASIAN_ADDRESS,
    ):
        yield from _spans(pattern, text)


# ------------------------------------------------- card numbers, IBANs, national IDs

_CARD_SHAPED = re.compile(
    r"(?<![\w-])(?:\d{4}[ -]){3}\d{1,7}(?![\w-])"  # 4111 1111 1111 1111
    r"|(?<![\w-])\d{4}[ -]\d{6}[ -]\d{4,5}(?![\w-])"  # 3782 822463 10005 (Amex, Diners)
    r"|(?<![\w-])\d{13,16}(?![\w-])"
)
# Issuer prefixes: Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir.
_CARD_ISSUER = re.compile(
    r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|6011|64[4-9]|65|35|3(?:0[0-5]|[689])"
    r"|62|50|5[6-8]|6[37]|220[0-4])"
)


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number carries (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _payment_cards(text: str) -> Iterator[Span]:
    for match in _CARD_SHAPED.finditer(text):
        digits = re.sub(r"\D", "", match[0])
        if 13 <= len(digits) <= 19 and _CARD_ISSUER.match(digits) and luhn_valid(digits):
            yield match.span()


_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")


def _iban_valid(text: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as numbers
    (A = 10 … Z = 35), the whole number mod 97 is 1."""
    compact = text.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def _bank_accounts(text: str) -> Iterator[Span]:
    for match in _IBAN.finditer(text):
        if _iban_valid(match[0]):
            yield match.span()


_US_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
_UK_NINO = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"
)


def _national_ids(text: str) -> Iterator[Span]:
    yield from _spans(_US_SSN, text)
    yield from _spans(_UK_NINO, text)


# -------------------------------------------------------------------------- blocklist

_NO_SPACE_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in GRAM_RANGES)
# A letter or digit of a script that separates its words with spaces: a blocked
# "Kai" is not in "Kaiser" but is in "Kai是主播" and "Kai's".
_SPACED_WORD = rf"[^\W_{_NO_SPACE_CLASS}]"
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f")


# Apostrophes and dashes typed in several ways: a curly apostrophe is a plain one.
_SAME_MARK = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)


def _folded_char(char: str) -> str:
    return unicodedata.normalize("NFKD", char.translate(_SAME_MARK)).casefold()


def folded(text: str) -> tuple[str, list[int]]:
    """`text` for blocklist matching, and the index in `text` of each of its characters:
    compatibility forms (full-width letters, ligatures) and case folded, accents taken
    off Latin, Greek and Cyrillic letters ("Zoë" is "zoe"; kana and Hangul keep their
    marks), curly apostrophes and long dashes made plain, invisible characters dropped
    and spacing collapsed."""
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        if char in _INVISIBLE:
            continue
        for part in _folded_char(char):
            if unicodedata.combining(part) and out and ord(out[-1]) < 0x0530:
                continue
            if part.isspace():
                if out and out[-1] == " ":
                    continue
                part = " "
            out.append(part)
            where.append(index)
    return "".join(out), where


@dataclass(frozen=True)
class _Needle:
    """One blocklist entry, folded: the forms to look for ("real name", "realname"),
    and whether each end must be a word boundary."""

    forms: tuple[str, ...]
    whole_start: bool
    whole_end: bool


_SPACED_WORD_CHAR = re.compile(_SPACED_WORD)


@dataclass(frozen=True)
class Blocklist:
    """The streamer's words and phrases that no suggestion may contain, one a line.

    Matching is case-insensitive and Unicode-normalised (see `folded`); an entry that
    begins or ends with a letter of a spaced script (Latin, Cyrillic, Greek, Arabic…)
    matches whole words there, and Chinese, Japanese, Korean and Thai entries match
    anywhere, since those scripts do not put spaces between words. A phrase matches
    with its spaces or without them ("real name", "realname"). Entries are looked for
    as plain strings (`str.find`), so 500 of them cost little on a long answer.
    """

    entries: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> "Blocklist":
        return _blocklist_from_text(text)

    @property
    def needles(self) -> tuple[_Needle, ...]:
        return _needles(self.entries)

    def findings(self, text: str) -> Iterator[Span]:
        needles = self.needles
        if not needles:
            return
        flat, where = folded(text)
        for needle in needles:
            for form in needle.forms:
                for start in _occurrences(flat, form):
                    end = start + len(form)
                    if needle.whole_start and start and _SPACED_WORD_CHAR.match(flat[start - 1]):
                        continue
                    if needle.whole_end and end < len(flat) and _SPACED_WORD_CHAR.match(flat[end]):
                        continue
                    yield where[start], where[end - 1] + 1


def _occurrences(text: str, needle: str) -> Iterator[int]:
    start = text.find(needle)
    while start >= 0:
        yield start
        start = text.find(needle, start + 1)


def blocklist_entries(text: str) -> list[str]:
    """The entries of a blocklist as typed: one a line, trimmed, blank lines and
    repeats left out."""
    entries: list[str] = []
    for line in text.splitlines():
        entry = " ".join(line.split())
        if entry and entry not in entries:
            entries.append(entry)
    return entries


@lru_cache(maxsize=16)
def _blocklist_from_text(text: str) -> Blocklist:
    return Blocklist(tuple(blocklist_entries(text)))


@lru_cache(maxsize=16)
def _needles(entries: tuple[str, ...]) -> tuple[_Needle, ...]:
    needles = []
    for entry in entries:
        flat = folded(entry)[0].strip()
        if flat:
            forms = tuple(dict.fromkeys([flat, flat.replace(" ", "")]))
            whole_start = bool(_SPACED_WORD_CHAR.match(flat[0]))
            whole_end = bool(_SPACED_WORD_CHAR.match(flat[-1]))
            needles.append(_Needle(forms, whole_start, whole_end))
    return tuple(needles)


# ---------------------------------------------------------------------------- the API

_DETECTORS: tuple[tuple[str, Callable[[str], Iterable[Span]]], ...] = (
    ("api_key", _api_keys),
    ("password", _passwords),
    ("email", _emails),
    ("bank_account", _bank_accounts),
    ("payment_card", _payment_cards),
    ("national_id", _national_ids),
    ("phone", _phones),
    ("address", _addresses),
)


def _merged(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans of one detector as one: a token two patterns see in part is
    redacted whole."""
    merged: list[Span] = []
    for start, end in sorted(span for span in spans if span[1] > span[0]):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def privacy_findings(text: str, *, blocklist: Blocklist | None = None) -> list[Finding]:
    """Every secret and piece of personal data in `text`, in the order they appear
    (a span two detectors find is reported once, under the first in `_DETECTORS`:
    a card number is not also a phone number), then the blocklist's matches."""
    found: list[Finding] = []
    for category, detector in _DETECTORS:
        for start, end in _merged(detector(text)):
            if not any(f.start < end and start < f.end for f in found):
                found.append(Finding(category, start, end))
    if blocklist is not None:
        found += [Finding("blocklist", start, end) for start, end in blocklist.findings(text)]
    return sorted(found, key=lambda finding: (finding.start, finding.end))


def privacy_categories(text: str, *, blocklist: Blocklist | None = None) -> list[str]:
    """The categories of `privacy_findings`, each once, in `CATEGORY_LABELS` order."""
    found = {finding.category for finding in privacy_findings(text, blocklist=blocklist)}
    return [category for category in CATEGORY_LABELS if category in found]


def privacy_redacted(text: str, *, blocklist: Blocklist | None = None) -> str:
    """`text` with each finding replaced by "[withheld: <category>]"."""
    pieces: list[str] = []
    position = 0
    for finding in privacy_findings(text, blocklist=blocklist):
        if finding.start < position:  # overlaps the one before (the blocklist's)
            position = max(position, finding.end)
            continue
        pieces += [text[position : finding.start], f"[withheld: {finding.category}]"]
        position = finding.end
    return "".join(pieces) + text[position:]
