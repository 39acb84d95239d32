"""Patients' names: found through titles, cues, layouts and context; staff, places and
eponyms left alone. Every sentence here is made up for these tests."""

from __future__ import annotations

import pytest

from discretion.message import Message
from discretion.recognizers.person_name import PersonNameRecognizer, build


@pytest.fixture(scope="module")
def nlp(engine):
    return engine.analysis.nlp


@pytest.fixture(scope="module")
def threshold(settings):
    return settings.thresholds.entities["PERSON"]


def hits(nlp, text: str, allow: tuple[str, ...] = ()):
    recognizer = PersonNameRecognizer(allow=frozenset(a.lower() for a in allow))
    return list(recognizer.find(text, nlp(text)))


def flagged(nlp, threshold, text: str, allow: tuple[str, ...] = ()) -> list[str]:
    return [text[h.start : h.end] for h in hits(nlp, text, allow) if h.score >= threshold]


# --- patients' names -------------------------------------------------------------------

POSITIVES = [
    # titles
    ("Mrs Okafor in side room 4 is asking for a chaplain", ["Okafor"]),
    ("can someone check on Mr Pemberton-Hale, he keeps pressing the buzzer", ["Pemberton-Hale"]),
    ("Miss Tamsin Rowe needs her wound checked before 4", ["Tamsin Rowe"]),
    ("please review Ms\nAdaeze Nwosu urgently, sats dropping", ["Adaeze Nwosu"]),
    ("mrs kowalski wants to go home today", ["kowalski"]),
    ("Mx Harlow's meds are in the CD cupboard", ["Harlow"]),
    ("Mr SULLIVAN is refusing his tablets", ["SULLIVAN"]),
    ("Mrs Ng in bay 5 is for discharge", ["Ng"]),
    ("the grandson of Idwal Penhallow wants to visit later", ["Idwal Penhallow"]),
    # patient cues and field labels
    ("pt Gregor Baxter on ward 12 needs a CT", ["Gregor Baxter"]),
    ("pt margaret oyelaran has dropped her sats", ["margaret oyelaran"]),
    ("the patient Ibrahim Sesay is waiting for transport", ["Ibrahim Sesay"]),
    ("Name: Thelma Ashcroft\nWard: 6B\nIssue: fluids", ["Thelma Ashcroft"]),
    ("*Patient:* _Ruairi Costigan_\n*Bed:* 11", ["Ruairi Costigan"]),
    # record layouts
    ("bloods back for WHITFIELD, Agatha - potassium 6.1", ["WHITFIELD, Agatha"]),
    ("OYELOWO Yetunde still waiting for the ortho review", ["OYELOWO Yetunde"]),
    ("Pilkington, Maud (DOB 07/07/1937) for the frailty list", ["Pilkington, Maud"]),
    ("Łukasz Wiśniewski bed 11 needs his insulin", ["Łukasz Wiśniewski"]),
    # full names next to identifiers, beds and ages
    ("Bed 7 - Percival Dunmore, 81, hip # awaiting theatre", ["Percival Dunmore"]),
    ("Wen Xiaoling 401 223 9987 for the fracture clinic", ["Wen Xiaoling"]),
    ("Bukola Adeyinka, hosp no Q7781203, needs her warfarin", ["Bukola Adeyinka"]),
    ("referral for Tobiah Merriweather dob 02/02/1962", ["Tobiah Merriweather"]),
    ("Florin Dumitrescu (ward 3, bed 9) is for discharge", ["Florin Dumitrescu"]),
    # a known first name and a surname in a message about care
    ("could the reg see Harriet Quigley, her bloods are back", ["Harriet Quigley"]),
    ("Gwilym Prosser's obs are due at 2", ["Gwilym Prosser"]),
    ("Callum Rennie in for his knee scan, signed a shirt for the staff room", ["Callum Rennie"]),
    ("Siân Ní Mhaolain missed her dialysis today", ["Siân Ní Mhaolain"]),
    # names the lists do not know, found by spaCy and the message's care talk
    ("please keep an eye on Ebube Onwuachi, drowsy since lunch", ["Ebube Onwuachi"]),
    ("Anastazja Wrobel needs an interpreter for the ward round", ["Anastazja Wrobel"]),
    # Slack markup
    ("family of *Marguerite Olsen* want a call back", ["Marguerite Olsen"]),
    # lower case
    ("home visit for rashida begum dob 9/9/59 pls", ["rashida begum"]),
    ("can someone ring back for harold finchley pls, he's been waiting", ["harold finchley"]),
    # one first name next to a bed
    ("can someone sit with Winnie in bay 3, she's unsettled", ["Winnie"]),
    # initials next to a bed
    ("RT bed 9 still waiting for his 2nd dose", ["RT"]),
    # slugs: file names, channel names, links
    ("see attached referral_letter_harriet_quigley.pdf", ["harriet_quigley"]),
    ("scan attached\n\nK Fothergill MRI knee.pdf", ["K Fothergill"]),
    ("J. Okafor bed 3 needs a BM", ["J. Okafor"]),
    ("moved to #pt-tbaxter for the MDT", ["tbaxter"]),
    ("notes here https://epr.example.nhs.uk/patient/view?name=ruth+abernethy", ["ruth+abernethy"]),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_patients_names_are_found(nlp, threshold, text, expected):
    assert flagged(nlp, threshold, text) == expected


# --- staff, places, diseases, medicines ----------------------------------------------

NEGATIVES = [
    "Dr Adeyemi is the med reg tonight, bleep 2231",
    "Sister Gallagher is in charge on 7 today",
    "SN Baptiste and HCA Moira are on the late",
    "student nurse Callum Ferris needs his competencies signed off",
    "our new FY1 Priya Venkatesan starts on Monday",
    "Mr Ashworth's list is running late, first pt not sent for yet",
    "Mr Osei (consultant urologist) will see them in clinic",
    "Welcome to Bethany Carr and Tomasz Nowicki who join us this week!",
    "congrats to Harriet Quigley on her band 6 interview 🎉",
    "handover from Rhys at 8, then I'm off",
    "swaps for Saturday please - Nadia",
    "Parkinson's meds must be given on time",
    "Hartmann's procedure and an Ivor Lewis on the list tomorrow",
    "Guillain-Barré study day next month",
    "Crohn's nurse clinic has moved",
    "pts from Florence Nightingale ward are going to Jubilee wing",
    "meeting in the Aneurin Bevan Building room 3",
    "transfer to the Royal Marsden agreed",
    "stock of Oramorph and Zomorph is low",
    "Fortisip and Ensure both on the trolley",
    "anyone know if Jocelyn is in today?",
    "Tom and Fatima are covering the bays",
    "dummy pt 'Testpatient, Alpha' on the training system",
    "can we give IV paracetamol to pts under 50kg?",
    "Agency invoice INV 5512093381 is wrong",
    "AMU bed 3 is free, EAU bay 2 has a side room",
    "<@U0456DEF|maria_lopez> can you take bay 2 today?",
    "<at>Maria Lopez</at> please pick up bed 4's bloods",
    "Tom Baxter - porter - is taking the samples down",
    "FY1 Rachel Okoro and FY2 Sam Daly swapped shifts",
    "Hollie Brennan left her phone in the staff room, can someone ring her",
    "North West Ambulance Service report 2 hour delays",
    "Macmillan Cancer Support drop-in is on Tuesdays",
    "new rota attached\n\nRota April - Jane Smith.xlsx",
    "J Fenwick from HR rang about the pension forms",
    "St John Ambulance crews are in ED tonight",
    "Ravi, Lowri and Gary are on nights, Beth is NIC",
    "Lisa Grantham is the new ward clerk on 9, say hello",
    "Good luck to Marcus Feeney, leaving us for a charge nurse post",
    "lovely email thanking Megan Tulloch and the day team",
    "Mr Abernathy is operating all day, his reg will see the post-ops",
    "Olympic cyclist Dara Kilbride is visiting the children's ward",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_staff_places_eponyms_and_drugs_are_not_flagged(nlp, threshold, text):
    assert flagged(nlp, threshold, text) == []


# --- staff who are patients --------------------------------------------------------

STAFF_AS_PATIENTS = [
    ("Dr Ferreira was admitted overnight with chest pain", ["Ferreira"]),
    ("our colleague Ottilie Fenwick is in resus after a fall", ["Ottilie Fenwick"]),
    ("Sister Marsh collapsed on shift and has been brought in", ["Marsh"]),
    ("Lucy from pharmacy has been admitted to ward 4", ["Lucy"]),
]


@pytest.mark.parametrize(("text", "expected"), STAFF_AS_PATIENTS)
def test_staff_who_are_patients_are_flagged(nlp, threshold, text, expected):
    assert flagged(nlp, threshold, text) == expected


def test_a_relative_of_staff_is_not_the_staff_member(nlp, threshold):
    text = "our HCA Jo's dad is in bay 4 - Ronald Tipton 401 223 9987"
    assert flagged(nlp, threshold, text) == ["Ronald Tipton"]


def test_staff_and_patient_in_one_message(nlp, threshold):
    text = "Msg for Dr Lindqvist: Mrs Hepzibah Crane's daughter rang about her results"
    assert flagged(nlp, threshold, text) == ["Hepzibah Crane"]


# --- the staff allow list --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ask Dr Okonjo about the rota",
        "Chidi Okonjo is doing the teaching at 2",
        "Chidi Okonjo can you review bed 4 pls",
    ],
)
def test_allow_listed_surname_clears_staff_spans(nlp, threshold, text):
    assert flagged(nlp, threshold, text, allow=("Okonjo",)) == []


