"""Assignment links: a teacher's setup with chosen settings locked, others hidden, and a
question for the learner.

    ?v=2&data=moons&…&lock=lr,layers&hide=l2,seed&ask=Before+you+press+Start%3A+what+…

``lock`` names settings shown but not editable, ``hide`` settings left off the pages where a
setup is edited (and fixed as well), ``ask`` the prompt the Training page shows at its top,
as plain text. A setting is named by the link's own key for it (``SETTINGS``). A link
without these parts is an ordinary link; one whose parts cannot be read falls back, with a
note, to fewer locks or none — never to a page that cannot be used. The learner can always
unlock: an assignment guides, it does not imprison.

No Streamlit here: the session keeps an ``Assignment`` (``lab.state``), and ``check`` is
what ``state.set_spec`` asks before it takes a new setup.
"""

from __future__ import annotations

from dataclasses import dataclass

from nncore.runs.links.grammar import MAX_VALUE_LENGTH, shown
from nncore.runs.schema import SpecError
from nncore.runs.spec import RunSpec

# What a link can lock or hide, by the link's key for it, in the order the pages show them.
SETTINGS = {
    "data": "the data set", "layers": "the hidden layers", "loss": "the loss and output layer",
    "opt": "the optimizer", "lr": "the learning rate", "sched": "the learning-rate schedule",
    "l2": "L2 weight decay", "bs": "the batch size", "ep": "the epochs", "shuf": "shuffling",
    "seed": "the seed",
}
KEYS = ("lock", "hide", "ask")
MAX_PROMPT = 300                   # characters of the teacher's question


def _part(spec: RunSpec, name: str):
    """The part of a setup that the setting ``name`` covers (compared, never edited)."""
    optimizer = spec.optimizer
    return {
        "data": lambda: spec.data,
        "layers": lambda: spec.hidden,
        "loss": lambda: (spec.loss, spec.output_activation, spec.output_init,
                         spec.separate_activations),
        "opt": lambda: {k: v for k, v in optimizer.items() if k != "lr"},
        "lr": lambda: optimizer.get("lr"),
        "sched": lambda: spec.schedule,
        "l2": lambda: spec.l2, "bs": lambda: spec.batch_size, "ep": lambda: spec.epochs,
        "shuf": lambda: spec.shuffle, "seed": lambda: spec.seed,
    }[name]()


class Locked(SpecError):
    """A change to a setting the assignment link fixed."""


@dataclass(frozen=True)
class Assignment:
    """What an assignment link asks of a session: settings ``locked`` (shown, not
    editable), ``hidden`` (not shown, not editable) and a ``prompt``."""

    locked: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    prompt: str = ""

    def fixed(self, name: str) -> bool:
        """Whether the setting ``name`` may not be changed (locked or hidden)."""
        return name in self.locked or name in self.hidden

    def is_hidden(self, name: str) -> bool:
        return name in self.hidden

    @property
    def locks(self) -> bool:
        return bool(self.locked or self.hidden)

    def unlocked(self) -> "Assignment":
        """Everything editable again; the question stays."""
        return Assignment(prompt=self.prompt)

    def params(self) -> dict[str, str]:
        """This assignment as a link's parameters (none for no assignment)."""
        p = {}
        if self.locked:
            p["lock"] = ",".join(self.locked)
        if self.hidden:
            p["hide"] = ",".join(self.hidden)
        if self.prompt:
            p["ask"] = self.prompt
        return p

    def check(self, old: RunSpec, new: RunSpec) -> None:
        """Raise ``Locked``, saying which, when ``new`` changes a fixed setting of ``old``."""
        changed = [name for name in SETTINGS
                   if self.fixed(name) and _part(old, name) != _part(new, name)]
        if changed:
            one = len(changed) == 1
            raise Locked(changed[0], f"{_words(changed)[0].upper()}{_words(changed)[1:]} "
                                     f"{'is' if one else 'are'} fixed by the assignment link; "
                                     f"Unlock in the sidebar to change {'it' if one else 'them'}.")


def make(locked=(), hidden=(), prompt: str = "") -> Assignment:
    """An assignment from a teacher's choices: names in ``SETTINGS`` order, a hidden setting
    is not also listed as locked, the prompt cleaned and bounded."""
    hidden = tuple(name for name in SETTINGS if name in set(hidden))
    locked = tuple(name for name in SETTINGS if name in set(locked) and name not in hidden)
    return Assignment(locked, hidden, clean_prompt(prompt)[:MAX_PROMPT])


def describe(assignment: Assignment) -> str:
    """"the learning rate and the hidden layers are locked; L2 weight decay is hidden"."""
    parts = []
    for names, what in ((assignment.locked, "locked"), (assignment.hidden, "hidden")):
        if names:
            parts.append(f"{_words(names)} {'is' if len(names) == 1 else 'are'} {what}")
    return "; ".join(parts)


def _words(names) -> str:
    words = [SETTINGS[n] for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def clean_prompt(text: str) -> str:
    """Printable characters and line breaks only, at most two breaks in a row, trimmed."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch.isprintable() or ch == "\n").strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


# ------------------------------------------------------------------ reading a link
def assignment_from_params(params) -> tuple[Assignment, list[str]]:
    """The assignment a link's parameters describe (none, for a link without one), and a
    note for everything in it that could not be used. Never raises."""
    notes: list[str] = []
    raw = {}
    for key in KEYS:
        value = params.get(key)
        if isinstance(value, (list, tuple)):          # a repeated key: the last one wins
            value = value[-1] if value else None
        if value is not None:
            raw[key] = str(value)
    names = {key: _names(raw[key], key, notes) for key in ("lock", "hide") if key in raw}
    prompt = ""
    if "ask" in raw:
        if len(raw["ask"]) > 4 * MAX_PROMPT:
            notes.append(f"The link's question is {len(raw['ask']):,} characters long, more than "
                         f"a question may be ({MAX_PROMPT}); it was left out.")
        else:
            prompt = clean_prompt(raw["ask"])
            if len(prompt) > MAX_PROMPT:
                notes.append(f"The link's question was cut to its first {MAX_PROMPT} "
                             "characters.")
                prompt = prompt[:MAX_PROMPT - 1].rstrip() + "…"
    assignment = make(names.get("lock", ()), names.get("hide", ()))
    return Assignment(assignment.locked, assignment.hidden, prompt), notes


def _names(value: str, key: str, notes: list) -> list[str]:
    what, done = ("locks", "locked") if key == "lock" else ("hides", "hidden")
    if len(value) > MAX_VALUE_LENGTH:
        notes.append(f"The link {what} more than there are settings ({len(value):,} "
                     f"characters); nothing was {done} by it.")
        return []
    names = []
    for token in (t.strip().lower() for t in value.split(",")):
        if token in SETTINGS:
            names.append(token)
        elif token:
            notes.append(f"The link {what} {shown(token)}, which is not a setting a link can "
                         f"{key} ({', '.join(SETTINGS)}); it was left out.")
    return names
