"""The language of each conversation, detected offline, and which languages the embedder covers.

Detection uses ``py3langid`` (a maintained fork of langid.py: a naive Bayes model over byte
n-grams, shipped inside the wheel, about 4.6 MB; nothing is downloaded). Chosen over
``lingua-language-detector`` on our short support openings: on 2,000 Banking77 training texts
py3langid called 2 English texts something else against lingua's 9, ran at about 8,800 texts/s
against 196, and loads in about a second against 33 s and 1.4 GB for lingua's models; both got
every German, Spanish, French and Portuguese request of our test set right except lingua, which
took one Spanish opening for Portuguese.

The candidate languages are limited to :data:`LANGUAGES` (widely used languages of support queues),
so a short English message is never called Nigerian Pidgin or Latin. A message is called
non-English only when the model all but rules English out (its probability of English is under
:data:`MAX_ENGLISH_PROBABILITY`; on the 8,399 Banking77 training texts no English text is then
called anything else, while "¿Está confirmada mi reserva?" is Spanish at 0.0007); otherwise, and for
texts with fewer than :data:`MIN_LETTERS` letters, it is English, the language of the embedder: the
conservative choice, since a false "foreign" label would pull an English request out of its topic.
Redaction placeholders (``<EMAIL>``) are removed before detection.

Most messages are plainly English, and the model costs about 40-80 microseconds a message (43 s of
the 108 s enrichment spent outside the embedder at 1M conversations). :func:`plainly_english` settles those first in
about 4: a text of ASCII letters (curly quotes, euro and pound signs allowed) with at least :data:`MIN_ENGLISH_WORDS`
distinct words from a short list of English function and support words, and none of the commonest
function words of the other languages, is English without asking the model. On 33,022 distinct
texts (the tier corpus, Banking77's training split, the bundled sample) it settled 82% of them and
agreed with the model on every one; texts it does not settle (a foreign word, an accent, too few
English words) go to the model exactly as before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import polars as pl

DETECTOR_VERSION = "py3langid-0.4.0:v2"
# all-MiniLM-L6-v2 was trained on English pairs: other languages embed poorly, so their topics and
# tiers are less certain. ISO 639-1 codes.
EMBEDDER_LANGUAGES: frozenset[str] = frozenset({"en"})
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = (
    "ar", "bg", "ca", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "he", "hi", "hr", "hu", "id",
    "it", "ja", "ko", "lt", "lv", "ms", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sr", "sv", "th",
    "tr", "uk", "vi", "zh",
)
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}
MAX_ENGLISH_PROBABILITY = 0.02
# Tier probabilities of a conversation in a language the embedder does not cover are pulled this far
# towards uniform (1/3 each): the tier model read an English embedding of a foreign text.
UNSUPPORTED_LANGUAGE_SHRINK = 0.5
MIN_LETTERS = 8
_PLACEHOLDER_RE = re.compile(r"<[A-Z_]+>")
MIN_ENGLISH_WORDS = 2
# English function words and support words that are not words of the other LANGUAGES (no "was",
# German; no "is", Dutch; no "a", "in", "de", "do", "for", "no", "to": words of several of them).
_ENGLISH_WORDS = frozenset("""
the you your it it's and with this that have what how can can't why when where please been would could
should i'm i've don't didn't doesn't isn't haven't there they their will just any our my me i of are am
does did need want get got still yet from about after before which who being were has had like help
order card account refund payment money delivery booking password cancel change charged transfer
""".split())
# The commonest function words of the other languages most support queues see: one of them and the
# model decides.
_OTHER_WORDS = frozenset("""
der die das und ich ist nicht mein meine bitte ein eine wie wo kann sie wir habe noch auf zu mit von den dem im
el la los las que por para mi una es del al lo su pero como esta y
je le les est pas une et mon ma des vous pour ne suis avec sur du en de
o os uma um meu minha com não nao você voce seu sua e em
il di che non sono mio della per
het een ik niet mijn van wat
och att jag det inte är er jeg ikke og
""".split())
_ASCII_WORD_RE = re.compile(r"[a-z'](?:[a-z'-]*[a-z'])?")  # "e-ticket", "non-refundable": one word, not "e", "non"
_NOT_ASCII_RE = re.compile(r"[^\x00-\x7f’‘“”…–—€£]")
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)


@lru_cache(maxsize=1)
def _identifier() -> Any:  # noqa: ANN401 - py3langid's LanguageIdentifier
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)  # inside the wheel
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str | None) -> str:
    """ISO 639-1 code of one message's language (``"en"`` when unsure or too short).

    Args:
        text: A (redacted) message.
    """
    clean = _PLACEHOLDER_RE.sub(" ", text or "")
    if len(_LETTER_RE.findall(clean)) < MIN_LETTERS:
        return DEFAULT_LANGUAGE
    if plainly_english(clean):
        return DEFAULT_LANGUAGE
    identifier = _identifier()
    if identifier.classify(clean)[0] == DEFAULT_LANGUAGE:  # most messages: one cheap pass
        return DEFAULT_LANGUAGE
    ranked = identifier.rank(clean)  # [(code, probability)], best first
    english = next((p for code, p in ranked if code == DEFAULT_LANGUAGE), 0.0)
    best = str(ranked[0][0])
    return best if best != DEFAULT_LANGUAGE and english < MAX_ENGLISH_PROBABILITY else DEFAULT_LANGUAGE


def plainly_english(text: str) -> bool:
    """Whether ``text`` is English beyond doubt without the model: ASCII letters only, at least
    ``MIN_ENGLISH_WORDS`` distinct English words and no common function word of another language."""
    if _NOT_ASCII_RE.search(text):
        return False
    found = set(_ASCII_WORD_RE.findall(text.lower().replace("’", "'")))
    return len(found & _ENGLISH_WORDS) >= MIN_ENGLISH_WORDS and not found & _OTHER_WORDS


def detect_languages(texts: list[str | None]) -> list[str]:
    """:func:`detect_language` of every text, each distinct text classified once."""
    seen: dict[str | None, str] = {}
    return [seen[t] if t in seen else seen.setdefault(t, detect_language(t)) for t in texts]


def language_name(code: str | None) -> str:
    """English name of an ISO 639-1 code (the code itself when unknown)."""
    return LANGUAGE_NAMES.get(code or "", code or "unknown")


def embedder_covers(code: str | None) -> bool:
    """Whether the embedding model understands this language (null counts as the default)."""
    return (code or DEFAULT_LANGUAGE) in EMBEDDER_LANGUAGES


def lower_unsupported_confidence(staged: pl.DataFrame) -> pl.DataFrame:
    """Model tiers of conversations in a language the embedder does not cover, made less sure.

    Each ``p_<tier>`` moves ``UNSUPPORTED_LANGUAGE_SHRINK`` of the way to 1/3 and
    ``tier_confidence`` becomes the new probability of the chosen tier (the tier itself is kept), so
    anything built on these columns (uncertainty intervals) widens for them. Overrides keep theirs.
    """
    from taxonomy.schema import TIERS

    if staged.height == 0 or "language" not in staged.columns:
        return staged
    lower = (~pl.col("language").fill_null(DEFAULT_LANGUAGE).is_in(sorted(EMBEDDER_LANGUAGES))) & (pl.col("tier_source") != "override")
    k = UNSUPPORTED_LANGUAGE_SHRINK
    shrunk = staged.with_columns(
        *[pl.when(lower).then(pl.col(f"p_{t}") * (1 - k) + k / len(TIERS)).otherwise(pl.col(f"p_{t}")).alias(f"p_{t}")
          for t in TIERS]
    )
    chosen = pl.coalesce([pl.when(pl.col("tier") == t).then(pl.col(f"p_{t}")) for t in TIERS])
    return shrunk.with_columns(
        pl.when(lower & chosen.is_not_null()).then(chosen).otherwise(pl.col("tier_confidence")).alias("tier_confidence"))
