"""Templates are easy to change safely (issue 18 point 7): a new version starts from the active one,
a PNG preview of the first pages with the sample and with a real order before activating, a diff
against the previous version; the sandbox still refuses what it refused."""

import base64
import re

import pytest

from apps.documents import services
from apps.documents.models import DocumentTemplateVersion

pytestmark = pytest.mark.django_db

PREVIEW = "/admin/documents/documenttemplateversion/preview/"


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_new_version_starts_from_the_active_one_or_a_chosen_one(templates, supervisor, admin_client_as):
    client = admin_client_as(supervisor)
    active = DocumentTemplateVersion.objects.get(template__type="invoice", is_active=True)
    form = client.get("/admin/documents/documenttemplateversion/add/?type=invoice").content.decode()
    assert "Счёт на оплату №" in form and f"На основе версии {active.version}" in form
    old = services.template_upload(doc_type="invoice", body="<p>старый счёт {{ document.number }}</p>",
                                   activate=False, comment="черновик")
    form = client.get(f"/admin/documents/documenttemplateversion/add/?type=invoice&from={old.pk}").content.decode()
    assert "старый счёт" in form


def test_preview_of_an_unsaved_text_with_the_sample_and_a_real_order(order, supervisor, admin_client_as):
    client = admin_client_as(supervisor)
    body, css = services._bundled("contract")
    before = DocumentTemplateVersion.objects.count()
    page = client.post(PREVIEW, {"type": "contract", "body": body, "css": css, "preview_order": order.pk})
    html = page.content.decode()
    assert page.status_code == 200 and "Образец (вымышленный заказ)" in html and f"Заказ {order.number}" in html
    images = _pngs(html)
    assert len(images) == 4 and all(image.startswith(b"\x89PNG") for image in images)  # 2 pages × 2 orders
    assert DocumentTemplateVersion.objects.count() == before  # nothing saved


def test_preview_reports_a_broken_template_and_keeps_the_sandbox(templates, supervisor, admin_client_as):
    client = admin_client_as(supervisor)
    broken = client.post(PREVIEW, {"type": "offer", "body": "<p>\n{{ order.__class__ }}</p>"}).content.decode()
    assert "строка 2" in broken and not _pngs(broken)


def test_preview_is_for_template_editors_and_real_data_needs_the_right(order, operator, accountant, admin_client_as):
    version = DocumentTemplateVersion.objects.get(template__type="invoice", is_active=True)
    assert admin_client_as(operator).get(f"{PREVIEW}?version={version.pk}").status_code == 403
    assert admin_client_as(accountant).get(f"{PREVIEW}?version={version.pk}").status_code in (302, 403)


def test_version_page_shows_the_diff_and_the_preview_of_a_stored_version(templates, supervisor, admin_client_as):
    active = DocumentTemplateVersion.objects.get(template__type="offer", is_active=True)
    new = services.template_upload(doc_type="offer", body=active.body.replace("Ваш пакет", "Ваша поездка"),
                                   css=active.css, activate=False, comment="заголовок")
    client = admin_client_as(supervisor)
    page = client.get(f"/admin/documents/documenttemplateversion/{new.pk}/change/").content.decode()
    assert f"Предыдущая версия: {active.version}" in page
    assert "-&lt;h2&gt;Ваш пакет&lt;/h2&gt;" in page and "+&lt;h2&gt;Ваша поездка&lt;/h2&gt;" in page
    preview = client.get(f"{PREVIEW}?version={new.pk}").content.decode()
    assert len(_pngs(preview)) == 1  # the sample offer has one page
    assert DocumentTemplateVersion.objects.get(pk=new.pk).is_active is False  # previewing activates nothing
