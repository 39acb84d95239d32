"""Properties of the health-number recognizers and of redaction, over generated numbers.

- every valid NHS, CHI and H&C number, in every shape we accept, is found once, as its scheme;
- a number with a wrong check digit is never found, whatever the shape or label;
- redaction never leaves the text of a detected identifier in the redacted message.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from discretion.message import Message
from discretion.recognizers.base import mod11_check_digit
from discretion.recognizers.nhs_number import health_numbers

DIGITS = "0123456789"
SCHEMES = ("NHS_NUMBER", "CHI_NUMBER", "HC_NUMBER")
OURS = {
    *SCHEMES,
    "HOSPITAL_NUMBER",
    "DATE_OF_BIRTH",
    "UK_POSTCODE",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "STREET_ADDRESS",
    "HANDLE",
    "AGE",
}
LABELS = {"NHS_NUMBER": "NHS", "CHI_NUMBER": "CHI", "HC_NUMBER": "H&C"}


def _complete(body: str) -> str:
    check = mod11_check_digit(body)
    assume(check is not None)  # about 1 in 11 bodies has no valid check digit
    return body + str(check)


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    """NHS numbers in the ranges issued in England and Wales, and the 999 test range."""
    start = draw(st.sampled_from(["4", "6", "7", "999"]))
    rest = draw(st.text(DIGITS, min_size=9 - len(start), max_size=9 - len(start)))
    return _complete(start + rest)


@st.composite
def chi_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    serial = draw(st.text(DIGITS, min_size=3, max_size=3))
    return _complete(born.strftime("%d%m%y") + serial)


@st.composite
def hc_numbers(draw: st.DrawFn) -> str:
    start = str(draw(st.integers(320, 399)))
    return _complete(start + draw(st.text(DIGITS, min_size=6, max_size=6)))


NUMBERS = {"NHS_NUMBER": nhs_numbers(), "CHI_NUMBER": chi_numbers(), "HC_NUMBER": hc_numbers()}


def shapes(number: str) -> list[str]:
    """Every way of writing a number that the recognizers accept."""
    a, b, c = number[:3], number[3:6], number[6:]
    return [
        number,
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"{a}.{b}.{c}",
        f"{a} {b}{c}",
        f"{number[:6]} {number[6:]}",
        " ".join(number),
    ]


TEMPLATES = [
    "{x}",
    "pt {x} for review",
    "({x})",
    "| Bloggs | {x} |",
    "{label} {x}",
    "{label}: {x}.",
]


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str, str]:
    """(scheme, the number as written, a message holding it)."""
    scheme = draw(st.sampled_from(SCHEMES))
    number = draw(NUMBERS[scheme])
    shape = draw(st.sampled_from(shapes(number)))
    template = draw(st.sampled_from(TEMPLATES))
    return scheme, shape, template.format(x=shape, label=LABELS[scheme])


@settings(max_examples=300, deadline=None)
@given(written())
def test_every_valid_number_in_every_shape_is_found_once_as_its_scheme(case):
    scheme, shape, text = case
    hits = [h for h in health_numbers(text) if h.score >= 0.5]
    assert [(h.entity, text[h.start : h.end]) for h in hits] == [(scheme, shape)]


@settings(max_examples=300, deadline=None)
@given(written(), st.integers(1, 9))
def test_a_wrong_check_digit_is_never_found(case, shift):
    _, shape, text = case
    wrong = shape[:-1] + str((int(shape[-1]) + shift) % 10)
    assert health_numbers(text.replace(shape, wrong)) == ()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(written(), st.sampled_from(["\u200b", "\u2060", "\u00ad", "\ufeff"]))
def test_numbers_with_invisible_characters_inside_are_found_by_the_engine(engine, case, hidden):
    scheme, shape, text = case
    cut = len(shape) // 2
    sneaky = shape[:cut] + hidden + shape[cut:]
    message = text.replace(shape, sneaky)
    a = engine.assess(Message(message))
    numbers = [f for f in a.findings if f.entity_type in SCHEMES]
    assert [(f.entity_type, message[f.start : f.end]) for f in numbers] == [(scheme, sneaky)]
    assert a.warn and shape[-4:] not in a.redacted


# --- redaction ----------------------------------------------------------------------------

phones = st.builds(
    lambda mobile, n, sep: f"07700{sep}900{n:03d}" if mobile else f"0113{sep}496{sep}0{n:03d}",
    st.booleans(),
    st.integers(0, 999),
    st.sampled_from([" ", "", "-"]),
)
postcodes = st.builds(
    lambda area, district, digit, letters, gap: f"{area}{district}{gap}{digit}{letters}",
    st.sampled_from(["LS", "M", "CF", "BD", "SW", "EH", "G", "BT"]),
    st.integers(1, 29),
    st.integers(0, 9),
    st.text("ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2),
    st.sampled_from([" ", ""]),
)
emails = st.builds(
    lambda user, n, domain: f"{user}{n}@{domain}",
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10),
    st.integers(1, 99),
    st.sampled_from(["example.com", "example.co.uk", "mail.example.org"]),
)
dobs = st.builds(
    lambda born, fmt: born.strftime(fmt),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2015, 12, 31)),
    st.sampled_from(["%d/%m/%Y", "%d.%m.%y", "%Y-%m-%d", "%d %B %Y"]),
)
IDENTIFIERS = st.one_of(
    st.builds(lambda x: f"NHS {x}", nhs_numbers()),
    st.builds(lambda x: f"CHI {x}", chi_numbers()),
    st.builds(lambda x: f"H&C {x[:3]} {x[3:6]} {x[6:]}", hc_numbers()),
    st.builds(lambda x: f"mob {x}", phones),
    st.builds(lambda x: f"home {x}", postcodes),
    st.builds(lambda x: f"email {x}", emails),
    st.builds(lambda x: f"dob {x}", dobs),
    st.builds(lambda n: f"hosp no K{n:07d}", st.integers(1000, 9_999_999)),
    st.builds(lambda n: f"{n} Acacia Avenue", st.integers(1, 300)),
    st.builds(lambda n: f"@jo_bloggs{n}", st.integers(1, 99)),
)
FILLERS = st.sampled_from(["pt in bay 2", "needs bloods", "pls call back", "FYI", "thanks", "-"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(IDENTIFIERS, FILLERS), min_size=1, max_size=6))
def test_redaction_never_leaves_a_detected_spans_text(engine, parts):
    text = ", ".join(parts)
    a = engine.assess(Message(text))
    for f in a.findings:
        if f.entity_type in OURS:
            surface = text[f.start : f.end].strip(" ,.;:()")
            assert surface and surface not in a.redacted, f.entity_type
