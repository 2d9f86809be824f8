"""Benchmark the list, search, statistics, form, PDF and import paths against their SQL floor
and against a stock Flask-AppBuilder peer, on a database made by bench/generate.py.

    .venv/bin/python bench/run.py                                   # gm_bench (10k), with the peer
    .venv/bin/python bench/run.py --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/gm_bench100k
    .venv/bin/python bench/run.py --compare bench/results/run-gm_bench.json bench/results/run-gm_bench100k.json

For each of a county, a province and the national benchmark user (logged in through the real
login form / REST login, Flask test client, no network): median wall time over --repeat runs
(after one warm-up), SQL statements per request (SQLAlchemy before_cursor_execute on the engine),
response bytes, and in the same run
  floor  = median time of the minimal hand-written SQL for the same page through psycopg2
           (same scope, order, LIMIT/OFFSET; the rows and the count(*)), and
  peer   = median time of the same page on a stock FAB ModelView / ModelRestApi over the same
           tables (bench/stock_peer.py, in a child process: one AppBuilder per process).
Writes a Markdown table to stdout and everything to bench/results/run-<db>.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics as stats
import subprocess
import sys
import time
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/gm_bench"
RESULTS = os.path.join(ROOT, "bench", "results")
PAGE = 20          # ScopedModelView.page_size and FAB's default
API_PAGE = 25


def dbname(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def load_dataset(url: str) -> dict:
    with open(os.path.join(RESULTS, f"dataset-{dbname(url)}.json"), encoding="utf-8") as fh:
        return json.load(fh)


# ---------------------------------------------------------------------------
# SQL floors: the minimal SQL for the same page, by psycopg2
# ---------------------------------------------------------------------------
def scope_sql(role: str, ds: dict, alias: str) -> tuple[str, list]:
    if role == "county":
        return f"{alias}.region_code = %s", [ds["county"]]
    if role == "province":
        p = ds["province"][:2]
        return f"{alias}.region_code BETWEEN %s AND %s", [p + "0000", p + "9999"]
    return "TRUE", []


def floor_queries(kind: str, role: str, ds: dict, offset: int = 0, term: str | None = None,
                  limit: int = PAGE) -> list[tuple[str, list]]:
    if kind in ("mine_html", "mine_rest"):
        where, params = scope_sql(role, ds, "m")
        if term:
            where += " AND m.name ILIKE %s"
            params = params + [f"%{term}%"]
        if kind == "mine_html":
            page = (f"SELECT m.id, m.name, m.licence_no, e.id, e.name, mi.name, m.size, m.production_status, "
                    f"r.code, r.name, p1.name, p2.name FROM mine m JOIN enterprise e ON e.id = m.enterprise_id "
                    f"LEFT JOIN mineral mi ON mi.id = m.mineral_id JOIN region r ON r.code = m.region_code "
                    f"LEFT JOIN region p1 ON p1.code = r.parent_code LEFT JOIN region p2 ON p2.code = p1.parent_code "
                    f"WHERE {where} ORDER BY m.id DESC LIMIT {limit} OFFSET {offset}")
        else:
            page = (f"SELECT m.id, m.name, m.licence_no, m.enterprise_id, m.mineral_id, m.size, m.region_code, "
                    f"m.production_status, m.max_depth_m, m.workers_per_shift FROM mine m WHERE {where} "
                    f"ORDER BY m.id DESC LIMIT {limit} OFFSET {offset}")
        return [(page, params), (f"SELECT count(*) FROM mine m WHERE {where}", params)]
    if kind in ("app_html", "app_rest"):
        where, params = scope_sql(role, ds, "a")
        if term:
            where += " AND a.mine_name ILIKE %s"
            params = params + [f"%{term}%"]
        if kind == "app_html":
            page = (f"SELECT a.id, a.year, a.enterprise_name, a.mine_name, a.licence_no, a.status, a.submitted_at, "
                    f"r.code, r.name, p1.name, p2.name FROM application a JOIN region r ON r.code = a.region_code "
                    f"LEFT JOIN region p1 ON p1.code = r.parent_code LEFT JOIN region p2 ON p2.code = p1.parent_code "
                    f"WHERE {where} ORDER BY a.id DESC LIMIT {limit} OFFSET {offset}")
        else:
            page = (f"SELECT a.id, a.predeclaration_id, a.enterprise_id, a.mine_id, a.region_code, a.year, a.status, "
                    f"a.submitted_at, a.enterprise_name, a.mine_name, a.licence_no FROM application a "
                    f"WHERE {where} ORDER BY a.id DESC LIMIT {limit} OFFSET {offset}")
        return [(page, params), (f"SELECT count(*) FROM application a WHERE {where}", params)]
    where, params = scope_sql(role, ds, "m")
    # Statistics: the raw GROUP BYs the page shows.
    length = {"county": 6, "province": 4, "national": 2}[role]
    by_region = (f"SELECT substr(m.region_code, 1, {length}) AS prefix, count(*) FROM mine m WHERE {where} "
                 f"GROUP BY 1", params)
    if kind == "stat_index":
        return [(f"SELECT m.size, count(*) FROM mine m WHERE {where} GROUP BY m.size", params),
                (f"SELECT mi.mineral_class, count(*) FROM mine m LEFT JOIN mineral mi ON mi.id = m.mineral_id "
                 f"WHERE {where} GROUP BY mi.mineral_class", params),
                (f"SELECT count(*) FILTER (WHERE m.workers_per_shift > 30), count(*) FILTER (WHERE m.max_depth_m > 800) "
                 f"FROM mine m WHERE {where}", params)]
    if kind == "stat_region":
        return [by_region]
    if kind == "stat_mineral":
        return [(f"SELECT mi.mineral_class, count(*) FROM mine m LEFT JOIN mineral mi ON mi.id = m.mineral_id "
                 f"WHERE {where} GROUP BY mi.mineral_class", params), by_region]
    raise ValueError(kind)


def time_floor(conn, queries, repeat: int) -> float:
    times = []
    for i in range(repeat + 1):
        t = time.perf_counter()
        with conn.cursor() as cur:
            for sql, params in queries:
                cur.execute(sql, params)
                cur.fetchall()
        if i:
            times.append(time.perf_counter() - t)
    return stats.median(times)


# ---------------------------------------------------------------------------
# The app side
# ---------------------------------------------------------------------------
class Counter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.n = 0
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.n += 1
        self.statements.append(statement)


def make_app(url: str, target: str):
    os.environ["DATABASE_URL"] = url
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}
    if target == "peer":
        from stock_peer import create_peer_app

        return create_peer_app(overrides)
    from app import create_app

    return create_app(overrides)


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def html_login(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    m = _CSRF.search(page)
    token = (m.group(1) or m.group(2)) if m else ""
    r = client.post("/login/", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code in (302, 303), (username, r.status_code)
    assert client.get("/mineview/list/" if app.config.get("GM_TARGET") != "peer" else "/stockmineview/list/").status_code == 200
    return client


def api_token(app, username: str, password: str) -> str:
    r = app.test_client().post("/api/v1/security/login",
                               json={"username": username, "password": password, "provider": "db", "refresh": False})
    assert r.status_code == 200, (username, r.status_code, r.get_data(as_text=True)[:200])
    return r.get_json()["access_token"]


def measure(client, counter, url: str, repeat: int, headers=None, method="GET", **kw) -> dict:
    times, counts = [], []
    size = status = 0
    for i in range(repeat + 1):
        counter.n = 0
        counter.statements = []
        t = time.perf_counter()
        r = client.open(url, method=method, headers=headers or {}, **kw)
        data = r.get_data()
        elapsed = time.perf_counter() - t
        status, size = r.status_code, len(data)
        if i:
            times.append(elapsed)
            counts.append(counter.n)
    return {"url": url, "status": status, "ms": round(stats.median(times) * 1000, 2),
            "statements": max(counts), "bytes": size}


def rison_q(page: int, page_size: int = API_PAGE, term: str | None = None, col: str = "name") -> str:
    parts = []
    if term:
        parts.append(f"filters:!((col:{col},opr:ct,value:'{term}'))")
    parts.append(f"page:{page},page_size:{page_size}")
    return "?q=" + quote("(" + ",".join(parts) + ")", safe="(),:!'")


def deep_page(total: int, size: int) -> int:
    return max(0, int(0.9 * ((total - 1) // size)))


def scope_counts(conn, ds: dict, role: str, term: str) -> dict:
    out = {}
    with conn.cursor() as cur:
        for table, alias, name_col in (("mine", "m", "name"), ("application", "a", "mine_name")):
            where, params = scope_sql(role, ds, alias)
            cur.execute(f"SELECT count(*), count(*) FILTER (WHERE {alias}.{name_col} ILIKE %s) "
                        f"FROM {table} {alias} WHERE {where}", [f"%{term}%"] + params)
            out[table], out[table + "_search"] = cur.fetchone()
    return out


def pick_term(conn) -> str:
    """A mineral name that about 2-5 % of the mines carry in their name (a realistic search)."""
    with conn.cursor() as cur:
        cur.execute("SELECT mi.name, count(*) FROM mine m JOIN mineral mi ON mi.id = m.mineral_id "
                    "GROUP BY mi.name ORDER BY 2 DESC LIMIT 12")
        rows = cur.fetchall()
    return rows[min(5, len(rows) - 1)][0] + "矿"


def run_target(args, target: str) -> dict:
    import psycopg2

    from generate import _dsn

    ds = load_dataset(args.database_url)
    app = make_app(args.database_url, target)
    app.config["GM_TARGET"] = target
    from app.extensions import db

    conn = psycopg2.connect(**_dsn(args.database_url))
    conn.autocommit = True
    term = args.term or pick_term(conn)
    results: dict = {"target": target, "term": term, "cases": []}
    with app.app_context():
        counter = Counter(db.engine)
    mine_view = "StockMineView" if target == "peer" else "MineView"
    app_view = "StockApplicationView" if target == "peer" else "ApplicationView"
    base_mine = "/stockmineview" if target == "peer" else "/mineview"
    base_app = "/stockapplicationview" if target == "peer" else "/applicationview"
    api_mine = "/api/v1/stockmine/" if target == "peer" else "/api/v1/mine/"
    api_app = "/api/v1/stockapplication/" if target == "peer" else "/api/v1/application/"
    roles = [r for r in ("county", "province", "national") if r in args.roles]
    repeat = args.peer_repeat if target == "peer" else args.repeat
    for role in roles:
        user = ds["users"][role]
        client = html_login(app, user["username"], user["password"])
        token = api_token(app, user["username"], user["password"])
        bearer = {"Authorization": f"Bearer {token}"}
        counts = scope_counts(conn, ds, role, term)
        mine_deep = deep_page(counts["mine"], PAGE)
        app_deep = deep_page(counts["application"], PAGE)
        mine_deep_api = deep_page(counts["mine"], API_PAGE)
        app_deep_api = deep_page(counts["application"], API_PAGE)
        qterm = quote(term)
        cases = [
            ("mine list p1", "GET", f"{base_mine}/list/", None, ("mine_html", 0, None, PAGE)),
            ("mine list deep", "GET", f"{base_mine}/list/?page_{mine_view}={mine_deep}", None,
             ("mine_html", mine_deep * PAGE, None, PAGE)),
            ("mine search", "GET", f"{base_mine}/list/?_flt_2_name={qterm}", None, ("mine_html", 0, term, PAGE)),
            ("mine list psize 10", "GET", f"{base_mine}/list/?psize_{mine_view}=10", None, ("mine_html", 0, None, 10)),
            ("mine list psize 100", "GET", f"{base_mine}/list/?psize_{mine_view}=100", None, ("mine_html", 0, None, 100)),
            ("app list p1", "GET", f"{base_app}/list/", None, ("app_html", 0, None, PAGE)),
            ("app list deep", "GET", f"{base_app}/list/?page_{app_view}={app_deep}", None,
             ("app_html", app_deep * PAGE, None, PAGE)),
            ("app search", "GET", f"{base_app}/list/?_flt_2_mine_name={qterm}", None, ("app_html", 0, term, PAGE)),
            ("app list psize 10", "GET", f"{base_app}/list/?psize_{app_view}=10", None, ("app_html", 0, None, 10)),
            ("app list psize 100", "GET", f"{base_app}/list/?psize_{app_view}=100", None, ("app_html", 0, None, 100)),
            ("REST mine p1", "GET", api_mine + rison_q(0), bearer, ("mine_rest", 0, None, API_PAGE)),
            ("REST mine deep", "GET", api_mine + rison_q(mine_deep_api), bearer,
             ("mine_rest", mine_deep_api * API_PAGE, None, API_PAGE)),
            ("REST mine search", "GET", api_mine + rison_q(0, term=term), bearer, ("mine_rest", 0, term, API_PAGE)),
            ("REST app p1", "GET", api_app + rison_q(0), bearer, ("app_rest", 0, None, API_PAGE)),
            ("REST app deep", "GET", api_app + rison_q(app_deep_api), bearer,
             ("app_rest", app_deep_api * API_PAGE, None, API_PAGE)),
        ]
        if target == "product":
            mine_id = ds["sample_mine"][role]
            region_arg = {"county": ds["county"], "province": ds["province"][:2], "national": ""}[role]
            cases += [
                ("statistics summary", "GET", "/statistics/", None, ("stat_index",)),
                ("statistics by region", "GET", "/statistics/region/", None, ("stat_region",)),
                ("statistics by mineral", "GET", "/statistics/mineral/", None, ("stat_mineral",)),
                ("REST statistics by region", "GET", "/api/v1/statistics/region", bearer, ("stat_region",)),
                ("mine add form", "GET", "/mineview/add", None, None),
                ("mine edit form", "GET", f"/mineview/edit/{mine_id}", None, None),
                ("mine show", "GET", f"/mineview/show/{mine_id}", None, None),
            ]
            if region_arg and role != "county":
                cases.append(("statistics region drill-down", "GET", f"/statistics/region/?region={region_arg}",
                              None, ("stat_region",)))
            if role in ("county", "province", "national") and ds.get("certificate_ids"):
                cases.append(("certificate PDF", "GET", f"/certificateview/pdf/{ds['certificate_ids'][0]}", None, None))
        for name, method, url, headers, floor in cases:
            key = f"{role}|{name}"
            if key in args.skip or (target == "peer" and args.peer_skip_app_html and name.startswith("app ")):
                continue
            if args.jsonl:
                with open(args.jsonl + ".current", "w") as fh:
                    fh.write(key)
            c = client if headers is None else app.test_client()
            row = measure(c, counter, url, repeat, headers=headers, method=method)
            row.update(role=role, case=name)
            if args.show_sql and role == roles[0]:
                print(f"--- {target} {role} {name}: {row['statements']} statements", file=sys.stderr)
                for s in counter.statements:
                    print("   ", " ".join(s.split())[:400], file=sys.stderr)
            if floor is not None and target == "product":
                kind = floor[0]
                if kind.startswith("stat"):
                    queries = floor_queries(kind, role, ds)
                else:
                    queries = floor_queries(kind, role, ds, offset=floor[1], term=floor[2], limit=floor[3])
                row["floor_ms"] = round(time_floor(conn, queries, repeat) * 1000, 2)
                row["x_floor"] = round(row["ms"] / row["floor_ms"], 1)
            results["cases"].append(row)
            if args.jsonl:
                with open(args.jsonl, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
            print(f"{target:7} {role:8} {name:28} {row['status']} {row['ms']:9.1f} ms {row['statements']:4} stmts "
                  f"{row['bytes'] / 1024:8.1f} KiB" + (f"  floor {row['floor_ms']:.2f} ms ({row['x_floor']}x)"
                                                      if "floor_ms" in row else ""), file=sys.stderr)
        results.setdefault("scope", {})[role] = counts
        if target == "product" and role == "province" and not args.skip_import:
            results["excel_import"] = bench_import(app, ds, user, args.import_rows)
    conn.close()
    return results


def bench_import(app, ds: dict, user: dict, rows: int) -> dict:
    """Excel import of `rows` new mines (app.services.mine_excel) for the province user: a
    workbook exported from existing mines of the province, given new licence numbers and names.
    Timed as a dry run (validation of every row, no write) and once written (then deleted)."""
    import openpyxl
    from flask import g
    from sqlalchemy import select, text

    from app.extensions import db
    from app.models import Mine
    from app.services import mine_excel, scoping

    with app.test_request_context("/"):
        sm = app.appbuilder.sm
        g.user = db.session.query(sm.user_model).filter_by(username=user["username"]).one()
        query = select(Mine).where(scoping.scope_filter(Mine, g.user)).order_by(Mine.id).limit(rows)
        data = mine_excel.export_mines(query)
        wb = openpyxl.load_workbook(io.BytesIO(data))
        ws = wb.worksheets[0]
        header = [c.value for c in ws[1]]
        licence_col = next(i for i, h in enumerate(header) if h and "许可证" in str(h))
        name_col = next(i for i, h in enumerate(header) if h and "矿山名称" in str(h))
        # Size left empty: the import derives it from the thresholds (datasets generated before
        # the generator derived sizes carry random ones that the import rightly refuses).
        size_col = next((i for i, h in enumerate(header) if h and "矿山规模" in str(h)), None)
        licences = []
        for n, row in enumerate(ws.iter_rows(min_row=2), start=1):
            old = str(row[licence_col].value)
            new = old[:12] + "7" + f"{n:010d}"
            row[licence_col].value = new
            row[name_col].value = f"导入基准矿{n}号"
            if size_col is not None:
                row[size_col].value = None
            licences.append(new)
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
        times = []
        for _ in range(3):
            t = time.perf_counter()
            report = mine_excel.import_mines(data, g.user, dry_run=True)
            times.append(time.perf_counter() - t)
            db.session.rollback()
        refused = report.refused
        errors = [str(e.message) if hasattr(e, "message") else str(e) for e in report.errors[:3]]
        t = time.perf_counter()
        report = mine_excel.import_mines(data, g.user, skip_invalid=True)
        write_s = time.perf_counter() - t
        inserted = report.inserted if report.written else 0
        db.session.execute(text("DELETE FROM mine WHERE licence_no = ANY(:l)"), {"l": licences})
        db.session.commit()
    out = {"rows": len(licences), "bytes": len(data), "dry_run_ms": round(stats.median(times) * 1000),
           "write_ms": round(write_s * 1000), "inserted": inserted, "refused": refused, "errors": errors}
    print(f"excel import: {out}", file=sys.stderr)
    return out


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def markdown(product: dict, peer: dict | None, ds: dict) -> str:
    peer_ms = {(r["role"], r["case"]): r for r in (peer or {}).get("cases", [])}
    lines = [f"N = {ds['n']:,} mines; search term `{product['term']}`; scope sizes: "
             + "; ".join(f"{role} {c['mine']:,} mines / {c['application']:,} applications"
                         for role, c in product.get("scope", {}).items()),
             "",
             "| user | case | status | median ms | SQL stmts | KiB | SQL floor ms | × floor | stock peer ms | peer stmts | peer KiB | peer ÷ ours |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in product["cases"]:
        p = peer_ms.get((r["role"], r["case"]))
        crashed = any(c["role"] == r["role"] and c["case"] == r["case"] for c in (peer or {}).get("crashed", []))
        lines.append("| " + " | ".join([
            r["role"], r["case"], str(r["status"]), f"{r['ms']:.1f}", str(r["statements"]),
            f"{r['bytes'] / 1024:.1f}",
            f"{r['floor_ms']:.2f}" if "floor_ms" in r else "—",
            f"{r['x_floor']}" if "x_floor" in r else "—",
            f"{p['ms']:.0f}" if p else ("crashed (SIGSEGV)" if crashed else "—"), str(p["statements"]) if p else "—",
            f"{p['bytes'] / 1024:.0f}" if p else "—",
            f"{p['ms'] / r['ms']:.0f}×" if p else "—"]) + " |")
    if product.get("excel_import"):
        e = product["excel_import"]
        lines += ["", f"Excel import (province user, {e['rows']} new mines, {e['bytes'] / 1024:.0f} KiB xlsx): "
                      f"dry run {e['dry_run_ms']} ms, written {e['write_ms']} ms, inserted {e['inserted']}, "
                      f"refused {e['refused']}"]
    return "\n".join(lines)


def compare(a_path: str, b_path: str) -> str:
    """The two runs side by side: time (statements, KiB), × floor, stock peer ÷ ours, growth."""
    runs = []
    for path in (a_path, b_path):
        with open(path) as fh:
            run = json.load(fh)
        peer = {(r["role"], r["case"]): r for r in (run.get("peer") or {}).get("cases", [])}
        for crash in (run.get("peer") or {}).get("crashed", []):
            peer.setdefault((crash["role"], crash["case"]), {"status": "crashed"})
        runs.append((run, {(r["role"], r["case"]): r for r in run["product"]["cases"]}, peer))

    def cells(row, peer) -> list[str]:
        if row is None:
            return ["—", "—", "—"]
        shown = f"{row['ms']:.1f} ({row['statements']}, {row['bytes'] / 1024:.0f})"
        floor = f"{row['x_floor']:.1f}" if row.get("x_floor") else "—"
        ratio = "—"
        if peer and peer.get("status") == 200 and peer.get("ms") and row.get("ms"):
            ratio = f"{peer['ms'] / row['ms']:.0f}×"
        elif peer and peer.get("status") == "crashed":
            ratio = "crashed"
        return [shown, floor, ratio]

    (a, a_rows, a_peer), (b, b_rows, b_peer) = runs
    lines = [f"| user | case | {a['n']:,} ms (stmts, KiB) | × floor | peer ÷ ours | {b['n']:,} ms (stmts, KiB) "
             f"| × floor | peer ÷ ours | growth |", "|---|---|---|---|---|---|---|---|---|"]
    for key, row in b_rows.items():
        if row.get("status") != 200:
            continue
        small = a_rows.get(key)
        growth = f"{row['ms'] / small['ms']:.2f}×" if small else "—"
        lines.append("| " + " | ".join([key[0], key[1], *cells(small, a_peer.get(key)),
                                        *cells(row, b_peer.get(key)), growth]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--peer-repeat", type=int, default=3)
    parser.add_argument("--roles", default="county,province,national")
    parser.add_argument("--term", default=None)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-skip-app-html", action="store_true",
                        help="skip the stock peer's HTML application pages (about 10 s each at 10k, its search "
                             "form lists every pre-declaration)")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--show-sql", action="store_true", help="print each case's statements (first role)")
    parser.add_argument("--target", choices=["product", "peer"], default="product", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip", default="", help=argparse.SUPPRESS)
    parser.add_argument("--compare", nargs=2, metavar=("SMALL.json", "LARGE.json"))
    args = parser.parse_args()
    if args.compare:
        print(compare(*args.compare))
        return
    args.skip = set(filter(None, (args.skip or "").split(",")))
    if args.target == "peer":
        args.jsonl = args.json + "l"
        result = run_target(args, "peer")
        with open(args.json, "w") as fh:
            json.dump(result, fh)
        return
    args.jsonl = None
    ds = load_dataset(args.database_url)
    product = run_target(args, "product")
    term = product["term"]
    peer = None
    if not args.no_peer:
        # The peer needs its own process: one AppBuilder per process (DESIGN.md).
        # A stock page may kill its process (seen: SIGSEGV rendering the default search form's
        # select of every related row): the case is recorded as crashed and the peer restarted.
        path = os.path.join(RESULTS, f".peer-{dbname(args.database_url)}.json")
        for leftover in (path + "l", path + "l.current"):
            if os.path.exists(leftover):
                os.remove(leftover)
        skip, crashed = [], []
        for _attempt in range(12):
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--target", "peer", "--json", path,
                                   "--database-url", args.database_url, "--peer-repeat", str(args.peer_repeat),
                                   "--roles", args.roles, "--term", term, "--skip", ",".join(skip)]
                                  + (["--peer-skip-app-html"] if args.peer_skip_app_html else [])
                                  + (["--show-sql"] if args.show_sql else []))
            if proc.returncode == 0:
                break
            with open(path + "l.current") as fh:
                key = fh.read().strip()
            print(f"peer process died ({proc.returncode}) on {key}: recorded as crashed", file=sys.stderr)
            crashed.append({"role": key.split("|")[0], "case": key.split("|")[1], "returncode": proc.returncode})
            with open(path + "l") as fh:
                skip = [f"{r['role']}|{r['case']}" for r in map(json.loads, fh)] + [f"{c['role']}|{c['case']}" for c in crashed]
        with open(path + "l") as fh:
            peer = {"cases": [json.loads(line) for line in fh], "crashed": crashed}
        for leftover in (path, path + "l", path + "l.current"):
            if os.path.exists(leftover):
                os.remove(leftover)
    table = markdown(product, peer, ds)
    print(table)
    os.makedirs(RESULTS, exist_ok=True)
    out = os.path.join(RESULTS, f"run-{dbname(args.database_url)}.json")
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"n": ds["n"], "date": time.strftime("%Y-%m-%d"), "repeat": args.repeat,
                   "dataset": ds, "product": product, "peer": peer, "markdown": table},
                  fh, ensure_ascii=False, indent=1)
    print(f"\nwritten: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
