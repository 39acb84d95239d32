"""Is this name a patient's? Staff, places, diseases and drugs are told apart here.

Each decision comes with a score and a note in plain words; the note is what
``discretion explain`` shows a nurse or an administrator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from discretion.recognizers.lexicons import lexicon
from discretion.recognizers.names_rules import ID_AFTER, ID_BEFORE, Candidate, Finder
from discretion.recognizers.names_slugs import file_lines
from discretion.recognizers.names_words import phrase_regex

# Scores. The PERSON threshold (defaults.yaml) sits between NOT_SURE and CONTEXT.
STRONG = 0.9  # "pt X", "Name: X"
TITLED = 0.85  # "Mrs X", "SURNAME, First", a name next to an NHS number or bed
STAFF_PATIENT = 0.8  # a colleague the message says is being treated
CONTEXT = 0.75  # a full name in a message about someone's care
BEDSIDE = 0.7  # a first name next to a bed ("Doreen in bay 2")
NOT_SURE = 0.4  # a full name, nothing about care
DUMMY = 0.3  # a made-up training record
STAFF = 0.1  # a colleague
NOT_A_PERSON = 0.02  # a ward, a disease, a medicine


@dataclass(frozen=True, slots=True)
class Decision:
    """A score and the reason for it."""

    score: float
    note: str


def _alternation(name: str, plural: bool = False) -> str:
    entries = sorted(lexicon(name), key=len, reverse=True)
    suffix = "s?" if plural else ""
    return "(?:" + "|".join(re.escape(e).replace(r"\ ", r"\s+") + suffix for e in entries) + ")"


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    roles = _alternation("staff_roles", plural=True)
    greetings = _alternation("greetings")
    depts = _alternation("staff_departments")
    places = _alternation("place_words")
    place_surnames = _alternation("place_words_surnames")
    heads = _alternation("eponym_heads")
    soft_heads = _alternation("eponym_heads_soft")
    qualifier = r"(?:(?:our|the|a|an|new|junior|senior|locum|agency|bank|lovely|one\s+of\s+(?:our|the))\s+)*"
    flags = re.IGNORECASE
    return {
        "role_before": re.compile(
            rf"(?<![\w&/]){roles}\s*[,:]?\s*{qualifier}(?:band\s*\d\s+)?$|"
            rf"(?<![\w&/]){roles}\s+(?:{qualifier})(?:mr|mrs|ms|miss|dr)\.?\s*$",
            flags,
        ),
        "role_after": re.compile(
            rf"^(?:['’]s)?\s*(?:\(\s*|,\s*|\s+[-–]\s+){qualifier}(?:[\w&/-]+\s+)?{roles}\b", flags
        ),
        "role_after_paren": re.compile(
            rf"^(?:['’]s)?\s*(?:\(\s*|\s+[-–]\s+){qualifier}(?:[\w&/-]+\s+)?{roles}\b", flags
        ),
        "dept_after": re.compile(
            rf"^\s*\(?(?:(?:from|in|at)\s+(?:the\s+)?{depts}|from\s+ward\s*\d+\w*)\b", flags
        ),
        "greeting_before": re.compile(
            rf"(?:^|[\s(*_])(?<![\w'])(?:{greetings})(?:\s+(?:to|our|new|the|all|both|and|welcome))*"
            rf"(?:\s+{roles})?\s*[,!:]?\s*$",
            flags,
        ),
        "list_join": re.compile(r"^\s*(?:,|&|and|,\s*and|\+)\s*$", flags),
        "action_after": re.compile(rf"^(?:['’]s)?\s*{_alternation('staff_actions')}\b", flags),
        "surgeon_after": re.compile(
            r"^['’]s\s+(?:list|clinic|theatre|op|firm|team|patients?|registrar|reg|sho|"
            r"secretary|ward\s+round|consultant)\b",
            flags,
        ),
        "under_before": re.compile(
            r"\bunder\s+(?:the\s+care\s+of\s+)?(?:(?:mr|mrs|ms|miss|dr|prof)\.?\s+)?$", flags
        ),
        "dummy_before": re.compile(
            r"\b(?:dummy|test|fake|example|made[- ]up|fictional|sim(?:ulation)?)\s+"
            r"(?:pt|patient|record|name)?\s*[:'\"“‘]?\s*$",
            flags,
        ),
        "place_after": re.compile(rf"^\s+(?:{places}\b|(?-i:{place_surnames.lower()})\b)", flags),
        "the_before": re.compile(r"\bthe\s+$", flags),
        "article_before": re.compile(r"\ban?\s+$", flags),
        "number_before": re.compile(r"\d+[a-z]?,?\s+$", flags),
        "place_prep_before": re.compile(r"\b(?:from|in|at|near|into|outside|off|via)\s+$", flags),
        "prep_before": re.compile(
            r"\b(?:from|in|at|on|near|into|outside|towards|around|off|via)\s+$", flags
        ),
        "eponym_head_after": re.compile(rf"^(?:['’]s?)?\s+{heads}\b", flags),
        "eponym_soft_after": re.compile(rf"^(?:['’]s?)?\s+{soft_heads}\b", flags),
        "sign_after": re.compile(r"[^\w]*(?:\([^)]{0,30}\))?[^\w]*\Z"),
    }


class Judge:
    """Scores the candidates of one text."""

    def __init__(self, finder: Finder, allow: frozenset[str]):
        self.f = finder
        self.text = finder.text
        self.words = finder.words
        self.lists = finder.lists
        self.allow = allow
        self.p = _patterns()
        self.cue_text = self._patient_cues()
        self.files = file_lines(self.text)
        self._greeted: set[int] = set()  # candidates (by first word) greeted as staff
        self.sentences: dict[int, tuple[int, int]] = {}
        for w in self.words:
            first, _ = self.sentences.get(w.sentence, (w.start, w.end))
            self.sentences[w.sentence] = (first, w.end)

    # --- message-level evidence ----------------------------------------------------

    def _patient_cues(self) -> bool:
        """True when the message talks about someone's care (beds, results, numbers)."""
        if phrase_regex("patient_cues").search(self.text) or _NUMBERISH.search(self.text):
            return True
        weak = {m.group().lower() for m in phrase_regex("patient_cues_weak").finditer(self.text)}
        return len(weak) >= 2

    # --- one candidate -----------------------------------------------------------------

    def decide(
        self, c: Candidate, previous: Candidate | None, following: Candidate | None = None
    ) -> Decision | None:
        """The score and reason for one candidate, or None when it is not worth a note."""
        words = self.words[c.first : c.last + 1]
        start, end = words[0].start, words[-1].end
        before = self.text[max(0, start - 80) : start]
        limit = self.words[following.first].start if following is not None else len(self.text)
        after = self.text[end : min(end + 80, limit)]
        title = self._title_before(c.first)
        rules = c.rules
        full = len(words) >= 2
        strong = bool(rules & {"cue", "label", "epr", "lower"}) or title == "patient"
        id_next = "idnext" in rules or bool(ID_AFTER.match(after) or ID_BEFORE.search(before))

        # 1. Not a person: a place, a disease, a medicine.
        place = self._not_a_person(c, words, before, after, title, strong)
        if place:
            return Decision(NOT_A_PERSON, place) if (full or title) else None

        # 2. A colleague, unless the message says they are the patient.
        staff = self._staff(c, words, before, after, title, previous)
        if staff:
            # "Jo's dad is in bay 4": what follows a possessive is about someone else.
            if not words[-1].possessive and self._patient_event(after):
                return Decision(
                    STAFF_PATIENT,
                    f"{staff}, but the message says this person is being treated, "
                    "so their name identifies a patient",
                )
            return Decision(STAFF, f"{staff}: staff names are not patient details")

        if self.p["dummy_before"].search(before):
            return Decision(DUMMY, "a made-up or test patient record, not a real person")

        # 3. A patient.
        if "label" in rules:
            return Decision(STRONG, "written in a name field of a patient record ('Name:')")
        if "cue" in rules:
            return Decision(STRONG, "follows 'pt' or 'patient': the message names a patient")
        if title == "patient":
            return Decision(TITLED, "a name with Mr, Mrs, Ms or Miss, as patients are named")
        if "epr" in rules:
            return Decision(
                TITLED, "written SURNAME, Firstname, the way patient records list people"
            )
        if full and any(s <= start and end <= e for s, e in self.files):
            if self._staff_talk(c) and not self._sentence_cue(c):
                return Decision(STAFF, "a name in a file about rotas, cover or training")
            return Decision(TITLED, "a name in the name of an attached file")
        if full and id_next:
            return Decision(TITLED, "a full name next to a patient number, date of birth or bed")
        if "re" in rules and (full and rules & {"first", "spacy"}):
            return Decision(TITLED, "a full name in the 'Re:' line of a letter about a patient")
        if "lower" in rules:
            return Decision(0.7, "a name written in lower case in a message about a patient")
        if "initials" in rules and not full:
            return Decision(0.6, "a patient's initials next to a bed or bay number")
        if "bedside" in rules:
            return Decision(BEDSIDE, "a first name next to a bed or bay number")
        if not full:
            if "single" in rules and self._patient_event(after):
                return Decision(BEDSIDE, "a first name, and the message says they are a patient")
            return None
        known = bool(rules & {"first", "title"})
        spacy_says = "spacy" in rules
        prep = self.p["place_prep_before" if spacy_says else "prep_before"]
        if not known and prep.search(before):
            return Decision(NOT_SURE, "two capitalised words after 'from/in/at': probably a place")
        if (
            not known
            and previous is not None
            and re.fullmatch(r"\s*[(,]\s*", self.text[self.words[previous.last].end : start])
        ):
            return Decision(NOT_SURE, "describes the person named just before it (a team or place)")
        if not known and words[-1].key in self.lists.place_surnames:
            return Decision(NOT_SURE, "ends in Lane, Hall, Park...: probably a place")
        if not words[-1].possessive and self._patient_event(after):
            return Decision(
                STAFF_PATIENT, "a full name, and the message says this person is a patient"
            )
        if self._staff_talk(c) and not self._sentence_cue(c):
            return Decision(STAFF, "a name in a message about rotas, cover or training")
        if title == "public":
            if self.cue_text:
                return Decision(CONTEXT, "a titled name in a message about someone's care")
            return Decision(NOT_SURE, "a titled name, but nothing says this person is a patient")
        if self.cue_text:
            return Decision(CONTEXT, "a full name in a message about someone's care")
        return Decision(NOT_SURE, "looks like a full name, but nothing says this is a patient")

    # --- the parts -----------------------------------------------------------------

    def _title_before(self, first: int) -> str | None:
        """'patient', 'staff' or 'public' for a title word right before the name."""
        if first == 0:
            return None
        w = self.words[first - 1]
        gap = self.text[w.end : self.words[first].start]
        if w.possessive or not re.fullmatch(r"\.?\s*", gap):
            return None
        key = w.key
        if key in self.lists.patient_titles:
            return "patient"
        if key in self.lists.staff_words:
            return "staff"
        if key in self.lists.public_titles:
            return "public"
        return None

    def _not_a_person(
        self, c: Candidate, words: list, before: str, after: str, title: str | None, strong: bool
    ) -> str:
        lst = self.lists
        keys = [w.key for w in words]
        if keys[0] in lst.drug_brands and not title:
            return "a medicine's brand name, not a person"
        if title == "patient" or strong:
            return ""
        last = words[-1]
        if self.p["place_after"].match(after) and not last.possessive:
            return "the name of a ward, building, street or school, not a person"
        if len(words) >= 3 and last.key in lst.place_surnames:
            return "the name of a ward, building or street, not a person"
        if last.key in lst.place_surnames and self.p["number_before"].search(before):
            return "part of a street address, not a person's name"
        if self.p["the_before"].search(before) and not c.rules & {"idnext"}:
            return "'the' + name: a hospital or building named after someone"
        if self.p["article_before"].search(before) and not c.rules & {"idnext"}:
            return "'a' or 'an' + name: an operation or thing named after someone"
        eponym = [k in lst.eponyms for k in keys] + [" ".join(keys) in lst.eponyms]
        following = self.text[last.end : last.end + 40]
        if (
            all(eponym[:-1])
            or eponym[-1]
            or self.p["eponym_head_after"].match(following)
            or (any(eponym) and self.p["eponym_soft_after"].match(following))
        ):
            return "a disease, sign or operation named after a doctor, not a patient"
        return ""

    def _staff(
        self,
        c: Candidate,
        words: list,
        before: str,
        after: str,
        title: str | None,
        previous: Candidate | None,
    ) -> str:
        p = self.p
        keys = [w.key for w in words]
        if self.allow and (
            " ".join(keys) in self.allow or keys[-1] in self.allow or keys[0] in self.allow
        ):
            return "on the staff allow list"
        if title == "staff":
            return "has a staff title (Dr, Sister, SN...)"
        # The text before the name, without a patient title ("consultant Mr X").
        lead = before
        if title:
            lead = self.text[max(0, words[0].start - 80) : self.words[c.first - 1].start]
        if p["role_before"].search(lead):
            return "has a staff role right before it (consultant, student nurse, HCA...)"
        appositive = p["role_after_paren"] if title == "patient" else p["role_after"]
        if appositive.match(after):
            return "is described as a member of staff right after the name"
        if c.rules & {"cue", "label"}:
            return ""  # "pt X", "Name: X": the message itself says this is a patient
        if title != "patient" and p["dept_after"].match(after):
            return "is said to work in a department ('from pharmacy')"
        if not words[-1].possessive and p["action_after"].match(after):
            return "is doing a job (operating, on call, covering, presenting)"
        if p["surgeon_after"].match(self.text[words[-1].end : words[-1].end + 40]):
            return "is a consultant or surgeon (their list, clinic or team)"
        if p["under_before"].search(lead):
            return "is the consultant a patient is under"
        if p["greeting_before"].search(lead):
            self._greeted.add(c.first)
            return "is being welcomed, thanked or greeted"
        if previous is not None and previous.first in self._greeted:
            between = self.text[self.words[previous.last].end : words[0].start]
            if p["list_join"].match(between):
                self._greeted.add(c.first)
                return "is being welcomed, thanked or greeted"
        if title is None and len(words) <= 2 and self._signs_off(words[0].start, words[-1].end):
            return "signs off the message (the person who wrote it)"
        return ""

    def _signs_off(self, start: int, end: int) -> bool:
        """True for a name on its own at the end, after a dash or a new line ("- Sharon")."""
        k = start
        while k > 0 and self.text[k - 1] in " \t":
            k -= 1
        if k > 0 and self.text[k - 1] not in "\n-–—~":
            return False
        return bool(self.p["sign_after"].match(self.text, end))

    def _patient_event(self, after: str) -> bool:
        """True when the words after a name say that person is being treated."""
        clause = re.split(r"[.!?\n]", after, maxsplit=1)[0][:70]
        return bool(phrase_regex("patient_events").search(clause))

    def _sentence_cue(self, c: Candidate) -> bool:
        """True when the name's own sentence talks about care (a bed, results, a scan)."""
        start, end = self.sentences[self.words[c.first].sentence]
        return bool(phrase_regex("patient_cues").search(self.text, start, end))

    def _staff_talk(self, c: Candidate) -> bool:
        """True when the name's sentence talks about rotas, cover or training."""
        start, end = self.sentences[self.words[c.first].sentence]
        return bool(phrase_regex("staff_cues").search(self.text, start, end))


_NUMBERISH = re.compile(
    r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b|\b[a-z]{0,4}\d{6,}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|"
    r"\b\d{1,3}\s?(?:yo|y/o|yrs)\b|\?[a-z]",
    re.IGNORECASE,
)


def decide_all(finder: Finder, allow: frozenset[str]) -> Iterable[tuple[Candidate, Decision]]:
    """Every candidate of a text with its decision (candidates not worth a note are left out)."""
    judge = Judge(finder, allow)
    previous: Candidate | None = None
    found = finder.run()
    for k, c in enumerate(found):
        d = judge.decide(c, previous, found[k + 1] if k + 1 < len(found) else None)
        if d is not None:
            yield c, d
        previous = c
