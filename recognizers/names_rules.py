"""Where a person's name may be: candidate spans, each with the rules that found it.

The rules only propose; :mod:`names_judge` decides whether a name is a patient's,
a colleague's, a place or a disease, and how sure we are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from discretion.recognizers.names_words import Word, lists, split_words

if TYPE_CHECKING:
    from spacy.tokens import Doc

_SPACES = re.compile(r"[ \t]+")
_AFTER_TITLE = re.compile(r"\.?[ \t]*\n?[ \t]*")
_LABEL_GAP = re.compile(r"[ \t]*[*_]*[ \t]*:[ \t]*[*_]*[ \t]*|[ \t]*[*_]*[ \t]*[-–][ \t]*")
_CUE_GAP = re.compile(r"[ \t]*(?::|-|–)?[ \t]*")
_EPR_COMMA = re.compile(r"[ \t]*,[ \t]*")

# Right after a name: a patient number, date of birth, age or bed ("Jo Bloggs, DOB ...").
ID_AFTER = re.compile(
    r"""^(?:['’]s)?[ \t]*[,:;(\[\-–|?]?[ \t]*(?:
        (?:dob|d\.o\.b\.?|born|date\s+of\s+birth|nhs|chi|h&c|hosp(?:ital)?\.?\s*(?:no|number|num)
           |mrn|unit\s+no|rxx|pas\s+no)\b
      | \d{3}[ \t.-]?\d{3}[ \t.-]?\d{3,4}\b
      | [a-z]{0,4}[ \t]?\d{5,}\b
      | \d{1,3}[ \t]?(?:yo|y/o|yrs?|years?|f|m)\b
      | \d{1,3}[ \t]*,
      | (?-i:\d{1,4}[a-z]?[ \t]+[A-Z][a-z]+[ \t]+(?:[A-Z][a-z]+|y|yr)\b)  # an address
      | (?:in\s+)?(?:bed|bay|cubicle|cubicle|side\s*r(?:oo)?m|sr|chair)[ \t]*\d
      | ward[ \t]*\d+\w*[ \t]*,?[ \t]*bed
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Right before a name: a bed, or a patient number ("Bed 3 - Jo Bloggs", "NHS 123... Jo Bloggs").
ID_BEFORE = re.compile(
    r"""(?:
        (?:bed|bay|cubicle|side\s*r(?:oo)?m|sr|chair|trolley)[ \t]*\d+[a-z]?
      | \b(?:nhs|chi|h&c|mrn|hosp\s*no)\b[ \t:]*[\d \t]{6,}
      | \d{6,}
    )[ \t]*(?:is|=|[-–:,.)•|])?[ \t]*[*_]*[ \t]*$""",
    re.IGNORECASE | re.VERBOSE,
)
# After a lower-case name only a spelled-out record cue will do ("jo bloggs dob ...").
_RECORD_AFTER = re.compile(
    r"^[ \t]*[,:(\-–]?[ \t]*(?:dob|d\.o\.b\.?|born|date\s+of\s+birth|nhs|chi|h&c|hosp\.?\s*no|mrn)\b",
    re.IGNORECASE,
)
_BED_AFTER = re.compile(
    r"^(?:['’]s)?[ \t]*[,(\-–]?[ \t]*(?:in|on)?[ \t]*(?:bed|bay|cubicle|side\s*r(?:oo)?m)[ \t]*\d",
    re.IGNORECASE,
)
_BED_BEFORE = re.compile(
    r"(?:bed|bay|cubicle|side\s*r(?:oo)?m)[ \t]*\d+[a-z]?[ \t]*(?:is|[-–:,])?[ \t]*$",
    re.IGNORECASE,
)
_LOWER_LEAD = frozenset(
    {"for", "re", "pt", "patient", "on", "called", "named", "see", "visit", "ring", "call", "is"}
)
_NOT_NAME_POS = frozenset(
    {"VERB", "AUX", "ADP", "DET", "PRON", "CCONJ", "SCONJ", "ADV", "NUM", "PART", "INTJ", "SYM"}
)
_PATIENT_CUES = frozenset({"pt", "patient", "pts"})
_MAX_WORDS = 4


@dataclass
class Candidate:
    """A span of name words (indices into the word list) and the rules that found it."""

    first: int
    last: int
    rules: set[str] = field(default_factory=set)


class Finder:
    """Runs every rule over one text; :meth:`candidates` gives merged spans."""

    def __init__(self, text: str, doc: Doc | None, skip: list[tuple[int, int]]):
        self.text = text
        self.doc = doc
        self.lists = lists()
        self.words: list[Word] = [
            w for w in split_words(text) if not any(s <= w.start < e for s, e in skip)
        ]
        self._pos: dict[int, str] = {}
        if doc is not None:
            self._pos = {t.idx: t.pos_ for t in doc}
        self.found: list[Candidate] = []

    # --- helpers -----------------------------------------------------------------

    def gap_after(self, i: int) -> str:
        if i + 1 >= len(self.words):
            return ""
        return self.text[self.words[i].end : self.words[i + 1].start]

    def spaced(self, i: int) -> bool:
        """True when word i+1 follows word i after spaces only (no possessive on i)."""
        return (
            i + 1 < len(self.words)
            and not self.words[i].possessive
            and bool(_SPACES.fullmatch(self.gap_after(i)))
        )

    def opens_sentence(self, i: int) -> bool:
        return i == 0 or self.words[i - 1].sentence != self.words[i].sentence

    def surname_ok(self, w: Word, upper: bool = False) -> bool:
        """True when ``w`` can be a surname or a middle name."""
        if upper:
            return w.is_upper and w.key not in self.lists.acronyms and not self._common(w)
        if not w.is_title or len(w.text) < 2:
            return False
        # After a first name a brand is a surname too ("Callum Rennie").
        return (
            not self._common(w)
            or w.key in self.lists.place_surnames
            or (w.key in self.lists.drug_brands and w.key not in self.lists.not_names)
        )

    def _common(self, w: Word) -> bool:
        return self.lists.never_name(w)

    def extend(self, i: int, upper: bool = False, limit: int = _MAX_WORDS) -> int:
        """The last index of the name that starts at word i."""
        j = i
        while j - i + 1 < limit and self.spaced(j):
            nxt = self.words[j + 1]
            if self.surname_ok(nxt, upper):
                j += 1
                continue
            # A particle inside a surname: "Ní Bhriain", "bin Hassan", "van der Berg".
            if (
                nxt.key in self.lists.particles
                and self.spaced(j + 1)
                and self.surname_ok(self.words[j + 2], upper)
            ):
                j += 2
                continue
            break
        return j

    def pos(self, w: Word) -> str:
        return self._pos.get(w.start, "")

    def add(self, first: int, last: int, rule: str) -> None:
        self.found.append(Candidate(first, last, {rule}))

    # --- rules -------------------------------------------------------------------

    def run(self) -> list[Candidate]:
        """Every candidate, overlapping ones merged."""
        for i in range(len(self.words)):
            self._first_name(i)
            self._title(i)
            self._cue(i)
            self._epr(i)
            self._id_next(i)
            self._lower(i)
        self._spacy()
        self._propn()
        self._single()
        self._initials()
        self._initial_surname()
        return self.merged()

    def _first_name(self, i: int) -> None:
        """A known first name followed by a surname: "Siobhan Doherty", "ELEANOR WHITTAKER"."""
        w = self.words[i]
        if not self.spaced(i):
            return
        nxt = self.words[i + 1]
        if w.is_title:
            ambiguous_ok = not self.opens_sentence(i)
            if not self.lists.is_first(w, allow_ambiguous=ambiguous_ok):
                return
            if self.surname_ok(nxt):
                self.add(i, self.extend(i), "first")
            elif self.surname_ok(nxt, upper=True):
                self.add(i, self.extend(i, upper=True), "first")
        elif w.is_upper and w.key in self.lists.first and self.surname_ok(nxt, upper=True):
            self.add(i, self.extend(i, upper=True), "first")

    def _title(self, i: int) -> None:
        """Mr/Mrs/Ms/Miss/Master/Mx, Dr/Sister/SN, Cllr/Sir + name."""
        w = self.words[i]
        key = w.key
        lst = self.lists
        if key in lst.patient_titles:
            if key in {"miss", "master", "mister"} and not w.text[0].isupper():
                return
        elif key not in lst.staff_words and key not in lst.public_titles:
            return
        if i + 1 >= len(self.words) or w.possessive:
            return
        if not _AFTER_TITLE.fullmatch(self.gap_after(i)):
            return
        nxt = self.words[i + 1]
        if nxt.is_title and len(nxt.text) >= 2 and not self._after_title_bad(nxt):
            self.add(i + 1, self._extend_titled(i + 1), "title")
        elif nxt.is_upper and nxt.key not in lst.acronyms and not self._after_title_bad(nxt):
            self.add(i + 1, self.extend(i + 1, upper=True), "title")
        elif (
            key in {"mr", "mrs"}
            and w.text.islower()
            and nxt.is_lower
            and len(nxt.text) >= 2
            and not self._common(nxt)
            and nxt.key not in lst.first_ambiguous
        ):
            last = i + 1
            if nxt.key in lst.first and self.spaced(i + 1):
                after = self.words[i + 2]
                if after.is_lower and not self._common(after) and len(after.text) >= 2:
                    last = i + 2
            self.add(i + 1, last, "title")

    def _after_title_bad(self, w: Word) -> bool:
        key = w.key
        lst = self.lists
        return (
            key in lst.stop
            or (key in lst.acronyms and w.is_upper)  # "Mrs Ng" is a name, "Mr NG" a tube
            or key in lst.drug_brands
            or key in lst.staff_words
            or key in lst.patient_titles
        )

    def _extend_titled(self, i: int) -> int:
        """After a title any capitalised words form the name ("Mrs Ward", "Mr King")."""
        j = i
        while j - i + 1 < _MAX_WORDS and self.spaced(j):
            nxt = self.words[j + 1]
            if (nxt.is_title and not self._after_title_bad(nxt) and not self._common(nxt)) or (
                nxt.is_title and nxt.key in self.lists.place_surnames
            ):
                j += 1
            elif (
                nxt.key in self.lists.particles
                and self.spaced(j + 1)
                and self.words[j + 2].is_title
            ):
                j += 2
            else:
                break
        return j

    def _cue(self, i: int) -> None:
        """After "pt", "patient" or a field label ("Name:", "Re:"): the name."""
        w = self.words[i]
        lst = self.lists
        key = w.key
        is_cue = key in _PATIENT_CUES and not w.possessive
        is_label = key in lst.labels
        if i + 1 < len(self.words) and f"{key} {self.words[i + 1].key}" in lst.labels:
            i, is_label = i + 1, True  # a two-word label: "Patient name:", "First name:"
        if not (is_cue or is_label) or i + 1 >= len(self.words):
            return
        gap = self.gap_after(i)
        labelled = bool(_LABEL_GAP.fullmatch(gap)) and ":" in gap
        if not labelled and not (is_cue and _CUE_GAP.fullmatch(gap)):
            return
        rule = "label" if labelled else "cue"
        if key == "re":
            rule = "re"
        nxt = self.words[i + 1]
        if nxt.key in lst.patient_titles:
            return  # the title rule takes it from here
        if nxt.is_title and not self._common(nxt):
            self.add(i + 1, self._extend_titled(i + 1), rule)
        elif nxt.is_upper and nxt.key not in lst.acronyms and not self._common(nxt):
            self.add(i + 1, self.extend(i + 1, upper=True), rule)
        elif (
            nxt.is_lower
            and len(nxt.text) >= 3
            and not self._common(nxt)
            and (labelled or (nxt.key in lst.first and nxt.key not in lst.first_ambiguous))
        ):
            last = i + 1
            if self.spaced(i + 1) and self._lower_surname(self.words[i + 2]):
                last = i + 2
            self.add(i + 1, last, rule)

    def _lower_surname(self, w: Word, use_pos: bool = True) -> bool:
        return (
            w.is_lower
            and len(w.text) >= 2
            and not self._common(w)
            and w.key not in self.lists.first_ambiguous
            and not (use_pos and self.pos(w) in _NOT_NAME_POS)
        )

    def _epr(self, i: int) -> None:
        """Names as records list them: "WHITTAKER, Eleanor" or "WHITTAKER Eleanor"."""
        w = self.words[i]
        lst = self.lists
        if i + 1 >= len(self.words) or w.possessive:
            return
        nxt = self.words[i + 1]
        gap = self.gap_after(i)
        if not nxt.is_title or self._common(nxt):
            return
        if w.is_title:
            # "Smith, John (DOB ...)": only as a record line, or a list of names would match.
            starts_run = not (i and self.spaced(i - 1) and self.words[i - 1].is_title)
            if (
                starts_run
                and self.surname_ok(w)
                and _EPR_COMMA.fullmatch(gap)
                and (nxt.key in lst.first or self.pos(nxt) == "PROPN")
                and ID_AFTER.match(self.text[nxt.end : nxt.end + 40])
            ):
                self.add(i, i + 1, "epr")
            return
        if not (w.is_upper and w.key not in lst.acronyms and not self._common(w)):
            return
        if (
            _EPR_COMMA.fullmatch(gap)
            and (nxt.key in lst.first or nxt.key in lst.first_ambiguous or self.pos(nxt) == "PROPN")
        ) or (_SPACES.fullmatch(gap) and nxt.key in lst.first):
            self.add(i, self.extend(i + 1, limit=2), "epr")

    def _id_next(self, i: int) -> None:
        """Two or three capitalised words right next to a patient number, DOB or bed."""
        w = self.words[i]
        if not (self.surname_ok(w) and w.key not in self.lists.place_surnames):
            return
        if i > 0 and self.spaced(i - 1) and self.surname_ok(self.words[i - 1]):
            return  # not the start of the run
        if not (self.spaced(i) and self.surname_ok(self.words[i + 1])):
            return
        last = self.extend(i, limit=3)
        before = self.text[max(0, w.start - 60) : w.start]
        after = self.text[self.words[last].end : self.words[last].end + 40]
        if ID_AFTER.match(after) or ID_BEFORE.search(before):
            self.add(i, last, "idnext")

    def _lower(self, i: int) -> None:
        """Lower-case names: "for ted smith pls", "visit for jo bloggs dob ..."."""
        w = self.words[i]
        lst = self.lists
        if not (w.is_lower and len(w.text) >= 3 and self.spaced(i)):
            return
        nxt = self.words[i + 1]
        prev = self.words[i - 1] if i > 0 else None
        if prev is None:
            return
        record = _RECORD_AFTER.match(self.text[nxt.end : nxt.end + 40])
        # Before "dob" spaCy's tags for an unknown surname are guesses ("begum" as a verb).
        if not self._lower_surname(nxt, use_pos=not record):
            return
        led = prev.key in _LOWER_LEAD or any(ch in self.text[prev.end : w.start] for ch in ":-–(")
        known = w.key in lst.first and w.key not in lst.first_ambiguous
        unknown = not self._common(w) and self.pos(w) not in _NOT_NAME_POS
        if (led and record and (known or unknown)) or (
            known and prev.key in _LOWER_LEAD and self._lower_surname(nxt)
        ):
            self.add(i, i + 1, "lower")

    def _spacy(self) -> None:
        """spaCy's PERSON entities, trimmed to the name words."""
        if self.doc is None:
            return
        starts = {w.start: k for k, w in enumerate(self.words)}
        for ent in self.doc.ents:
            if ent.label_ != "PERSON":
                continue
            idx = [
                starts[t.idx]
                for t in ent
                if t.idx in starts and (t.is_title or t.is_upper or t.text[:1].isupper())
            ]
            idx = [k for k in idx if self.words[k].is_title and not self._common(self.words[k])]
            if not idx:
                continue
            first = idx[0]
            last = first
            members = set(idx)
            while last + 1 in members and self.spaced(last):
                last += 1
            self.add(first, last, "spacy" if last > first else "spacy1")

    def _propn(self) -> None:
        """Two or three capitalised words that spaCy tags as proper nouns, mid-sentence."""
        if self.doc is None:
            return
        k = 0
        while k < len(self.words):
            w = self.words[k]
            if (
                self.opens_sentence(k)
                or not self.surname_ok(w)
                or w.key in self.lists.place_surnames
                or self.pos(w) != "PROPN"
                or not self.spaced(k)
            ):
                k += 1
                continue
            last = k
            while (
                last - k < 2
                and self.spaced(last)
                and self.surname_ok(self.words[last + 1])
                and self.pos(self.words[last + 1]) == "PROPN"
            ):
                last += 1
            if last > k:
                self.add(k, last, "propn")
            k = last + 1

    def _single(self) -> None:
        """One first name next to a bed ("Doreen in bay 2"); staff rules decide later."""
        covered = {k for c in self.found if c.last > c.first for k in range(c.first, c.last + 1)}
        for k, w in enumerate(self.words):
            if k in covered or not w.is_title or self._common(w):
                continue
            if not self.lists.is_first(w, allow_ambiguous=not self.opens_sentence(k)):
                continue
            before = self.text[max(0, w.start - 30) : w.start]
            after = self.text[w.end : w.end + 30]
            if _BED_AFTER.match(after) or _BED_BEFORE.search(before):
                self.add(k, k, "bedside")
                continue
            # Part of the name of something: "St John Ambulance", "John Lewis vouchers".
            if k and self.words[k - 1].key in {"st", "saint"}:
                continue
            if self.spaced(k) and self.words[k + 1].text[:1].isupper():
                continue
            self.add(k, k, "single")

    def _initials(self) -> None:
        """Initials next to a bed: "JB bed 4", "bed 4 - JB" (ward names like AMU excluded)."""
        for k, w in enumerate(self.words):
            if not (w.is_upper and 2 <= len(w.text) <= 3 and w.key not in self.lists.acronyms):
                continue
            if self.lists.never_name(w):
                continue
            before = self.text[max(0, w.start - 30) : w.start]
            after = self.text[w.end : w.end + 30]
            if _BED_AFTER.match(after) or _BED_BEFORE.search(before):
                self.add(k, k, "initials")

    def _initial_surname(self) -> None:
        """An initial and a surname: "J Smith", "J. Smith" (judged like a full name)."""
        for k, w in enumerate(self.words[:-1]):
            if len(w.text) != 1 or not w.text.isupper() or w.text in "AI":
                continue
            nxt = self.words[k + 1]
            gap = self.text[w.end : nxt.start]
            if re.fullmatch(r"\.?[ \t]+", gap) and self.surname_ok(nxt) and not w.possessive:
                last = self.extend(k + 1, limit=2)
                self.add(k, last, "initial")

    # --- merging -----------------------------------------------------------------

    def merged(self) -> list[Candidate]:
        out: list[Candidate] = []
        for c in sorted(self.found, key=lambda c: (c.first, -c.last)):
            if out and c.first <= out[-1].last:
                out[-1].last = max(out[-1].last, c.last)
                out[-1].rules |= c.rules
            else:
                out.append(Candidate(c.first, c.last, set(c.rules)))
        return out
