"""Issue 16 part 1, in Chromium at 360 px: a village worker records a visit with no signal, the page is
reloaded with no signal (the service worker's copy), and when the signal returns exactly one visit is
stored. A second device that changed the file meanwhile makes the queued visit a conflict the worker
sees and decides on; nothing is overwritten silently."""

from __future__ import annotations

from typing import Any

import pytest

from shouhu.browser import SHOT_DIR, fits_phone
from shouhu.conftest import child_data
from shouhu.core.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _phone(browser: Any, base: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "vw_102201")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    # The service worker is installed and controls the pages from now on.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    return context, page


def _go_offline_on_visit_form(context: Any, page: Any, url: str) -> None:
    page.goto(url)  # online: the service worker keeps this page
    page.wait_for_selector("form[data-offline=visit]")
    page.wait_for_timeout(300)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("form[data-offline=visit]")


def test_a_visit_typed_offline_is_sent_once_when_the_signal_returns(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.care.models import Visit
    from shouhu.registry.services import child_create

    child = child_create(actor=county["vw_102201"], data=child_data(name="张晓明"))
    base = live_server.url
    context, page = _phone(browser, base)
    url = f"{base}/care/children/{child.pk}/visit/"
    _go_offline_on_visit_form(context, page, url)
    assert "登记走访" in page.inner_text("main")  # the kept copy, with no signal

    page.fill("#id_living_conditions", "离线记录：家中无人，邻居照看")
    page.click("form[data-offline] button[type=submit]")
    page.wait_for_selector("#offline-status:not([hidden])")
    assert "待上传 1 条" in page.inner_text("#offline-status")
    assert "已加密保存在本机" in page.inner_text("main")
    fits_phone(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_offline_queued.png", full_page=True)

    # The typed note is not in IndexedDB in clear.
    stored = page.evaluate(
        """() => new Promise(ok => { const r = indexedDB.open('shouhu-offline');
        r.onsuccess = () => { const t = r.result.transaction('queue').objectStore('queue').getAll();
        t.onsuccess = () => ok(JSON.stringify(t.result.map(x => Array.from(new Uint8Array(x.ct))))); }; })"""
    )
    assert "离线记录" not in stored and len(stored) > 100

    page.reload()  # still no signal: the page and the queue survive a reload
    page.wait_for_selector("#offline-status:not([hidden])")
    assert "待上传 1 条" in page.inner_text("#offline-status")
    assert Visit.objects.filter(child=child).count() == 0

    context.set_offline(False)
    page.wait_for_selector("#offline-status", state="hidden", timeout=15000)
    visits = list(Visit.objects.filter(child=child))
    assert len(visits) == 1
    assert visits[0].findings["living_conditions"] == "离线记录：家中无人，邻居照看"
    assert visits[0].client_key is not None
    # A retry of the same post (the reply was lost on the way back) makes no second visit.
    page.goto(url)
    page.wait_for_selector("form[data-offline=visit]")
    again = page.evaluate(
        """async (key) => { const f = document.querySelector('form[data-offline]');
        const d = new FormData(f); d.set('client_key', key); d.set('living_conditions', 'x');
        const r = await fetch(location.pathname, {method: 'POST', body: d, headers: {'X-Shouhu-Sync': '1'}});
        return r.status; }""",
        str(visits[0].client_key),
    )
    assert again == 201
    assert Visit.objects.filter(child=child).count() == 1
    context.close()


def test_a_file_changed_meanwhile_shows_the_conflict(
    live_server: Any, county: dict[str, Any], browser: Any
) -> None:
    from shouhu.care.models import Visit
    from shouhu.registry.models import Child
    from shouhu.registry.services import child_create, child_update

    child = child_create(actor=county["vw_102201"], data=child_data(name="李小花", sex="2"))
    base = live_server.url
    context, page = _phone(browser, base)
    _go_offline_on_visit_form(context, page, f"{base}/care/children/{child.pk}/visit/")
    page.select_option("#id_guardianship_rating", "poor")
    page.fill("#id_needs", "需要课后辅导")
    page.click("form[data-offline] button[type=submit]")
    page.wait_for_selector("#offline-status:not([hidden])")

    # Meanwhile, on another device, the township changes the same file.
    fresh = Child.objects.get(pk=child.pk)
    child_update(
        actor=county["sup_bashan"],
        child_id=child.pk,
        data={"address": "巴山镇梨山村3组"},
        version=fresh.version,
    )

    context.set_offline(False)
    page.wait_for_selector("#offline-panel [data-record=conflict]", state="attached", timeout=15000)
    page.click("#offline-status")
    text = page.inner_text("#offline-panel")
    assert "已被修改" in text
    assert Visit.objects.filter(child=child).count() == 0  # nothing written over the change
    fits_phone(page)
    page.screenshot(path=f"{SHOT_DIR}/shot_offline_conflict.png", full_page=True)

    page.click("#offline-panel >> text=仍然上传")  # the worker looked and decides
    page.wait_for_selector("#offline-status", state="hidden", timeout=15000)
    assert Visit.objects.filter(child=child).count() == 1
    assert Child.objects.get(pk=child.pk).guardianship_rating == "poor"
    context.close()
