"""Is the database at a URL ready for a test pass? `make test-postgres`, `make test-mysql` and
`make lint-migrations` ask before they run:

    .venv/bin/python .ci/database_ready.py postgres://postgres@127.0.0.1:5432/test

Exit 0 when it answers. Where the server answers but the named database does not exist, it is
created (as utf8mb4 on MySQL/MariaDB) and the script says so. Otherwise exit 1 with one line
saying exactly what is missing: no server answering, or the server refusing (login, rights).
"""

import sys

CONNECT_TIMEOUT = 3


def _last_line(error: BaseException) -> str:
    if len(error.args) == 2 and isinstance(error.args[0], int):  # MySQLdb: (code, message)
        return str(error.args[1])
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def postgres_ready(url: str) -> tuple[bool, str]:
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
        return True, ""
    except psycopg.OperationalError as refused:
        why = _last_line(refused)
    # Is it the database that is missing, or the server? Ask the server's maintenance database.
    server = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "connect_timeout": CONNECT_TIMEOUT,
    }
    try:
        connection = psycopg.connect(**{k: v for k, v in server.items() if v is not None})
    except psycopg.OperationalError:
        return False, f"nothing answers at {url} ({why})"
    with connection:
        connection.autocommit = True
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if found:
            return False, f"the server at {url} answers, but refuses database {name!r}: {why}"
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as refused:
            return False, (
                f"the server at {url} answers, but database {name!r} does not exist and could "
                f"not be created: {_last_line(refused)}"
            )
    return True, f"Created the missing database {name!r} at {url}."


def mysql_ready(url: str) -> tuple[bool, str]:
    import environ
    import MySQLdb

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    try:
        connection = MySQLdb.connect(
            host=config["HOST"] or "localhost",
            port=int(config["PORT"] or 3306),
            user=config["USER"],
            password=config["PASSWORD"],
            connect_timeout=CONNECT_TIMEOUT,
        )
    except MySQLdb.OperationalError as refused:
        code = refused.args[0] if refused.args else 0
        if code in (2002, 2003, 2005, 2013):  # cannot connect, unknown host, lost at handshake
            return False, f"nothing answers at {url} ({_last_line(refused)})"
        return False, f"the server at {url} answers, but refuses: {_last_line(refused)}"
    try:
        cursor = connection.cursor()
        if cursor.execute("SHOW DATABASES LIKE %s", [name.replace("_", r"\_")]):
            return True, ""
        try:
            quoted = "`" + name.replace("`", "``") + "`"
            cursor.execute(
                f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        except MySQLdb.Error as refused:
            return False, (
                f"the server at {url} answers, but database {name!r} does not exist and could "
                f"not be created: {_last_line(refused)}"
            )
    finally:
        connection.close()
    return True, f"Created the missing database {name!r} at {url}."


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    url = argv[1]
    scheme = url.split(":", 1)[0]
    try:
        if scheme in ("postgres", "postgresql", "pgsql"):
            ready, said = postgres_ready(url)
        elif scheme in ("mysql", "mysql2"):
            ready, said = mysql_ready(url)
        else:
            ready, said = False, f"{url} is neither a postgres:// nor a mysql:// URL"
    except Exception as failed:  # one line for the Makefile, whatever went wrong
        ready, said = False, f"could not ask {url}: {type(failed).__name__}: {failed}"
    if said:
        print(said)
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
