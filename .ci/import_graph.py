"""The import graph between the project's packages, as grimp (import-linter's graph) reads it.

    .venv/bin/python .ci/import_graph.py

Prints one line per package: what it imports, tests, migrations and conftest modules left out
(they may reach what they test). The shop's project files (settings, urls, wsgi, celery, apps,
tasks, management commands) are one node, `storefront (project)`; the payments core (every
module of payments/ outside its rails) is `payments`, except that the shop's imports of it are
named module by module, since only the door (services, values, errors) may be imported.
docs/architecture.md shows this output, and its test runs this to check it.
"""

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storefront", "payments", "currencies", "sitewide")
STOREFRONT_PARTS = ("buyer", "backoffice", "documents", "shop", "models", "plumbing")
RAILS = ("stripe", "bank_transfer", "payparts")
# The order the lines are printed in: from the top of the structure down.
ORDER = (
    "storefront (project)",
    "storefront.buyer",
    "storefront.backoffice",
    "storefront.documents",
    "storefront.shop",
    "storefront.models",
    "storefront.plumbing",
    "payments.stripe",
    "payments.bank_transfer",
    "payments.payparts",
    "payments",
    "currencies",
    "sitewide",
)


def left_out(module: str) -> bool:
    parts = module.split(".")
    return "tests" in parts or "migrations" in parts or parts[-1] == "conftest"


def node(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "storefront":
        if len(parts) > 1 and parts[1] in STOREFRONT_PARTS:
            return f"storefront.{parts[1]}"
        return "storefront (project)"
    if parts[0] == "payments":
        if len(parts) > 1 and parts[1] in RAILS:
            return f"payments.{parts[1]}"
        return "payments"
    return parts[0]


def edges() -> dict[str, set[str]]:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    found: dict[str, set[str]] = {name: set() for name in ORDER}
    for importer in graph.modules:
        if left_out(importer):
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            if left_out(imported):
                continue
            source, target = node(importer), node(imported)
            if source == target:
                continue
            if source.startswith("storefront") and target == "payments":
                target = ".".join(imported.split(".")[:2])  # payments.services, ...
            found[source].add(target)
    return found


def rank(name: str) -> tuple[int, str]:
    base = "payments" if name.startswith("payments.") and name not in ORDER else name
    return ORDER.index(base), name


def main() -> None:
    found = edges()
    width = max(len(name) for name in ORDER)
    for name in ORDER:
        targets = ", ".join(sorted(found[name], key=rank)) or "(nothing of the project)"
        print(f"{name:<{width}}  -> {targets}")


if __name__ == "__main__":
    main()
