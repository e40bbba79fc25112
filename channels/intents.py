"""What a buyer's message asks for, read deterministically (no cloud model).

A message is normalised (case, punctuation, number words to digits, typos of the words we
listen for corrected with rapidfuzz), then matched against a few rules. Whatever the rules
cannot read with certainty is `ASK`: the bot asks back rather than acts, so a misread
message never approves or rejects anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import fuzz, process

from channels.numbers import ORDINALS, digits_for_words


class Intent(StrEnum):
    APPROVE = "approve"
    PROPOSE = "propose"
    REJECT = "reject"
    STATUS = "status"
    URGENT = "urgent"
    ADD = "add"
    CHOICE = "choice"
    HELP = "help"
    STOP = "stop"
    START = "start"
    ASK = "ask"


class Scope(StrEnum):
    ALL = "all"
    URGENT = "urgent"
    CONTAINERS = "containers"


@dataclass(frozen=True)
class Reading:
    intent: Intent
    scope: Scope | None = None
    containers: list[int] = field(default_factory=list)
    reason: str | None = None
    quantity: int | None = None
    product: str | None = None
    choice: int | None = None
    """For CHOICE: the number picked from the choices the bot listed."""
    question: str | None = None
    """For ASK: what to ask back."""

    def label(self) -> str:
        """A short, stable text of the reading (the phrasing tests compare these)."""
        if self.intent in (Intent.APPROVE, Intent.PROPOSE):
            verb = self.intent.value
            if self.scope is Scope.CONTAINERS:
                return f"{verb} containers {','.join(map(str, self.containers))}"
            return f"{verb} {self.scope.value if self.scope else 'all'}"
        if self.intent is Intent.REJECT:
            return f"reject: {self.reason}"
        if self.intent is Intent.ADD:
            return f"add {self.quantity} | {self.product}"
        if self.intent is Intent.CHOICE:
            return f"choice {self.choice}"
        return self.intent.value


# The words the rules listen for; a typo within the cutoff reads as the word.
VOCABULARY = {
    "approve": "approve", "approved": "approve", "accept": "approve",
    "confirm": "approve", "confirmed": "approve", "reject": "reject", "rejected": "reject",
    "decline": "reject", "declined": "reject", "refuse": "reject", "status": "status",
    "urgent": "urgent", "urgently": "urgent", "container": "container",
    "containers": "container", "everything": "all", "cartons": "cartons",
    "carton": "cartons", "boxes": "cartons", "help": "help", "unsubscribe": "stop",
    "subscribe": "start", "because": "because", "shipment": "shipment",
    "delivery": "delivery", "order": "order", "orders": "order", "propose": "propose",
    "proposed": "propose", "approver": "approver", "approvers": "approver",
}  # fmt: skip
FUZZY_MIN_LENGTH = 5
DECISIONS = frozenset({"approve", "reject", "propose"})
QUOTES = str.maketrans({"\u2019": "'", "\u201c": '"', "\u201d": '"'})
FUZZY_CUTOFF = 80

HELP_TEXT = (
    "Reply: APPROVE ALL, APPROVE URGENT, APPROVE CONTAINERS 1 AND 3, REJECT <reason>, "
    "STATUS, URGENT, ADD <number> <product>, PROPOSE ALL (or URGENT, or CONTAINERS 1 AND 3: "
    "an approver decides), HELP, or STOP to hear nothing more."
)

# A proposal asks an approver to decide: "propose urgent", "send it to my approver".
_TO_APPROVER = r"\bto\s+(?:an|the|my|our)\s+(?:approver|manager|boss)\b"
_PROPOSE_PHRASES = re.compile(
    r"\bpropose\b|\b(?:send|pass|forward|give)\b(?P<what>.*?)" + _TO_APPROVER
)
_APPROVE_PHRASES = re.compile(
    r"\b(approve|go ahead|send it|send them|place (the )?order|order it|order them|"
    r"go for it|sign off|green ?light)\b"
)
# A rejection is the message's first words ("reject …", "we decline: …"), never a word in
# the middle of a sentence about something else ("the driver refused the delivery").
_REJECT_START = re.compile(
    r"^(?:(?:i|we|please|pls)\s+)*(?P<word>reject|do not order|dont order|don't order)\b"
)
_REJECT_WORD = re.compile(
    r"\b(reject\w*|declin\w*|refus\w*|do not order|dont order|don't order)\b", re.IGNORECASE
)
_REJECT_ANYWHERE = re.compile(r"\b(reject|do not order|dont order|don't order|no thanks)\b")
_STATUS_PHRASES = re.compile(
    r"\b(status|where is|where are|what'?s happening|any news|update me|eta|"
    r"when (will|does|do)|shipment|delivery)\b"
)
_URGENT_QUESTION = re.compile(
    r"\b(what|which|anything|show|list|tell)\b.*\burgent\b|^urgent\??$|\bruns? out\b|"
    r"\brunning out\b"
)
_ADD = re.compile(
    r"^(?:(?:please|pls|also|and)\s+)*(?:add|plus|include|put in)\s+(?P<qty>\d+)\s*"
    r"(?:x\s*)?(?:cartons\s+)?(?:of\s+)?(?P<product>.+)$"
)
_ADD_WORD = re.compile(r"\b(add|include|put in)\b")
_NEGATED = re.compile(
    r"\b(not|never|don'?t|do not|can'?t|cannot|won'?t|no(?!\.)|wait|later|tomorrow|except|but|"
    r"non|other than|without|unless|if|instead)\b|\bnon-"
)
_QUESTION = re.compile(
    r"\?|^(is|are|was|were|did|does|do(?!\s+not\b)|should|shall|who|why|what|has|have|will|"
    r"when|how|"
    r"can|could)\b"
)
_ONLY_ANSWER = re.compile(r"^(yes|yeah|yep|ok|okay|sure|fine|y|k|👍)$")
# Words that may stand around an approval without changing what it approves.
_FILLER = re.compile(
    r"\b(please|pls|plz|i|we|you|can|could|would|let's|lets|all|of|them|it|the|whole|"
    r"recommendation|order|everything|approve|go ahead|send|place|for|sign off|greenlight|"
    r"green light|thanks|thank|ok|okay|yes|now|just|do|that|this|lot|is|are|fine|good|go|"
    r"to|and|be|want|like|with|d|s|'d|'s|urgent|ones|one|only|stuff|containers?|number|"
    r"no\.|first|second|third|fourth|fifth)\b"
)
_CHOICE = re.compile(r"#?\s*\d{1,2}\.?")  # a bare number: one of the choices the bot listed
_LIST = re.compile(r"^(?:\d+)(?:\s*(?:,|&|\+|and|,\s*and)\s*\d+)*$")


def read(message: str) -> Reading:
    text = _normalise(message)
    if not text:
        return _ask("I did not get a message. " + HELP_TEXT)
    if text in ("stop", "stopall", "end", "quit", "cancel messages"):
        return Reading(Intent.STOP)
    if text in ("start", "unstop", "resume"):
        return Reading(Intent.START)
    if text in ("help", "?", "menu", "options", "commands", "info") or text.startswith(
        ("help ", "what can i ", "how do i ")
    ):
        return Reading(Intent.HELP)
    if _CHOICE.fullmatch(text):
        return Reading(Intent.CHOICE, choice=int(text.strip("#. ")))
    if _ONLY_ANSWER.match(text):
        return _ask(
            "Approve what? Reply APPROVE ALL, APPROVE URGENT or APPROVE CONTAINERS 1 AND 3."
        )
    rejecting = bool(_REJECT_ANYWHERE.search(text))
    proposing = _PROPOSE_PHRASES.search(text)
    approving = bool(_APPROVE_PHRASES.search(text))
    if rejecting and (approving or proposing):
        return _ask("Do you approve or reject? Reply with one of them.")
    if proposing:
        if _NEGATED.search(text) or _QUESTION.search(text):
            return _ask(
                "Do you want an approver to decide? Reply PROPOSE ALL, PROPOSE URGENT or "
                "PROPOSE CONTAINERS 1 AND 3; nothing is proposed until you do."
            )
        what = proposing.group("what") or ""
        rest = f"{text[: proposing.start()]} {what} {text[proposing.end() :]}"
        rest = re.sub(_TO_APPROVER, " ", rest)
        return _choice(Intent.PROPOSE, rest)
    if rejecting:
        return _reject(message, text)
    if _ADD_WORD.search(text) and not approving:
        adding = _ADD.match(text)
        if adding is None or _NEGATED.search(text) or _QUESTION.search(text):
            return _ask("How many cartons of which product? E.g. ADD 24 CARTONS OF COFFEE BEANS.")
        product = adding.group("product").strip(" .!?")
        return Reading(Intent.ADD, quantity=int(adding.group("qty")), product=product)
    if approving:
        if _NEGATED.search(text) or _QUESTION.search(text):
            return _ask(
                "Do you want to approve? Reply APPROVE ALL, APPROVE URGENT or "
                "APPROVE CONTAINERS 1 AND 3; nothing is approved until you do."
            )
        return _choice(Intent.APPROVE, text)
    if _URGENT_QUESTION.search(text):
        return Reading(Intent.URGENT)
    if _STATUS_PHRASES.search(text):
        return Reading(Intent.STATUS)
    return _ask("Sorry, I did not understand. " + HELP_TEXT)


def _choice(intent: Intent, text: str) -> Reading:
    """An approval or a proposal of all, the urgent or the named containers."""
    verb = intent.value.upper()
    unsure = _ask(
        f"I am not sure what to {intent.value}. Reply {verb} ALL, {verb} URGENT or "
        f"{verb} CONTAINERS 1 AND 3."
    )
    containers = _container_numbers(text)
    if containers is None:
        return unsure
    leftover = _FILLER.sub(" ", re.sub(r"[^\w\s'.]|\b\d+\b", " ", text))
    if leftover.strip(" .'"):
        return unsure
    if containers:
        return Reading(intent, scope=Scope.CONTAINERS, containers=containers)
    if re.search(r"\bcontainers?\b", text) and not re.search(r"\burgent\b", text):
        return _ask(f"Which containers? E.g. {verb} CONTAINERS 1 AND 3.")
    if re.search(r"\burgent\b", text):
        return Reading(intent, scope=Scope.URGENT)
    return Reading(intent, scope=Scope.ALL)


def _container_numbers(text: str) -> list[int] | None:
    """The containers named: [] when none is, None when the naming cannot be read with
    certainty (a range, a fraction, container 0, numbers outside a container list)."""
    named = re.search(r"\bcontainers?\b\s*(?:no\.|number)?\s*(?P<rest>.*)$", text)
    hashed = re.findall(r"#\s*(\d+)", text)
    digits = re.findall(r"\d+(?:[./-]\d+)?", text)
    if named is None:
        if hashed:
            if re.search(r"\border\b", text) or len(hashed) != len(digits):
                return None  # "#4512" of an order is not a container
            return _positive([int(n) for n in hashed])
        ordinals = [ORDINALS[w] for w in re.findall(r"\b(" + "|".join(ORDINALS) + r")\b", text)]
        if ordinals and digits:
            return None
        return _positive(ordinals) if ordinals else ([] if not digits else None)
    listed = re.sub(r"#\s*", "", named.group("rest"))
    listed = re.split(r"\b(?:please|pls|thanks|thank you|now|only|approve|go ahead)\b", listed)[
        0
    ].strip(" .,")
    ordinals = [ORDINALS[w] for w in re.findall(r"\b(" + "|".join(ORDINALS) + r")\b", text)]
    if not listed:
        before = re.findall(r"(\d+)\s*(?:st|nd|rd|th)\s+containers?\b", text)
        if before and len(before) == len(digits):
            return _positive([int(n) for n in before])
        if ordinals and not digits:
            return _positive(ordinals)
        return [] if not digits else None
    if not _LIST.fullmatch(listed) or ordinals:
        return None
    numbers = [int(n) for n in re.findall(r"\d+", listed)]
    if len(numbers) != len(digits):
        return None
    return _positive(numbers)


def _positive(numbers: list[int]) -> list[int] | None:
    if not numbers or any(n <= 0 for n in numbers):
        return None
    return sorted(set(numbers))


def _reject(message: str, text: str) -> Reading:
    """A rejection with its reason in the buyer's own words."""
    start = _REJECT_START.match(text)
    if start is None or _QUESTION.search(text) or re.search(r"\bcontainers?\b", text):
        return _ask(
            "Do you reject the whole recommendation? Reply REJECT and the reason, e.g. "
            "REJECT too much stock."
        )
    original = message.strip()
    found = _REJECT_WORD.search(original)
    tail = original[found.end() :] if found else text[start.end() :]
    reason = re.sub(
        r"^\W*(?:(?:it|them|this|all|everything|the recommendation)\b"
        r"(?=\s*(?:[,:;-]|because|since|as\b|$)))?\W*",
        "",
        tail,
        flags=re.IGNORECASE,
    )
    reason = re.sub(r"^(because|since|as|reason)\b\W*", "", reason, flags=re.IGNORECASE)
    reason = reason.strip(" .!,:-")
    if len(reason) < 3:
        return _ask(
            "Why do you reject it? Reply REJECT and the reason, e.g. REJECT too much stock."
        )
    return Reading(Intent.REJECT, reason=reason)


def _ask(question: str) -> Reading:
    return Reading(Intent.ASK, question=question)


def _normalise(message: str) -> str:
    text = message.strip().lower()
    text = text.translate(QUOTES)
    text = re.sub(r"[!\u00a1\u00bf]+", " ", text)
    text = re.sub(r"\bno\.\s*(?=\d)", "number ", text)
    text = re.sub(r"(?<=\w)\.(?=\s|$)", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = digits_for_words(text)
    return " ".join(_corrected(word) for word in text.split(" ")) if text else ""


def _corrected(word: str) -> str:
    """The word as the rules know it: a known word or a close typo of one (5 letters or
    more, so short words are never bent into commands) becomes its canonical form."""
    bare = word.strip(",.?:;")
    if not bare or bare.isdigit():
        return word
    if bare in VOCABULARY:
        return word.replace(bare, VOCABULARY[bare])
    if len(bare) < FUZZY_MIN_LENGTH:
        return word
    found = process.extractOne(
        bare, VOCABULARY.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
    )
    if found is None or VOCABULARY[found[0]] in DECISIONS:
        return word  # a decision is never read into a typo ("disapprove" is not "approve")
    return word.replace(bare, VOCABULARY[found[0]])