def test_allow_list_does_not_hide_a_colleague_who_is_a_patient(nlp, threshold):
    text = "Chidi Okonjo was admitted last night with sepsis"
    assert flagged(nlp, threshold, text, allow=("Okonjo",)) == ["Chidi Okonjo"]


def test_build_reads_the_allow_list(settings):
    site = settings.model_copy(update={"allow_list": ["  Okonjo "]})
    (recognizer,) = build(site)
    assert recognizer.allow == frozenset({"okonjo"})


# --- scores and notes -------------------------------------------------------------------


def test_scores_rank_the_evidence(nlp):
    def score(text: str, name: str) -> float:
        (hit,) = [h for h in hits(nlp, text) if text[h.start : h.end] == name]
        return hit.score

    titled = score("Mrs Delphine Aubert needs a commode", "Delphine Aubert")
    context = score("Delphine Aubert needs her bloods taking", "Delphine Aubert")
    bare = score("Delphine Aubert sent a lovely card", "Delphine Aubert")
    staff = score("Dr Delphine Aubert sent a lovely card", "Delphine Aubert")
    assert titled > context > bare > staff


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Mrs Okafor in bay 2", "Mrs"),
        ("Dr Adeyemi is on call", "staff title"),
        ("Ramsay Hunt syndrome suspected", "disease"),
        ("Florence Nightingale ward is closed", "ward"),
        ("see notes_for_harriet_quigley.docx", "file name"),
    ],
)
def test_every_hit_says_why(nlp, text, words):
    notes = [h.note for h in hits(nlp, text)]
    assert notes, "expected a hit with a note"
    assert any(words in n for n in notes), notes


