"""Keys and deployment (issue 10 part 4, R11.3, R11.4): the production system check refuses the public
demo key and every key derived from it; the key file; CSP, HSTS and no-store headers."""

from __future__ import annotations

import json
import os
import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from config.keys import DEMO_SECRET_KEY, KEY_ENV, load_keys
from shouhu.core.checks import key_problems
from shouhu.core.crypto import KeySet

LEGACY = KeySet.legacy(DEMO_SECRET_KEY)
pytestmark = pytest.mark.django_db  # the checks read the user table (shouhu.W001)


def _check(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("check", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_the_settings_in_use_pass_the_production_check() -> None:
    assert key_problems() == []
    with override_settings(DEBUG=False):
        _check()


def test_the_demo_secret_key_is_refused_with_debug_off_and_by_deploy() -> None:
    with override_settings(DEBUG=False, SECRET_KEY=DEMO_SECRET_KEY), pytest.raises(SystemCheckError) as e:
        _check()
    assert "shouhu.E001" in str(e.value) and "public demo key" in str(e.value)
    with override_settings(DEBUG=True, SECRET_KEY=DEMO_SECRET_KEY):
        assert "E001" not in _check()  # a demo with DEBUG on may start …
        with pytest.raises(SystemCheckError, match=r"shouhu\.E001"):
            _check("--deploy")  # … but never passes the deployment check


@pytest.mark.parametrize(
    "setting,value",
    [
        ("FIELD_ENCRYPTION_KEY", LEGACY.field[0]),
        ("FILE_ENCRYPTION_KEY", LEGACY.file[0]),
        ("AUDIT_SEAL_KEY", LEGACY.audit.decode()),
        ("BLIND_INDEX_KEY", DEMO_SECRET_KEY),
    ],
)
def test_keys_derived_from_the_demo_key_are_refused(setting: str, value: str) -> None:
    with override_settings(DEBUG=False, **{setting: value}), pytest.raises(SystemCheckError) as e:
        _check()
    assert "shouhu.E001" in str(e.value) and "derived from the public demo key" in str(e.value)


def test_a_field_key_derived_from_the_secret_key_in_use_is_refused() -> None:
    from django.conf import settings

    derived = KeySet.legacy(settings.SECRET_KEY).field[0]
    with override_settings(DEBUG=False, FIELD_ENCRYPTION_KEY=derived), pytest.raises(SystemCheckError) as e:
        _check()
    assert "SHOUHU_FIELD_KEY derived from SECRET_KEY" in str(e.value)


def test_keys_are_separate_settings_none_derived() -> None:
    from django.conf import settings

    values = [getattr(settings, name) for name in KEY_ENV]
    assert len(set(values)) == 5
    current = KeySet.from_settings()
    legacy = KeySet.legacy(settings.SECRET_KEY)
    assert current.field != legacy.field and current.index != legacy.index and current.audit != legacy.audit


def test_the_key_file_is_generated_once_private_and_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first, source = load_keys(path, {})
    assert set(first) == set(KEY_ENV) and all(source[k] == str(path) for k in KEY_ENV)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keys(path, {})[0] == first  # read back, not regenerated
    keys, source = load_keys(path, {"SHOUHU_FIELD_KEY": "from-env"})
    assert keys["FIELD_ENCRYPTION_KEY"] == "from-env" and source["FIELD_ENCRYPTION_KEY"] == "env"
    assert keys["BLIND_INDEX_KEY"] == first["BLIND_INDEX_KEY"]
    env = {var: f"v-{var}" for var in KEY_ENV.values()}
    assert load_keys(tmp_path / "never.json", env)[0]["SECRET_KEY"] == "v-SHOUHU_SECRET_KEY"
    assert not (tmp_path / "never.json").exists()  # all five in the environment: no file
    assert json.loads(path.read_text())["AUDIT_SEAL_KEY"] == first["AUDIT_SEAL_KEY"]


def test_debug_is_off_unless_make_run_turns_it_on() -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SHOUHU_DEBUG"}
    code = "import config.settings as s; print(s.DEBUG)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()
    assert "SHOUHU_DEBUG=1 $(PY) manage.py runserver" in makefile


def test_headers_csp_nonce_no_store_and_hsts(client: Any, users: dict[str, Any]) -> None:
    client.force_login(users["vw"])
    page = client.get("/children/")
    assert page.status_code == 200
    csp = page["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "no-store" in page["Cache-Control"]
    api = client.get("/api/v1/children/")
    assert api.status_code == 200 and "no-store" in api["Cache-Control"]
    anon = client.__class__().get("/api/v1/children/")
    assert "no-store" in anon["Cache-Control"]
    docs = client.get("/api/v1/docs/")
    nonce = docs["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in docs.content.decode()
    with override_settings(SECURE_HSTS_SECONDS=31536000):
        secure = client.get("/children/", secure=True)
        assert secure["Strict-Transport-Security"] == "max-age=31536000"


def test_every_inline_script_in_the_templates_carries_the_nonce() -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    for template in root.rglob("templates/**/*.html"):
        text = template.read_text("utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or "nonce=" in tag, f"{template}: inline script without the CSP nonce"
        assert not re.search(r"\son[a-z]+=\"", text), f"{template}: inline event handler breaks the CSP"
