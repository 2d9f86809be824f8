"""gunicorn settings for production. Start with:

    gunicorn -c gunicorn.conf.py run:app

behind a reverse proxy (nginx) that terminates TLS. Every setting can be changed from the
environment (GUNICORN_*), so one file serves every server. Run `flask --app run gm deploy` once
per release before starting (migrations, reference data, roles), and give every server the same
SECRET_KEY, DATABASE_URL and RATELIMIT_STORAGE_URI (README, "Deployment").
"""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen. Loopback by default: only the proxy on the same machine reaches the app.
# Use 0.0.0.0:8000 (or a private address) when the proxy runs on another machine.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

# Worker processes: gunicorn's rule of thumb, 2 × cores + 1. Each worker is a whole app (its own
# AppBuilder and database pool, about 150 MB), so memory is the other bound. The database pool
# is per worker too: workers × (pool_size 5 + max_overflow 10) connections at most per server;
# keep the sum over all servers under PostgreSQL's max_connections (or put pgbouncer in front).
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)

# Synchronous workers: one request per process at a time, the model Flask, SQLAlchemy's
# session and FAB are written for (no monkey-patching as with gevent/eventlet, whose blocking
# database driver would stall every request of the worker). A sync worker is busy for as long as
# its request's body takes to arrive, so slow clients must not talk to it directly: the proxy
# buffers the request body (nginx's default, proxy_request_buffering on) and the response, and
# hands a 100 MB upload to gunicorn at loopback speed once the client has sent all of it. The
# number of workers then bounds the requests being processed, not the uploads in flight.
worker_class = "sync"

# A request may take this many seconds before its worker is killed and restarted. The longest
# legitimate request is a 100 MB video (UPLOAD_VIDEO_MAX_BYTES): behind a buffering proxy it is
# the copy to the storage (a local disk, or object storage over the network) that takes time;
# without one (or with proxy_request_buffering off) the client's upload itself: at 10 Mbit/s
# 100 MB take 80 s, at 4 Mbit/s over 200 s. 300 s covers both; gunicorn's 30 s default would
# kill such an upload half-way. The proxy's timeouts (proxy_read_timeout, proxy_send_timeout)
# must not be shorter.
timeout = _int("GUNICORN_TIMEOUT", 300)

# On a restart or reload (SIGHUP, deployment), workers finish their current request for up to
# this long before they are killed: long enough for an upload in progress.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 120)

# Keep-alive seconds between requests on one connection from the proxy.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle a worker after this many requests (plus a random 0..jitter so that they do not all
# restart at once): bounds the growth of a long-lived process's memory (fragmentation, caches of
# the libraries). 0 turns it off.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# The addresses allowed to tell gunicorn that a request came over https (X-Forwarded-Proto,
# which sets wsgi.url_scheme). The default is the proxy on the same machine; set it to the
# proxy's address when it runs elsewhere, never "*" when clients can reach gunicorn directly.
# The app's own ProxyFix (PROXY_FIX_X_FOR / _X_PROTO / _X_HOST, config.py) reads the client's
# address, scheme and host from the same headers for the number of proxies it is told to trust:
# set both for the same proxies.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS",
                                     os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))

# Logs to stdout/stderr for the service manager (systemd's journal, docker logs). The access log
# names the client as the proxy forwarded it.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'

# Each worker imports run.py and builds its own app after the fork. Preloading in the master
# would share one AppBuilder and one database connection pool between forked processes (FAB's
# AppBuilder is one per process; a pool's connections must not cross a fork), and a reload
# (SIGHUP) would not pick up new code.
preload_app = False

# Worker temporary files in memory rather than on a possibly slow disk (heartbeat files).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)

# Request line and header limits stay at gunicorn's defaults; the body limit is the app's
# (MAX_CONTENT_LENGTH, and per upload route) and the proxy's client_max_body_size.
