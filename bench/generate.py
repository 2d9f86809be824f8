"""Benchmark data generator: N mines over the real counties of China, on PostgreSQL.

    .venv/bin/python bench/generate.py -n 10000 --recreate
    .venv/bin/python bench/generate.py -n 100000 --recreate --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/gm_bench100k

Steps: (re)create the database (--recreate, psycopg2 on the server's `postgres` database),
migrate it (flask_migrate.upgrade, as `flask db upgrade`), load the reference data (regions,
minerals, indicators), sync the roles, then write with PostgreSQL COPY:

- enterprises (about one per 2 mines) and N mines, spread over the leaf regions with a Zipf-like
  skew: provinces weighted 1/rank (in a seeded random order), counties within a province 1/rank^0.8;
- per mine 3 pre-declarations (passed) and 3 applications (years 2024-2026) in every state of
  the application workflow, about 10 transition_log rows per application (~30 per mine) and
  2 attachment rows per application (rows only; stored_name a unique fake);
- a few provincial directory entries with their certificates (app.services.certificates.issue,
  ORM) in the benchmark province;
- benchmark users `bench_county`, `bench_province`, `bench_national` (password printed) bound
  to the county and the province with the most mines.

Codes are valid: USCC with the check character of app.services.codes, licence numbers in the
current 23-character form accepted by codes.validate_licence_no. The COPY bypasses the ORM's
status guard on purpose (a generator, not a workflow). Writes bench/results/dataset-<db>.json
with what it made (the benchmark reads the users and sample ids from it).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/gm_bench"
PASSWORD = "Bench#2026gm"
RESULTS = os.path.join(ROOT, "bench", "results")


def _dsn(url: str, dbname: str | None = None) -> dict:
    u = urlparse(url.replace("postgresql+psycopg2", "postgresql"))
    return dict(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                password=u.password, dbname=dbname or u.path.lstrip("/"))


def recreate_database(url: str) -> None:
    import psycopg2

    params = _dsn(url, "postgres")
    name = _dsn(url)["dbname"]
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


class Progress:
    """tqdm when installed, else click.progressbar, over a known number of rows."""

    def __init__(self, total: int, label: str):
        try:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="rows", mininterval=0.5)
            self._update = self._bar.update
        except ImportError:
            import click

            self._bar = click.progressbar(length=total, label=label.ljust(16), file=sys.stderr)
            self._bar.__enter__()
            self._update = self._bar.update

    def update(self, n: int) -> None:
        self._update(n)

    def close(self) -> None:
        if hasattr(self._bar, "close"):
            self._bar.close()
        else:
            self._bar.__exit__(None, None, None)


def _esc(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    s = str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(cur, table: str, columns: list[str], rows, total: int, label: str, chunk: int = 20000) -> int:
    """COPY rows (an iterable of tuples) into table in chunks, with a progress bar."""
    bar = Progress(total, label)
    buf = io.StringIO()
    n = done = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    for row in rows:
        buf.write("\t".join(_esc(v) for v in row))
        buf.write("\n")
        n += 1
        if n == chunk:
            buf.seek(0)
            cur.copy_expert(sql, buf)
            bar.update(n)
            done += n
            buf = io.StringIO()
            n = 0
    if n:
        buf.seek(0)
        cur.copy_expert(sql, buf)
        bar.update(n)
        done += n
    bar.close()
    return done


def zipf_weights(n: int, s: float) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10000, help="mines (default 10000)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--recreate", action="store_true", help="drop and create the database first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--applications-per-mine", type=int, default=3)
    parser.add_argument("--logs-per-application", type=int, default=10)
    parser.add_argument("--attachments-per-application", type=int, default=2)
    parser.add_argument("--certificates", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    if args.recreate:
        recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("FLASK_APP", "run")

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.services import codes, reference
    from app.services.roles import sync_roles
    from app.services.users import create_or_update_user
    from app.services.workflow import TRANSITIONS, WORKFLOWS

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    rng = random.Random(args.seed)
    timings = {}
    with app.app_context():
        t = time.perf_counter()
        upgrade()
        reference.load_all()
        sync_roles(app.appbuilder)
        db.session.commit()
        timings["schema_reference_roles_s"] = round(time.perf_counter() - t, 1)
        if db.session.execute(text("SELECT count(*) FROM mine")).scalar():
            sys.exit("The database already holds mines: use --recreate (or another --database-url).")

        leaves = db.session.execute(text(
            "SELECT code, name FROM region WHERE is_leaf ORDER BY code")).all()
        minerals = db.session.execute(text("SELECT id, name FROM mineral ORDER BY id")).all()
        by_province: dict[str, list[tuple[str, str]]] = {}
        for code, name in leaves:
            by_province.setdefault(code[:2], []).append((code, name))
        provinces = sorted(by_province)
        rng.shuffle(provinces)
        province_weights = zipf_weights(len(provinces), 1.0)
        county_order = {p: rng.sample(by_province[p], len(by_province[p])) for p in provinces}
        county_weights = {p: zipf_weights(len(county_order[p]), 0.8) for p in provinces}
        # Mineral skew: a few common minerals (coal, limestone, construction sand ...) dominate.
        mineral_order = rng.sample(minerals, len(minerals))
        mineral_weights = zipf_weights(len(mineral_order), 1.1)

        # --- Assign mines to counties ----------------------------------------------------------
        mine_counties: list[tuple[str, str]] = []
        for p in rng.choices(provinces, province_weights, k=args.n):
            mine_counties.append(rng.choices(county_order[p], county_weights[p])[0])
        per_county = Counter(code for code, _ in mine_counties)

        # Enterprises: about one per two mines, registered in the county of their mines.
        enterprise_rows, mine_enterprise = [], {}
        next_enterprise = 1
        county_enterprises: dict[str, list[int]] = {}
        county_names = dict(leaves)
        now = datetime.datetime(2026, 11, 1, 8, 0, 0)
        econ = ["limited_liability", "private", "state_owned", "joint_stock", "collective"]
        for code, count in sorted(per_county.items()):
            ids = []
            for _ in range(max(1, (count + 1) // 2)):
                eid = next_enterprise
                next_enterprise += 1
                body = "91" + code + f"{eid:09d}"
                uscc = body + codes.uscc_check_character(body)
                enterprise_rows.append((
                    eid, f"{county_names[code]}基准矿业{eid}号有限公司", uscc, rng.choice(econ),
                    f"法人{eid}", f"联系人{eid}", f"{county_names[code]}矿业路{eid}号",
                    f"13{eid % 1000000000:09d}", code, now, now))
                ids.append(eid)
            county_enterprises[code] = ids

        sizes = ["large", "medium", "small", "small", "small"]
        statuses = ["producing"] * 6 + ["construction", "suspended", "closed"]
        dev = ["shaft", "incline", "adit", "ramp", "combined"]
        sup = ["province", "city", "county", "county"]
        methods = ["underground", "open_pit", "open_pit", "combined"]
        # Size from the national thresholds (as the product derives it), so imports and edits agree.
        from app.models import Mineral
        from app.services.reference import classify_size

        mineral_objects = {m.id: m for m in db.session.query(Mineral).all()}
        mine_rows = []
        seen_in_county: Counter = Counter()
        mine_meta = []  # (id, enterprise_id, region_code, name, licence, uscc, mineral name)
        uscc_of = {row[0]: row[2] for row in enterprise_rows}
        ename_of = {row[0]: row[1] for row in enterprise_rows}
        for mid, (code, cname) in enumerate(mine_counties, start=1):
            k = seen_in_county[code]
            seen_in_county[code] += 1
            eids = county_enterprises[code]
            eid = eids[k % len(eids)]
            mineral_id, mineral_name = rng.choices(mineral_order, mineral_weights)[0]
            name = f"{cname}{mineral_name}矿{k + 1}号"
            year = rng.randint(2005, 2024)
            licence = f"C{code[:2]}0000{year}{rng.randint(1, 12):02d}8{mid:09d}"
            if mid <= 3:
                codes.validate_licence_no(licence)
                codes.validate_uscc(uscc_of[eid])
            method = rng.choice(methods)
            under = method != "open_pit"
            scale = round(rng.uniform(1, 500), 1)
            size = classify_size(mineral_objects[mineral_id], scale, method) or rng.choice(sizes)
            mine_rows.append((
                mid, name, f"{cname}矿区{k + 1}号", licence, eid, rng.randint(20, 3000), mineral_id, method,
                scale, round(rng.uniform(0.1, 50), 2), f"{cname}自然资源局",
                size, code, datetime.date(year, 1, 1), datetime.date(year + 20, 1, 1), False,
                round(rng.uniform(5, 300), 1) if under else None, rng.choice(dev) if under else None,
                round(rng.uniform(50, 1500), 0) if under else None, rng.randint(5, 120) if under else None,
                rng.choice(statuses), rng.choice(sup), round(rng.uniform(18, 50), 5),
                round(rng.uniform(75, 130), 5), f"负责人{mid}", f"139{mid:08d}", now, now))
            mine_meta.append((mid, eid, code, name, licence, uscc_of[eid], mineral_name))

        app_states = list(WORKFLOWS["application"].states)
        app_transitions = [t for t in TRANSITIONS if t.workflow == "application"]

        import psycopg2

        conn = psycopg2.connect(**_dsn(args.database_url))
        t = time.perf_counter()
        with conn, conn.cursor() as cur:
            copy_rows(cur, "enterprise", ["id", "name", "uscc", "economic_type", "legal_representative",
                                          "contact_person", "address", "mobile", "region_code",
                                          "created_at", "updated_at"],
                      enterprise_rows, len(enterprise_rows), "enterprises")
            copy_rows(cur, "mine", [
                "id", "name", "address", "licence_no", "enterprise_id", "employees", "mineral_id", "mining_method",
                "production_scale", "area_km2", "issuing_authority", "size", "region_code", "licence_valid_from",
                "licence_valid_to", "is_new_or_expanded", "design_capacity", "development_method", "max_depth_m",
                "workers_per_shift", "production_status", "supervision_level", "latitude", "longitude",
                "principal_name", "principal_phone", "created_at", "updated_at"],
                mine_rows, len(mine_rows), "mines")
            years = [2026 - i for i in range(args.applications_per_mine)]
            n_apps = len(mine_meta) * len(years)

            def predeclarations():
                pid = 0
                for mid, eid, code, *_ in mine_meta:
                    for year in years:
                        pid += 1
                        yield (pid, eid, mid, code, year, "passed", now, now, now, now)

            copy_rows(cur, "predeclaration", ["id", "enterprise_id", "mine_id", "region_code", "year", "status",
                                              "submitted_at", "decided_at", "created_at", "updated_at"],
                      predeclarations(), n_apps, "predeclarations")
            app_status: list[tuple[int, str, str]] = []

            def applications():
                aid = 0
                for mid, eid, code, name, licence, uscc, mineral_name in mine_meta:
                    for year in years:
                        aid += 1
                        status = app_states[aid % len(app_states)] if year == 2026 else rng.choice(
                            ["listed", "not_selected", "returned", "accepted"])
                        app_status.append((aid, code, status))
                        yield (aid, aid, eid, mid, code, year, status, None if status == "draft" else now,
                               ename_of[eid], name, licence, uscc, mineral_name, now, now)

            copy_rows(cur, "application", ["id", "predeclaration_id", "enterprise_id", "mine_id", "region_code",
                                           "year", "status", "submitted_at", "enterprise_name", "mine_name",
                                           "licence_no", "uscc", "mineral_name", "created_at", "updated_at"],
                      applications(), n_apps, "applications")

            def logs():
                lid = 0
                for aid, code, status in app_status:
                    for i in range(args.logs_per_application):
                        lid += 1
                        tr = app_transitions[(aid + i) % len(app_transitions)]
                        yield (lid, "application", "Application", aid, tr.action, tr.source, tr.target,
                               "bench_county", sorted(tr.roles)[0], code,
                               now + datetime.timedelta(minutes=i), None)

            copy_rows(cur, "transition_log", ["id", "workflow", "record_type", "record_id", "action",
                                              "from_state", "to_state", "username", "role", "region_code",
                                              "created_at", "comment"],
                      logs(), n_apps * args.logs_per_application, "transition_log")

            def attachments():
                tid = 0
                for aid, _code, _status in app_status:
                    for i in range(args.attachments_per_application):
                        tid += 1
                        stored = uuid.UUID(int=rng.getrandbits(128)).hex
                        yield (tid, "Application", aid, "document", "pdf", f"建设实施方案{aid}-{i}.pdf", stored,
                               "application/pdf", 100000 + tid % 900000,
                               hashlib.sha256(stored.encode()).hexdigest(), now)

            copy_rows(cur, "attachment", ["id", "owner_type", "owner_id", "slot", "kind", "original_name",
                                          "stored_name", "content_type", "size_bytes", "sha256", "created_at"],
                      attachments(), n_apps * args.attachments_per_application, "attachments")
            for table in ("enterprise", "mine", "predeclaration", "application", "transition_log", "attachment"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.close()
        timings["copy_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        conn = psycopg2.connect(**_dsn(args.database_url))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()
        timings["analyze_s"] = round(time.perf_counter() - t, 1)

        # --- Benchmark scope: the largest province and its largest county ------------------------
        province_counts = Counter(code[:2] for code, _ in mine_counties)
        province = province_counts.most_common(1)[0][0]
        county = max((c for c in per_county if c[:2] == province), key=lambda c: per_county[c])
        province_code = province + "0000"

        # Directory entries and certificates (ORM, the product's own issue()).
        from app.models import DirectoryEntry, Enterprise, Mine
        from app.services import certificates

        certificate_ids = []
        sample = [m for m in mine_meta if m[2] == county][: args.certificates]
        for mid, eid, code, name, _licence, _uscc, mineral_name in sample:
            enterprise = db.session.get(Enterprise, eid)
            entry = DirectoryEntry(mine_id=mid, enterprise_id=eid, region_code=code, level="province",
                                   year=2026, mine_name=name, enterprise_name=enterprise.name,
                                   mineral_name=mineral_name, listed_on=datetime.date(2026, 11, 1),
                                   entry_reason="基准测试")
            db.session.add(entry)
            db.session.flush()
            certificate_ids.append(certificates.issue(entry, db.session).id)
        db.session.commit()

        users = {}
        for username, role, region in (("bench_county", "county", county),
                                       ("bench_province", "province", province_code),
                                       ("bench_national", "national", None)):
            # The benchmark signs in with these (no first-login change).
            create_or_update_user(username, role, PASSWORD, region_code=region, first_name=username,
                                  last_name="bench", email=f"{username}@bench.invalid", must_change_password=False)
            users[role] = {"username": username, "password": PASSWORD, "region_code": region}
        db.session.commit()
        counts = {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("region", "enterprise", "mine", "predeclaration", "application",
                                "transition_log", "attachment", "certificate")}
        county_mine_ids = [m[0] for m in mine_meta if m[2] == county]
        province_mine_ids = [m[0] for m in mine_meta if m[2][:2] == province]
        dataset = {
            "database_url": args.database_url, "n": args.n, "seed": args.seed, "counts": counts,
            "users": users, "county": county, "county_name": county_names[county],
            "province": province_code, "mines_in_county": per_county[county],
            "mines_in_province": province_counts[province],
            "top_provinces": province_counts.most_common(5),
            "sample_mine": {"county": county_mine_ids[len(county_mine_ids) // 2],
                            "province": province_mine_ids[len(province_mine_ids) // 2],
                            "national": len(mine_meta) // 2},
            "certificate_ids": certificate_ids,
            "timings": timings, "total_s": round(time.perf_counter() - started, 1),
        }
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"dataset-{_dsn(args.database_url)['dbname']}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(dataset, fh, ensure_ascii=False, indent=2)
    print(json.dumps({k: dataset[k] for k in ("counts", "county", "county_name", "province",
                                              "mines_in_county", "mines_in_province", "timings",
                                              "total_s")}, ensure_ascii=False, indent=1))
    print(f"users (password {PASSWORD}): " + ", ".join(f"{u['username']} ({r})" for r, u in users.items()))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
