"""Topic normalization: one form per topic, so "LLMs", "Large Language Models" and "llm" count together.

Rules, in order (the result is stored beside the raw tag in `topic_tags.tag_normalized`):
1. Unicode NFKC, lower case, "&" read as "and"; punctuation becomes a space, except "+" and "#"
   (C++, C#); whitespace collapses; a phrase of single letters is one word ("A.I." -> "ai").
2. The phrase is looked up in ALIASES (acronyms and common variants) before and after the next step.
3. The last word (the head noun of an English compound) loses a plural: "-ies" -> "-y",
   "-sses"/"-xes"/"-ches"/"-shes" -> drop "es", else a final "s" - unless the word is in KEEP
   (kubernetes, redis, ...) or ends in "ss", "us", "is", "ics" or "js" (nodejs). Words of three letters or fewer are
   mostly acronyms (aws, gps, tls), so they lose an "s" only when what is left is an alias ("dbs").
   An upper-case acronym with a lower-case "s" ("APIs", "GPUs") is always a plural.

Change a rule and the forms change for newly loaded rows only; re-load to refresh older ones.
"""

from __future__ import annotations

import re
import unicodedata

# variant -> canonical form. Canonical is the full name, except where the acronym is what people say.
ALIASES: dict[str, str] = {
    "llm": "large language model",
    "ai": "artificial intelligence",
    "ml": "machine learning",
    "dl": "deep learning",
    "nlp": "natural language processing",
    "js": "javascript",
    "ts": "typescript",
    "k8s": "kubernetes",
    "k8": "kubernetes",
    "kube": "kubernetes",
    "db": "database",
    "dbms": "database management system",
    "rdbms": "relational database",
    "relational database management system": "relational database",
    "os": "operating system",
    "oop": "object oriented programming",
    "fp": "functional programming",
    "gc": "garbage collection",
    "garbage collector": "garbage collection",
    "wasm": "webassembly",
    "web assembly": "webassembly",
    "golang": "go",
    "postgres": "postgresql",
    "node": "nodejs",
    "node js": "nodejs",
    "react js": "react",
    "reactjs": "react",
    "ci cd": "continuous integration and delivery",
    "cicd": "continuous integration and delivery",
    "net": "dotnet",
    "dot net": "dotnet",
    "application programming interface": "api",
    "graphics processing unit": "gpu",
    "central processing unit": "cpu",
    "structured query language": "sql",
    "user interface": "ui",
    "user experience": "ux",
    "command line interface": "cli",
    "command line": "cli",
    "infrastructure as code": "iac",
}

# Words that end in "s" but are not plurals (or whose singular nobody uses).
KEEP = frozenset(
    {"kubernetes", "postgres", "redis", "aws", "ios", "macos", "windows", "series", "species", "news", "devops",
     "mlops", "gitops", "ops", "https", "dns", "sass", "less", "express", "rails", "jenkins", "pandas", "numpy",
     "atlas", "always", "chaos", "canvas", "bias", "kudos"}
)  # fmt: skip
IRREGULAR = {"caches": "cache", "niches": "niche", "indices": "index", "indexes": "index", "matrices": "matrix",
             "vertices": "vertex", "analyses": "analysis", "hypotheses": "hypothesis", "children": "child",
             "people": "person", "mice": "mouse", "queries": "query", "libraries": "library"}  # fmt: skip

_PUNCT = re.compile(r"[^\w\s+#]|_")
_SPACE = re.compile(r"\s+")
_ACRONYM_PLURAL = re.compile(r"[A-Z][A-Z0-9]+s")


def singular(word: str) -> str:
    """The singular of one lower-case word, by the rules in this module's docstring."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in KEEP or not word.endswith("s") or word.endswith(("ss", "us", "is", "ics", "js")):
        return word
    if len(word) <= 3:
        return word[:-1] if word[:-1] in ALIASES else word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def normalize_topic(tag: str) -> str:
    """The normalized form of a topic tag (lower case, no punctuation, singular, aliases resolved)."""
    text = unicodedata.normalize("NFKC", tag).replace("&", " and ")
    words = _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip().split(" ")
    if words == [""]:
        return tag.strip().lower()
    # "APIs", "GPUs", "LLMs": an acronym with a lower-case plural "s" is a plural whatever its ending.
    acronym_plural = _ACRONYM_PLURAL.fullmatch(words[-1]) is not None
    words = [word.lower() for word in words]
    if len(words) > 1 and all(len(word) == 1 for word in words):
        words = ["".join(words)]
    text = " ".join(words)
    if text in ALIASES:
        return ALIASES[text]
    words[-1] = words[-1][:-1] if acronym_plural else singular(words[-1])
    text = " ".join(words)
    return ALIASES.get(text, text)
