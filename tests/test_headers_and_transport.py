"""Headers and transport (finding 7): a Content-Security-Policy without inline script on every page, and
with DJANGO_SECURE_COOKIES=1 (the site behind TLS) secure cookies, HSTS and the redirect to HTTPS, so
that `check --deploy` has nothing to say.

Settings are read once per process, so the production variants run in a subprocess with their own
environment (as the server would be started).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def policy_of(response) -> dict[str, str]:
    directives = (part.strip().partition(" ") for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, _, value in directives if name}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/org/households/", "/api/v1/docs", "/api/v1/households",
                                  "/no-such-page/"])
def test_every_response_carries_the_policy(world, client_for, path):
    response = client_for(world.secretary_a).get(path)
    assert policy_of(response) == POLICY


def test_no_template_holds_inline_script_style_or_event_handlers():
    import re

    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in (ROOT / "templates").rglob("*.html")
             for m in inline.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def run_with(tmp_path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python *args` in a fresh process with production settings plus `env`."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "LIANHU_", "DATABASE_URL"))}
    base.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "LIANHU_DATA_KEY": secrets.token_urlsafe(40),
        "LIANHU_DATA_DIR": str(tmp_path),
        **env,
    })
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


BEHIND_TLS = {"DJANGO_SECURE_COOKIES": "1", "DJANGO_ALLOWED_HOSTS": "example.org"}


def test_check_deploy_behind_tls_reports_nothing_and_silences_nothing(tmp_path):
    result = run_with(tmp_path, BEHIND_TLS, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_tls_check_deploy_names_exactly_what_the_switch_turns_on(tmp_path):
    result = run_with(tmp_path, {"DJANGO_ALLOWED_HOSTS": "example.org"}, "manage.py", "check", "--deploy")
    output = result.stdout + result.stderr
    warned = {line.split(")")[0].split("(")[1] for line in output.splitlines() if "(security." in line}
    assert warned == {"security.W004", "security.W008", "security.W012", "security.W016"}, output


REQUESTS_BEHIND_TLS = """
import json, django
django.setup()
from django.test import Client
client = Client()
plain = client.get("/accounts/login/")
tls = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "tls": [tls.status_code, tls.get("Strict-Transport-Security"), bool(tls.cookies["csrftoken"]["secure"])],
}))
"""


@pytest.mark.parametrize("env,hsts", [
    ({}, "max-age=31536000; includeSubDomains; preload"),
    ({"DJANGO_HSTS_SECONDS": "600", "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "0", "DJANGO_HSTS_PRELOAD": "0"}, "max-age=600"),
])
def test_behind_tls_plain_http_is_redirected_and_https_gets_hsts_and_secure_cookies(tmp_path, env, hsts):
    result = run_with(tmp_path, {**BEHIND_TLS, "DJANGO_ALLOWED_HOSTS": "testserver", **env}, "-c", REQUESTS_BEHIND_TLS)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["plain"] == [301, "https://testserver/accounts/login/"]
    assert seen["tls"] == [200, hsts, True]


@pytest.mark.parametrize("name,value", [("LIANHU_SESSION_IDLE_MINUTES", "0"), ("LIANHU_SESSION_IDLE_MINUTES", "half"),
                                        ("LIANHU_SESSION_IDLE_MINUTES_READONLY", "721"), ("DJANGO_HSTS_SECONDS", "-1")])
def test_a_bad_value_stops_the_start(tmp_path, name, value):
    result = run_with(tmp_path, {**BEHIND_TLS, name: value}, "manage.py", "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and name in result.stderr


def test_the_login_page_links_no_inline_script(client, db):
    body = client.get(reverse("accounts:login")).content.decode()
    assert 'src="/static/js/app.js"' in body and "includeIndicatorStyles" in body
