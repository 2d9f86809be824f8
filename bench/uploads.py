"""Upload benchmark (issue 10): one 100 MB video through the upload route, into the local folder
and into S3-compatible object storage (moto's server on loopback), and its download back.

    .venv/bin/python bench/uploads.py                  # 100 MB, both backends
    .venv/bin/python bench/uploads.py --size-mb 20 --backend s3

Sets up a temporary SQLite demo database once (``flask gm demo --no-serve``), then measures each
case in a fresh child process: the demo enterprise ``qiye1`` signs in and posts the file to a
draft application's video slot through the HTML route (multipart form, CSRF token), then
downloads it. Printed per case: the time of the upload request and of the download, and the
child's peak RSS before and after (``ru_maxrss``): what one worker needs for one such upload.
The synthetic file is an MP4 header followed by zeros (the type is checked by its content).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
MB = 1024 * 1024
PASSWORD = "GreenMine#2026"
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(size_mb: int) -> None:
    """One measured case, in this process: sign in, upload, download; JSON on stdout."""
    sys.path.insert(0, ROOT)
    from app import create_app
    from app.extensions import db
    from app.models import Application, Attachment

    app = create_app()
    path = os.path.join(os.environ["BENCH_DIR"], "video.mp4")
    with app.app_context():
        user = app.appbuilder.sm.find_user(username="qiye1")
        application = db.session.query(Application).filter(
            Application.enterprise_id == user.enterprise_id, Application.status == "draft").first()
        application_id = application.id
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    client.post("/login/", data={"username": "qiye1", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/applicationview/show/{application_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    before = _peak_rss_mib()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        response = client.post(f"/attachments/Application/{application_id}/video",
                               data={"csrf_token": token, "file": (handle, "巡查视频.mp4", "video/mp4")},
                               content_type="multipart/form-data")
    upload_s = time.perf_counter() - started
    after_upload = _peak_rss_mib()
    with app.app_context():
        attachment = db.session.query(Attachment).filter(Attachment.owner_id == application_id,
                                                         Attachment.slot == "video").order_by(
            Attachment.id.desc()).first()
        attachment_id, stored_size = attachment.id, attachment.size_bytes
    started = time.perf_counter()
    download = client.get(f"/attachments/{attachment_id}")
    received = sum(len(chunk) for chunk in download.response)
    download_s = time.perf_counter() - started
    print(json.dumps({
        "status": response.status_code, "stored_bytes": stored_size, "download_status": download.status_code,
        "downloaded_bytes": received, "upload_s": round(upload_s, 2), "download_s": round(download_s, 2),
        "rss_before_mib": round(before, 1), "rss_after_upload_mib": round(after_upload, 1),
        "rss_after_download_mib": round(_peak_rss_mib(), 1), "size_mb": size_mb,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--backend", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.size_mb)
        return
    work = tempfile.mkdtemp(prefix="gm-bench-uploads-")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{work}/bench.db", UPLOAD_FOLDER=f"{work}/uploads",
               BENCH_DIR=work, GM_ENV="development", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_DEFAULT_REGION="us-east-1", PYTHONPATH=ROOT)
    moto = None
    try:
        with open(os.path.join(work, "video.mp4"), "wb") as handle:
            handle.write(MP4_HEAD)
            handle.truncate(args.size_mb * MB)
        subprocess.run([os.path.join(os.path.dirname(PYTHON), "flask"), "--app", "run", "gm", "demo", "--no-serve"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        cases = ["local", "s3"] if args.backend == "both" else [args.backend]
        for backend in cases:
            case_env = dict(env)
            if backend == "s3":
                if moto is None:
                    port = _free_port()
                    moto = subprocess.Popen([PYTHON, "-m", "moto.server", "-p", str(port)], env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    endpoint = f"http://127.0.0.1:{port}"
                    import boto3

                    for _attempt in range(100):
                        try:
                            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                         aws_access_key_id="bench", aws_secret_access_key="bench"
                                         ).create_bucket(Bucket="gm-bench")
                            break
                        except Exception:
                            time.sleep(0.1)
                case_env.update(STORAGE_URL="s3://gm-bench/attachments", S3_ENDPOINT_URL=endpoint)
            result = subprocess.run([PYTHON, __file__, "--child", "--size-mb", str(args.size_mb)], cwd=ROOT,
                                    env=case_env, capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"{backend}: the measured child failed:\n{result.stderr[-3000:]}")
            print(json.dumps({"backend": backend, **json.loads(result.stdout.strip().splitlines()[-1])}))
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
