"""The shop writes British English ("organisation", "cancelled") in what people read; Stripe's
own names (a refund's status "canceled", "expired_or_canceled_card") stay as Stripe spells them."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A quoted sentence (a capital letter, words, a full stop) or a template's text.
SENTENCE = re.compile(r"[\"']([A-Z][^\"'{}]*\bcanceled\b[^\"'{}]*[.!?])[\"']")


def user_facing_files():
    for folder in ("storefront", "payments", "templates"):
        for path in (ROOT / folder).rglob("*"):
            skipped = {"tests", "migrations"} & set(path.parts)
            if path.suffix in (".py", ".html", ".js") and not skipped:
                yield path


def test_no_sentence_a_person_reads_says_canceled():
    found = []
    for path in user_facing_files():
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {m}" for m in SENTENCE.findall(text)]
        if path.suffix == ".html":
            found += [
                f"{path.relative_to(ROOT)}: {line.strip()}"
                for line in text.splitlines()
                if re.search(r">[^<{]*\bcanceled\b", line, re.IGNORECASE)
            ]
    assert found == []
