"""The deployable stack as processes (no Docker engine needed): gunicorn, a Celery worker and beat against
PostgreSQL and Redis, the app connected as its non-owner database role, DEBUG off, static files served by
WhiteNoise. Then a user's path through it, and a broker outage that loses nothing:

1. sign in on the page; upload an 835 through the API: it is posted, and the worker validates it;
2. a web process whose broker is a dead port (beat stopped, so nothing sweeps yet): the upload answers
   at once (201, "validation queued"), the task waits in the outbox;
3. beat back: its sweep publishes the waiting task and the worker validates the file;
4. all along, beat's reminder run (every few seconds here, RCM_REMINDERS_BEAT_SECONDS) sends a patient on a
   payment plan the email about an installment due in 3 days, once: one row sent, one message in the email
   backend's folder.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379. Creates and drops
its own database and role; stops every process it started. Run by scripts/smoke.sh (and .ci/run)."""

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG = os.environ.get("SMOKE_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("SMOKE_REDIS", "redis://127.0.0.1:6379/13")
DEAD_BROKER = "redis://127.0.0.1:1/0"
DATABASE = "rcm_smoke"
ROLE = "rcm_smoke_app"
STARTED = time.monotonic()
processes: list[subprocess.Popen] = []


def say(message: str) -> None:
    print(f"[smoke {time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_sql(*statements: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start(name: str, command: list[str], env: dict, logs: Path) -> subprocess.Popen:
    log = (logs / f"{name}.log").open("w")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.name = name
    processes.append(process)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    if process in processes:
        processes.remove(process)


class Browser:
    """Cookies and CSRF like a browser; JSON for the API."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def sign_in(self, username: str, password: str) -> None:
        status, page = self.request("/login/")
        assert status == 200, status
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        status, page = self.request("/login/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200 and any(c.name == "sessionid" for c in self.jar), (status, page[:300])

    def upload(self, path: Path) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, content = self.request(
            "/api/x12-files/",
            body,
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-CSRFToken": self.cookie("csrftoken"),
            },
        )
        return status, json.loads(content)

    def json(self, path: str) -> dict:
        status, content = self.request(path)
        assert status == 200, (path, status, content[:300])
        return json.loads(content)


def wait_for(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done = check()
        except (urllib.error.URLError, OSError):
            done = False  # not listening yet
        if done:
            say(f"ok: {what}")
            return
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for: {what}")


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def outbox_waiting(env: dict, file_id: int) -> list:
    code = (
        "import json; from rcm.models import OutboxTask; "
        "print(json.dumps(default=str, obj=list(OutboxTask.objects.filter("
        f"task='claims.validate_x12_file', args=[{file_id}]).values_list('attempts', 'queued_at'))))"
    )
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def reminders(key: str) -> list:
    """(channel, status) of the reminder rows under ``key``, read as the owner (no Django process)."""
    with psycopg.connect(f"{PG}/{DATABASE}") as conn:
        return conn.execute(
            "SELECT channel, status FROM payment_plans_reminder WHERE key = %s ORDER BY channel", (key,)
        ).fetchall()


def mails(folder: Path, to: str) -> list[str]:
    """Messages the file email backend wrote to ``to``."""
    found = []
    for path in sorted(folder.glob("*.log")) if folder.is_dir() else []:
        for message in path.read_text().split("-" * 79):
            if f"To: {to}" in message:
                found.append(message)
    return found


def main() -> None:
    # A CI timeout or Ctrl-C still stops the processes and drops the database (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="rcm-smoke-"))
    logs = work / "log"
    logs.mkdir()
    password = secrets.token_urlsafe(16)
    role_password = secrets.token_urlsafe(16)
    base_env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "RCM_VAR_DIR": str(work / "var"),
        "CELERY_BROKER_URL": REDIS,
        "REDIS_URL": REDIS,
        "RCM_INLINE_VALIDATION_CHARS": "0",  # every file validated by the worker
        "RCM_OUTBOX_SWEEP_SECONDS": "3",
        "RCM_OUTBOX_SWEEP_AFTER": "0",
        "RCM_REMINDERS_BEAT_SECONDS": "5",  # beat's reminder run every 5 s instead of hourly
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(work / "var" / "mail"),
        "SMS_BACKEND": "payment_plans.reminders.sms.FileSmsBackend",
        "SMS_FILE_PATH": str(work / "var" / "sms" / "outbox.jsonl"),
        "PYTHONPATH": str(ROOT),
        # Collected without compression (the image's build compresses; here it would cost a minute).
        "STATIC_MANIFEST": "false",
    }
    owner_env = {**base_env, "DATABASE_URL": f"{PG}/{DATABASE}", "RCM_APP_DB_PASSWORD": role_password}
    host_port = PG.split("@", 1)[1]
    app_env = {**base_env, "DATABASE_URL": f"postgres://{ROLE}:{role_password}@{host_port}/{DATABASE}"}
    admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
    try:
        subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=False, capture_output=True)
        manage(owner_env, "migrate", "--noinput")
        say("migrated as the owner")
        say(manage(owner_env, "db_roles", "--role", ROLE).strip())
        manage(owner_env, "collectstatic", "--noinput")
        ids = json.loads(
            manage(
                {**app_env, "SMOKE_DIR": str(work), "SMOKE_PASSWORD": password},
                "shell",
                "-c",
                (ROOT / "scripts" / "smoke_setup.py").read_text(),
            )
            .strip()
            .splitlines()[-1]
        )
        say(
            f"data written as {ROLE}: claims {ids['claims']}; "
            f"a payment plan whose patient lives in {ids['reminder_time_zone']}"
        )

        celery = [str(BIN / "celery"), "-A", "rcm"]
        start("worker", [*celery, "worker", "--pool=solo", "--loglevel=INFO"], app_env, logs)
        beat = start("beat", [*celery, "beat", "--loglevel=INFO", "-s", str(work / "beat")], app_env, logs)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = [str(BIN / "gunicorn"), "rcm.wsgi:application", "--workers", "2", "--timeout", "60"]
        web = start("web", [*gunicorn, "--bind", f"127.0.0.1:{port}"], app_env, logs)
        wait_for("gunicorn answers /healthz (database and broker ok)", lambda: healthy(base))

        browser = Browser(base)
        status, css = browser.request("/static/css/app.css")
        assert status == 200 and css, status
        say("static files served by the app (WhiteNoise)")
        browser.sign_in("smoke-biller", password)
        say("signed in on the page")
        status, body = browser.upload(work / "era-1.835")
        assert status == 201, (status, body)
        (first,) = body["files"]
        assert (first["status"], first["validation"]) == ("applied", "queued"), first
        say(f"835 posted through the API: {first['message']}")
        claim = browser.json(f"/api/claims/{ids['claims'][0]}/")
        assert claim["status"] == "paid", claim["status"]
        wait_for(
            "the worker validated the file",
            lambda: browser.json(f"/api/x12-files/{first['id']}/")["validated_at"] is not None,
        )
        mail = work / "var" / "mail"
        wait_for(
            "beat's reminder run sent the email about the installment due in 3 days",
            lambda: (
                reminders(ids["reminder_key"]) == [("email", "sent")] and mails(mail, ids["reminder_email"])
            ),
        )
        (message,) = mails(mail, ids["reminder_email"])
        assert "Subject: Your payment is due soon" in message, message
        say("the email backend's folder holds it: Subject: Your payment is due soon")

        say("broker outage: a web process whose broker is a dead port; beat stopped")
        stop(beat)
        dead_port = free_port()
        dead_base = f"http://127.0.0.1:{dead_port}"
        # The cache stays on the live Redis (REDIS_URL); only the broker is unreachable.
        dead_env = {**app_env, "CELERY_BROKER_URL": DEAD_BROKER}
        start("web-dead-broker", [*gunicorn, "--bind", f"127.0.0.1:{dead_port}"], dead_env, logs)
        wait_for("the second web process listens", lambda: Browser(dead_base).request("/login/")[0] == 200)
        outage = Browser(dead_base)
        outage.sign_in("smoke-biller", password)
        started = time.monotonic()
        status, body = outage.upload(work / "era-2.835")
        elapsed = time.monotonic() - started
        assert status == 201, (status, body)
        (second,) = body["files"]
        assert (second["status"], second["validation"]) == ("applied", "queued"), second
        assert elapsed < 5, f"the upload took {elapsed:.1f}s with the broker down"
        say(f"upload answered in {elapsed:.1f}s with the broker down: {second['message']}")
        waiting = outbox_waiting(app_env, second["id"])
        assert len(waiting) == 1 and waiting[0][1] is None and waiting[0][0] >= 1, waiting
        say(f"its validation waits in the outbox (attempts {waiting[0][0]}, not queued)")
        status, health = outage.request("/healthz")
        assert status == 503 and b"broker" in health, (status, health)
        say(f"/healthz on the dead-broker process answers 503: {health.decode()}")

        say("broker back: beat starts again and its sweep publishes what waited")
        start("beat", [*celery, "beat", "--loglevel=INFO", "-s", str(work / "beat")], app_env, logs)
        wait_for(
            "the worker validated the file posted during the outage",
            lambda: browser.json(f"/api/x12-files/{second['id']}/")["validated_at"] is not None,
            timeout=60,
        )
        assert outbox_waiting(app_env, second["id"])[0][1] is not None
        assert (
            reminders(ids["reminder_key"]) == [("email", "sent")]
            and len(mails(mail, ids["reminder_email"])) == 1
        )
        say("beat's later reminder runs sent nothing twice (one row sent, one message)")
        say(f"web {web.pid} served everything; nothing was lost. Logs: {logs}")
    except BaseException:
        for log in sorted(logs.glob("*.log")):
            print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-25:]))
        raise
    finally:
        for process in list(processes):
            stop(process)
        admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin_sql(
            f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
            f"DROP ROLE {ROLE}; END IF; END $$"
        )
        subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=False, capture_output=True)


if __name__ == "__main__":
    main()
