#!/usr/bin/env python3
"""Parse every statement of the SQL Server migrations with sqlglot (T-SQL dialect).

SQL Server cannot run in CI, so this is a syntax check of migrations/mssql/*.ts: each `this.addSql(`...`)`
statement (up and down) must parse with `sqlglot.parse(sql, read="tsql")`.

    pip install sqlglot          # e.g. in a virtualenv
    python3 src/db/tsql-check.py [migrations/mssql] [queries.sql]   # .sql: written by src/db/mssql-queries.ts

Exit 0 when every statement parses, 1 on a parse error (or when no statement was found), 2 when sqlglot
is missing. Statements sqlglot only keeps as an opaque `Command` (it does not model them, e.g. `declare`)
are listed as warnings: they are not syntax-checked.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError
except ImportError:  # pragma: no cover
    print("sqlglot is not installed: pip install sqlglot", file=sys.stderr)
    sys.exit(2)

ADD_SQL = re.compile(r"this\.addSql\(`((?:[^`\\]|\\.)*)`\);", re.S)


def unescape_template_literal(text: str) -> str:
    """Undo the escaping MikroORM's generator applies inside the template literal (`, $ and \\)."""
    return re.sub(r"\\([`$\\])", r"\1", text)


def statements(path: Path) -> list[str]:
    return [unescape_template_literal(m.group(1)) for m in ADD_SQL.finditer(path.read_text(encoding="utf-8"))]


QUERY_MARK = re.compile(r"^-- query: .*$", re.M)


def rendered_queries(path: Path) -> list[str]:
    """Statements of a file written by src/db/mssql-queries.ts, each after a `-- query: <name>` line."""
    return [part.strip() for part in QUERY_MARK.split(path.read_text(encoding="utf-8")) if part.strip()]


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[2]
    targets = [Path(arg) for arg in argv[1:]] or [root / "migrations" / "mssql"]
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(p for p in target.glob("*.ts") if not p.name.endswith(".d.ts"))
        else:
            files.append(target)
    errors = 0
    warnings = 0
    checked = 0
    for path in files:
        found = rendered_queries(path) if path.suffix == ".sql" else statements(path)
        for number, sql in enumerate(found, start=1):
            checked += 1
            try:
                parsed = sqlglot.parse(sql, read="tsql")
            except (ParseError, TokenError) as error:
                errors += 1
                print(f"{path.name} statement {number}: parse error: {error}\n    {sql}", file=sys.stderr)
                continue
            for expression in parsed:
                if isinstance(expression, exp.Command):
                    warnings += 1
                    print(f"{path.name} statement {number}: not modelled by sqlglot, syntax not checked:\n    {sql}")
    if checked == 0:
        print(f"no statements found in {', '.join(map(str, targets))}", file=sys.stderr)
        return 1
    print(f"T-SQL check: {checked} statements in {len(files)} file(s), {errors} parse error(s), {warnings} unchecked")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
