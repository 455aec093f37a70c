"""Word search over encrypted lead fields (sender name, message text) through blind word tokens.

The name and the texts are encrypted, so a search cannot ask PostgreSQL for a substring. Each row
keeps the keyed hashes (HMAC with the blind-index key, cut to 16 hex digits) of its words and of
their beginnings (from 3 letters for a name, from 4 for a text), in an array with a GIN index:
«бенч», «бенчева» and «Турци» are found among all leads with one index lookup, nothing decrypted
(apps.leads.selectors.lead_search_filter). Only words and beginnings are found, not the middle of a
word; a token reveals no more than a blind index does (equal words of equal rows).
"""

import re

from apps.core.crypto import blind_index, blind_index_candidates

KIND = "lead_word"
TOKEN_LENGTH = 16
NAME_PREFIX_FROM = 3
TEXT_PREFIX_FROM = 4
WORD_MAX = 24  # beginnings of longer words stop here (a search term is cut the same way)
TEXT_TOKENS_MAX = 4000  # a long e-mail: its first words are searchable, the row stays small

_WORD = re.compile(r"[\w]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-case words, «ё» as «е», «_» as a separator; order kept, repeats dropped."""
    seen: dict[str, None] = {}
    for word in _WORD.findall((text or "").lower().replace("ё", "е").replace("_", " ")):
        seen.setdefault(word[:WORD_MAX], None)
    return list(seen)


def _hash(piece: str) -> str:
    return blind_index(KIND, piece)[:TOKEN_LENGTH]


def tokens(text: str, *, prefix_from: int, limit: int | None = None) -> list[str]:
    """The hashes of every word of `text` and of its beginnings of `prefix_from` letters or more."""
    found: dict[str, None] = {}
    for word in words(text):
        if len(word) < prefix_from:
            found.setdefault(_hash(word), None)
            continue
        for end in range(prefix_from, len(word) + 1):
            found.setdefault(_hash(word[:end]), None)
        if limit is not None and len(found) >= limit:
            break
    result = list(found)
    return result[:limit] if limit is not None else result


def name_tokens(name: str) -> list[str]:
    return tokens(name, prefix_from=NAME_PREFIX_FROM)


def text_tokens(text: str) -> list[str]:
    return tokens(text, prefix_from=TEXT_PREFIX_FROM, limit=TEXT_TOKENS_MAX)


def term_candidates(word: str) -> list[str]:
    """What a searched word may be stored as: under the current key and, during a rotation, the old."""
    return [full[:TOKEN_LENGTH] for full in blind_index_candidates(KIND, word[:WORD_MAX])]