# --- edge cases -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "🙂🙂", "12345", "Mr", "pt", "Name:"])
def test_empty_and_odd_input(nlp, text):
    assert hits(nlp, text) == []


def test_possessive_and_markup_stay_outside_the_span(nlp, threshold):
    assert flagged(nlp, threshold, "_Gwilym Prosser's_ obs are due") == ["Gwilym Prosser"]


def test_works_without_a_doc():
    recognizer = PersonNameRecognizer()
    found = [h for h in recognizer.find("Mrs Okafor in bay 2") if h.score >= 0.5]
    assert [(h.start, h.end) for h in found] == [(4, 10)]


# --- through the engine ------------------------------------------------------------------


def test_engine_redacts_the_name_but_not_the_doctor(engine):
    text = "Dr Lindqvist says Mrs Hepzibah Crane in bay 2 can go home"
    result = engine.assess(Message(text=text))
    assert result.warn
    assert "Hepzibah Crane" not in result.redacted
    assert "Dr Lindqvist" in result.redacted
    assert result.redacted.startswith("Dr Lindqvist says Mrs [NAME]")


def test_engine_scans_file_names_in_extra_texts(engine):
    message = Message(text="letter attached", extra_texts=("discharge_summary_ruth_abernethy.pdf",))
    result = engine.assess(message)
    assert "PERSON" in result.entity_types
    assert result.warn


def test_explain_shows_the_staff_reason(engine):
    steps = [s for e in engine.explain("Dr Adeyemi is on call") for s in e["steps"]]
    assert any("staff" in s for s in steps)


def test_a_surgeon_in_theatre_is_working_not_a_patient(engine):
    from discretion.message import Message

    a = engine.assess(
        Message("Can we push the MDT back? Mr Okafor (consultant) is in theatre all morning")
    )
    assert not a.warn
