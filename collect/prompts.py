r"""Prompts: how a problem becomes the text a model continues.

Three kinds of template, chosen in this order:

1. ``--prompt-file``: a text file with a ``{question}`` placeholder (continued verbatim), or a JSON
   file holding either a list of chat messages (``[{"role": ..., "content": ...}]``, ``{question}``
   in a content) or an object ``{"messages": [...]}`` / ``{"text": "..."}`` with optional
   ``"stop": [...]`` strings.
2. ``chat``: the model's own chat template (``tokenizer.apply_chat_template``) with the system
   instruction ``DEFAULT_SYSTEM`` and the question as the user turn, plus the generation prompt.
   A template that rejects a system turn gets the instruction prepended to the user turn.
3. ``few-shot`` (a model without a chat template): ``FEW_SHOT``, the instruction followed by two
   worked examples in the ``Problem:`` / ``Solution:`` format, steps separated by blank lines,
   each ending in ``The final answer is \boxed{...}.``; generation stops at ``\n\nProblem:``.

Text prompts are tokenized without adding special tokens: a chat template writes its own BOS, and
a raw-text template gets the tokenizer's BOS prepended when the tokenizer adds one by default.
Without a local tokenizer (a served model known only by name) chat templates stay as messages and
the server applies its own template. The manifest records the template and a hash of every
rendered prompt, so two runs with the same hash saw exactly the same prompts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaling.errors import ScalingError

Prompt = str | list[dict[str, str]]
"""Raw text (continued verbatim) or chat messages (rendered by the model's chat template)."""

PLACEHOLDER = "{question}"
DEFAULT_SYSTEM = (
    "Solve the following math problem step by step. Separate the steps with a blank line, "
    "and put the final answer within \\boxed{}."
)
FEW_SHOT = (
    DEFAULT_SYSTEM
    + "\n\n"
    + "Problem: What is the sum of the first three positive even numbers?\n"
    + "Solution: The first three positive even numbers are 2, 4 and 6.\n\n"
    + "Their sum is 2 + 4 + 6 = 12.\n\n"
    + "The final answer is \\boxed{12}.\n\n"
    + "Problem: A rectangle is 3 cm wide and 5 cm long. What is its area in square centimetres?\n"
    + "Solution: The area of a rectangle is its width times its length.\n\n"
    + "So the area is 3 \\cdot 5 = 15 square centimetres.\n\n"
    + "The final answer is \\boxed{15}.\n\n"
    + "Problem: {question}\n"
    + "Solution:"
)
FEW_SHOT_STOP = ("\n\nProblem:",)


def render_chat(tokenizer, messages: Sequence[dict[str, str]]) -> str:
    """Messages through the tokenizer's chat template, ending with the assistant's turn opening.

    A template that refuses a system message gets its text prepended to the first user turn.
    """
    from jinja2 import TemplateError

    messages = list(messages)
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except TemplateError:
        if not messages or messages[0]["role"] != "system":
            raise
        system, rest = messages[0]["content"], [dict(m) for m in messages[1:]]
        first = next((m for m in rest if m["role"] == "user"), None)
        if first is None:
            raise
        first["content"] = f"{system}\n\n{first['content']}"
        return tokenizer.apply_chat_template(rest, tokenize=False, add_generation_prompt=True)


def encode_prompt(tokenizer, prompt: Prompt) -> list[int]:
    """Token ids of a prompt: chat messages are rendered first; no special tokens are added."""
    text = prompt if isinstance(prompt, str) else render_chat(tokenizer, prompt)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def bos_prefix(tokenizer) -> str:
    """The BOS text a raw prompt needs: the one the tokenizer adds by default, if any."""
    if tokenizer is None or tokenizer.bos_token is None:
        return ""
    ids = tokenizer("a")["input_ids"]
    return tokenizer.bos_token if ids and ids[0] == tokenizer.bos_token_id else ""


@dataclass(frozen=True)
class PromptTemplate:
    """A rendering rule: ``render(question)`` gives the prompt; ``stop`` ends a generation."""

    kind: str  # chat | few-shot | file
    text: str | None = None  # raw-text template with {question}
    messages: tuple[tuple[str, str], ...] | None = None  # (role, content) with {question}
    stop: tuple[str, ...] = ()
    source: str = ""  # where the template came from
    tokenizer: Any = field(default=None, compare=False, repr=False)

    def render(self, question: str) -> Prompt:
        """The prompt for one question (text, or messages when there is no local tokenizer)."""
        if self.text is not None:
            return bos_prefix(self.tokenizer) + self.text.replace(PLACEHOLDER, question)
        messages = [
            {"role": role, "content": content.replace(PLACEHOLDER, question)}
            for role, content in self.messages or ()
        ]
        if self.tokenizer is None:
            return messages
        return render_chat(self.tokenizer, messages)

    def describe(self) -> dict[str, Any]:
        """Manifest fields: kind, source, the template itself and the stop strings."""
        template = self.text if self.text is not None else [list(m) for m in self.messages or ()]
        return {"kind": self.kind, "source": self.source, "template": template, "stop": self.stop}


def _from_file(path: Path, tokenizer) -> PromptTemplate:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScalingError(f"--prompt-file {path}: cannot read it ({e.strerror})") from None
    if path.suffix.lower() != ".json":
        if PLACEHOLDER not in raw:
            raise ScalingError(f"--prompt-file {path}: no {PLACEHOLDER} placeholder; add one")
        return PromptTemplate("file", text=raw, source=str(path), tokenizer=tokenizer)
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ScalingError(f"--prompt-file {path}: not valid JSON ({e.msg})") from None
    if isinstance(spec, list):
        spec = {"messages": spec}
    if not isinstance(spec, dict) or ("messages" in spec) == ("text" in spec):
        raise ScalingError(
            f"--prompt-file {path}: expected a list of messages, or an object with "
            "'messages' or 'text' (and optional 'stop')"
        )
    stop = spec.get("stop") or []
    if not (isinstance(stop, list) and all(isinstance(s, str) and s for s in stop)):
        raise ScalingError(f"--prompt-file {path}: 'stop' must be a list of non-empty strings")
    if "text" in spec:
        text = spec["text"]
        if not isinstance(text, str) or PLACEHOLDER not in text:
            raise ScalingError(f"--prompt-file {path}: 'text' needs a {PLACEHOLDER} placeholder")
        return PromptTemplate(
            "file", text=text, stop=tuple(stop), source=str(path), tokenizer=tokenizer
        )
    messages = spec["messages"]
    ok = isinstance(messages, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in messages
    )
    if not ok or not any(PLACEHOLDER in m["content"] for m in messages):
        raise ScalingError(
            f"--prompt-file {path}: 'messages' must be objects with string 'role' and 'content', "
            f"one content holding {PLACEHOLDER}"
        )
    if tokenizer is not None and not getattr(tokenizer, "chat_template", None):
        raise ScalingError(
            f"--prompt-file {path}: chat messages need a chat template, and this model's "
            "tokenizer has none; use a text template"
        )
    pairs = tuple((m["role"], m["content"]) for m in messages)
    return PromptTemplate(
        "file", messages=pairs, stop=tuple(stop), source=str(path), tokenizer=tokenizer
    )


def build_template(
    tokenizer, *, prompt_file: str | Path | None = None, system: str = DEFAULT_SYSTEM
) -> PromptTemplate:
    """The template for a model: a prompt file, else its chat template, else the few-shot one.

    ``tokenizer`` None means the model is known only to a server: chat messages are sent as such.
    """
    if prompt_file is not None:
        return _from_file(Path(prompt_file), tokenizer)
    if tokenizer is None or getattr(tokenizer, "chat_template", None):
        source = "server chat template" if tokenizer is None else "model chat template"
        messages = (("system", system), ("user", PLACEHOLDER))
        return PromptTemplate("chat", messages=messages, source=source, tokenizer=tokenizer)
    return PromptTemplate(
        "few-shot",
        text=FEW_SHOT,
        stop=FEW_SHOT_STOP,
        source="scaling few-shot",
        tokenizer=tokenizer,
    )


def prompt_hash(prompts: Sequence[Prompt]) -> str:
    """SHA-256 (first 16 hex digits) of every rendered prompt, in order."""
    blob = json.dumps(list(prompts), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
