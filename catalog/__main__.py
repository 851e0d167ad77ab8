"""Command line of the catalogue: ``python -m catalog {migrate,import,search}``.

    python -m catalog migrate
    python -m catalog import [DIR]            # default: CATALOG_DATA_DIR (data/catalog)
    python -m catalog search "doposcuola a rifredi per un bimbo di 8 anni" [--age 8 ...]

DATABASE_URL selects the database (default: a SQLite file under VAR_DIR).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from catalog.areas import QUARTIERI, resolve_area
from catalog.filters import COST_MODES, SearchFilters
from catalog.vocabulary import CATEGORIES, TARGET_GROUPS
from core.settings import get_settings


def _point(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LAT,LON, e.g. 43.7955,11.2445") from None
    return lat, lon


def _quartiere(text: str) -> str:
    area = resolve_area(text)
    if area is None:
        raise argparse.ArgumentTypeError(f"unknown quartiere or area '{text}'")
    return area.quartiere


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m catalog", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date")
    imp = commands.add_parser("import", help="import the YAML catalogue (idempotent)")
    imp.add_argument("directory", nargs="?", type=Path, help="folder with the YAML files")
    search = commands.add_parser("search", help="search services as the assistant does")
    search.add_argument("text", nargs="?", default="", help="the request, in Italian")
    search.add_argument("--category", choices=sorted(CATEGORIES))
    search.add_argument("--target", choices=sorted(TARGET_GROUPS), dest="target_group")
    search.add_argument(
        "--quartiere", type=_quartiere, help=f"Q1..Q5 or a name ({', '.join(QUARTIERI.values())})"
    )
    search.add_argument("--age", type=int)
    search.add_argument("--cost", choices=sorted(COST_MODES), dest="cost_mode")
    search.add_argument(
        "--budget", action="store_true", help="only services the welfare budget can pay"
    )
    search.add_argument("--near", type=_point, help="LAT,LON")
    search.add_argument("--max-km", type=float)
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--offset", type=int, default=0)
    offices = commands.add_parser(
        "offices", help="check data/offices (file:line errors) and show the office for a text"
    )
    offices.add_argument("text", nargs="?", default="", help="a request, in any language")
    offices.add_argument("--directory", type=Path, help="folder with the offices' YAML files")
    return parser


def _offices(text: str, directory: Path | None) -> int:
    from catalog.offices import OFFICES_DIR, OfficeDataError, load_offices
    from core.i18n import languages

    try:
        found = load_offices(directory or OFFICES_DIR)
    except OfficeDataError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return 1
    unverified = [o.code for o in found.offices if not o.verified]
    print(f"{len(found.offices)} offices; to be verified by staff: {', '.join(unverified) or '-'}")
    for code in languages().codes:
        for line in found.untranslated(code):
            print(f"warning: {line} (it reads Italian)")
    if text:
        office = found.match(text) or found.general()
        print(f"{office.name}: {office.how_to_reach()}" if office else "no office")
    return 0


def _migrate() -> int:
    from core.db import get_engine
    from core.migrate import upgrade

    upgrade(get_engine())
    print("database schema up to date")
    return 0


def _import(directory: Path | None) -> int:
    from catalog.importer import import_catalog
    from core.db import session_scope

    folder = directory or get_settings().catalog_data_dir
    with session_scope() as session:
        report = import_catalog(session, folder)
        if not report.ok:
            session.rollback()
    for line in report.summary():
        print(line, file=sys.stderr if not report.ok else sys.stdout)
    return 0 if report.ok else 1


def _search(args: argparse.Namespace) -> int:
    from catalog.search import search_services
    from core.db import session_scope

    filters = SearchFilters(
        category=args.category,
        target_group=args.target_group,
        quartiere=args.quartiere,
        age=args.age,
        cost_mode=args.cost_mode,
        budget_payable=True if args.budget else None,
        near=args.near,
        max_km=args.max_km,
    )
    with session_scope() as session:
        result = search_services(session, args.text, filters, limit=args.limit, offset=args.offset)
        understood = ", ".join(f"{k}={v}" for k, v in result.interpreted.to_dict().items())
        print(f"capito: {understood or '-'}")
        if result.corrections:
            print("corretto: " + ", ".join(f"{a} -> {b}" for a, b in result.corrections.items()))
        for note in result.relaxed:
            print(f"nota: {note}")
        print(f"{result.total} servizi trovati")
        for rank, hit in enumerate(result.hits, start=args.offset + 1):
            s = hit.service
            print(f"\n{rank}. {s.title}  [{s.code}, punteggio {hit.score:.2f}]")
            print(f"   {s.provider.name} - {s.address}")
            print(f"   perché: {'; '.join(hit.reasons)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "migrate":
        return _migrate()
    if args.command == "import":
        return _import(args.directory)
    if args.command == "offices":
        return _offices(args.text, args.directory)
    return _search(args)


if __name__ == "__main__":
    sys.exit(main())
