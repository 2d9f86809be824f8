"""Benchmark: render N certificate PDFs (SPEC F2) and report time and memory.

    .venv/bin/python bench/certificate_pdf.py [-n 50] [--database-url URL]

Builds a fresh schema (Alembic) with the reference data on a temporary SQLite file, or on
DATABASE_URL / --database-url (an *empty* database: the script creates its tables and leaves
its synthetic rows there), makes N synthetic enterprises, mines and provincial directory
entries with their certificates (app.services.certificates.issue), then renders every
certificate with render_pdf inside a request context. Reports the first render (font loading
included), the median and 95th percentile of the others, the average PDF size, the peak Python
allocation during one render (tracemalloc) and the process's peak resident set (ru_maxrss).
Not run by CI's tests.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="certificates to render (default 50)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()

    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="gm-bench-"), "bench.db")
    from flask_migrate import upgrade

    from app import clock, create_app
    from app.extensions import db
    from app.models import DirectoryEntry, Enterprise, Mine, Mineral
    from app.services import certificates, reference
    from app.services.demo import demo_licence, demo_uscc

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    rng = random.Random(6)
    with app.app_context():
        upgrade()
        reference.load_all()
        coal = db.session.query(Mineral).filter_by(name="煤").one()
        entries = []
        for n in range(args.n):
            enterprise = Enterprise(name=f"基准测试矿业{n:04d}号有限责任公司", uscc=demo_uscc(rng, "140105"),
                                    region_code="140105")
            mine = Mine(name=f"基准测试绿色示范煤矿{n:04d}号井", licence_no=demo_licence("140105", 900000 + n),
                        enterprise=enterprise, mineral=coal, mining_method="underground",
                        production_scale=60.0, region_code="140105")
            db.session.add_all([enterprise, mine])
            db.session.flush()
            entry = DirectoryEntry(mine_id=mine.id, enterprise_id=enterprise.id, region_code="140105",
                                   level="province", year=2026, mine_name=mine.name,
                                   enterprise_name=enterprise.name, mineral_name=coal.name,
                                   listed_on=clock.today(), entry_reason="基准测试")
            db.session.add(entry)
            db.session.flush()
            entries.append(certificates.issue(entry, db.session))
        db.session.commit()
        ids = [certificate.id for certificate in entries]

        from app.models import Certificate

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, sizes, peaks = [], [], []
        with app.test_request_context(base_url="https://gm.example.invalid/"):
            # Time: every certificate, without tracing (tracemalloc slows Python down several-fold).
            for certificate_id in ids:
                certificate = db.session.get(Certificate, certificate_id)
                started = time.perf_counter()
                pdf = certificates.render_pdf(certificate)
                times.append(time.perf_counter() - started)
                sizes.append(len(pdf))
            # Memory: a few more renders, traced (the font is loaded by now).
            for certificate_id in ids[:5]:
                certificate = db.session.get(Certificate, certificate_id)
                tracemalloc.start()
                certificates.render_pdf(certificate)
                peaks.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
        rest = sorted(times[1:]) or times
        print(f"database: {db.engine.dialect.name}; certificates rendered: {len(times)}")
        print(f"first render (font loaded): {times[0] * 1000:.0f} ms")
        print(f"median: {statistics.median(rest) * 1000:.0f} ms; "
              f"p95: {rest[min(len(rest) - 1, int(0.95 * len(rest)))] * 1000:.0f} ms")
        print(f"average PDF size: {statistics.mean(sizes) / 1024:.1f} KiB")
        print(f"peak Python allocation in one render (tracemalloc, median of {len(peaks)}): "
              f"{statistics.median(peaks) / 2**20:.1f} MiB")
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"process peak RSS: {rss_before / 1024:.0f} MiB before rendering (app, schema, data), "
              f"{rss_after / 1024:.0f} MiB after")


if __name__ == "__main__":
    main()
