"""Writes of the documents app: template uploads/activation, document generation and status marks."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import BusinessError, ConflictError
from apps.core.storage import random_key
from apps.documents import checks, rendering
from apps.documents.context import DOCUMENT_EVENT_TITLES, build_context, sample_context
from apps.documents.models import (
    Document,
    DocumentStatus,
    DocumentTemplate,
    DocumentTemplateVersion,
    DocumentType,
)

logger = logging.getLogger("travelcrm.documents")

DEFAULT_TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates" / "documents"
DEFAULT_NAMES: dict[str, str] = {
    DocumentType.CONTRACT: "Договор о реализации туристского продукта (по умолчанию)",
    DocumentType.INVOICE: "Счёт на оплату (по умолчанию)",
    DocumentType.ACT: "Акт оказанных услуг (по умолчанию)",
    DocumentType.OFFER: "Коммерческое предложение (по умолчанию)",
}


def _render_error(error: rendering.RenderError, field: str = "body") -> BusinessError:
    fields = {field: [str(error)]}
    return BusinessError(
        f"Шаблон не принят: {error}", code=error.code, fields=fields, line=error.lineno
    )


def _check_type(doc_type: str) -> str:
    if doc_type not in DocumentType.values:
        raise BusinessError(
            "Неизвестный тип документа.", code="invalid_type",
            fields={"type": [f"Допустимые значения: {', '.join(DocumentType.values)}."]},
        )
    return doc_type


# --- Templates --------------------------------------------------------------------------------------


def template_check(*, doc_type: str, body: str, css: str = "") -> None:
    """Compile in the sandbox and render against a sample order (HTML and PDF); BusinessError if broken."""
    try:
        template = rendering.compile_template(body)
        # Both VAT modes take different branches; the PDF (CSS, page limit) is checked once.
        rendering.render_html(template, sample_context(doc_type, vat_mode="vat"))
        rendering.render_document(template, sample_context(doc_type, vat_mode="none"), css)
    except rendering.RenderError as error:
        raise _render_error(error) from None


@transaction.atomic
def template_upload(
    *, doc_type: str, body: str, css: str = "", name: str = "", comment: str = "", actor: User | None = None,
    activate: bool = True,
    check: bool = True,
) -> DocumentTemplateVersion:
    """A new version of the type's template (created on first upload); active unless activate=False."""
    _check_type(doc_type)
    if not body.strip():
        raise BusinessError("Пустой шаблон.", code="template_empty", fields={"body": ["Обязательное поле."]})
    if check:
        template_check(doc_type=doc_type, body=body, css=css)
    template, created = DocumentTemplate.objects.select_for_update().get_or_create(
        type=doc_type, defaults={"name": name or DEFAULT_NAMES[doc_type]}
    )
    if name and not created and template.name != name:
        template.name = name
        template.full_clean()
        template.save(update_fields=["name"])
    number = (template.versions.aggregate(last=Max("version"))["last"] or 0) + 1
    if activate:
        template.versions.filter(is_active=True).update(is_active=False)
    version = DocumentTemplateVersion(
        template=template, version=number, body=body, css=css, comment=comment[:300],
        is_active=activate, uploaded_by=actor if getattr(actor, "pk", None) else None, uploaded_at=timezone.now(),
    )
    version.full_clean()
    version.save()
    logger.info("document template uploaded", extra={"doc_type": doc_type, "version": number})
    return version


@transaction.atomic
def template_version_activate(
    *, version: DocumentTemplateVersion, actor: User | None = None
) -> DocumentTemplateVersion:
    """Make a version (e.g. an earlier one: a rollback) the active one of its template."""
    template = DocumentTemplate.objects.select_for_update().get(pk=version.template_id)
    template.versions.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    if not version.is_active:
        version.is_active = True
        version.save(update_fields=["is_active"])
    logger.info("document template activated", extra={"doc_type": template.type, "version": version.version})
    return version


DEFAULT_COMMENT = "Шаблон по умолчанию"
REFRESHED_COMMENT = "Шаблон по умолчанию (обновлён с новой версией программы)"


def _bundled(doc_type: str) -> tuple[str, str]:
    css = (DEFAULT_TEMPLATES_DIR / "base.css").read_text(encoding="utf-8")
    return (DEFAULT_TEMPLATES_DIR / f"{doc_type}.html").read_text(encoding="utf-8"), css


@transaction.atomic
def default_templates_refresh() -> int:
    """After an upgrade (post_migrate): where the active version is still an untouched bundled default
    and the bundled text changed, add the new text as the next active version. A version a supervisor
    uploaded is never replaced; the previous default stays in the history for a rollback."""
    refreshed = 0
    for doc_type in DocumentType.values:
        active = (
            DocumentTemplateVersion.objects.select_related("template")
            .filter(template__type=doc_type, is_active=True).first()
        )
        if active is None or active.comment not in (DEFAULT_COMMENT, REFRESHED_COMMENT):
            continue
        body, css = _bundled(doc_type)
        if (active.body, active.css) == (body, css):
            continue
        template_upload(doc_type=doc_type, body=body, css=css, comment=REFRESHED_COMMENT, check=False)
        refreshed += 1
    return refreshed


def load_default_templates(*, template_model=DocumentTemplate, version_model=DocumentTemplateVersion) -> int:
    """Create version 1 of each type's bundled template where the type has none (migration, command)."""
    css = (DEFAULT_TEMPLATES_DIR / "base.css").read_text(encoding="utf-8")
    loaded = 0
    for doc_type in DocumentType.values:
        template, _ = template_model.objects.get_or_create(type=doc_type, defaults={"name": DEFAULT_NAMES[doc_type]})
        if version_model.objects.filter(template=template).exists():
            continue
        body = (DEFAULT_TEMPLATES_DIR / f"{doc_type}.html").read_text(encoding="utf-8")
        version_model.objects.create(
            template=template, version=1, body=body, css=css, is_active=True,
            comment=DEFAULT_COMMENT, uploaded_at=timezone.now(),
        )
        loaded += 1
    return loaded


# --- Documents ------------------------------------------------------------------------------------


def _active_version(doc_type: str) -> DocumentTemplateVersion:
    version = (
        DocumentTemplateVersion.objects.select_related("template")
        .filter(template__type=doc_type, is_active=True)
        .first()
    )
    if version is None:
        raise BusinessError(
            "Для этого типа документа нет активного шаблона. Загрузите шаблон или активируйте версию.",
            code="template_missing",
        )
    return version


def _lock_order(order_id: int):
    from apps.orders.selectors import order_lock

    return order_lock(order_id)


NUMBER_PREFIXES: dict[str, str] = {
    DocumentType.CONTRACT: "Д", DocumentType.INVOICE: "С", DocumentType.ACT: "А", DocumentType.OFFER: "КП",
}


def _load_order_for_context(order_id: int):
    from apps.orders.models import Order

    return (
        Order.objects.select_related("client", "operator")
        .prefetch_related("services__supplier", "travellers__passports", "client__contacts", "client__passports")
        .get(pk=order_id)
    )


def latest_contract(order_id: int) -> Document | None:
    """The contract the order's acts and invoices refer to: the latest signed one, else the latest."""
    contracts = Document.objects.filter(order_id=order_id, type=DocumentType.CONTRACT)
    return contracts.filter(status=DocumentStatus.SIGNED).order_by("-version").first() or \
        contracts.order_by("-version").first()


def _basis(contract: Document | None) -> dict | None:
    if contract is None:
        return None
    return {"number": contract.number, "date": timezone.localtime(contract.generated_at).strftime("%d.%m.%Y")}


def _pdf_for(order, doc_type: str, version: DocumentTemplateVersion, *, number: str, requisites,
             contract: Document | None = None) -> bytes:
    context = build_context(order, doc_type, requisites=requisites, number=number, basis=_basis(contract),
                            valid_until=getattr(order, "offer_valid_until", None))
    try:
        template = compiled_template(version)
        return rendering.render_document(template, context, version.css)
    except rendering.RenderError as error:
        raise BusinessError(
            f"Не удалось сформировать документ по шаблону версии {version.version}: {error}",
            code=error.code, line=error.lineno,
        ) from None


def generation_checks(*, order, doc_type: str) -> list[checks.Finding]:
    """What the generation page and the API show before a document is made (nothing is written)."""
    from apps.finance.selectors import agency_requisites

    _check_type(doc_type)
    fresh = _load_order_for_context(order.pk)
    return checks.document_checks(fresh, doc_type, requisites=agency_requisites(),
                                  contract=latest_contract(order.pk))


def _refuse(findings: list[checks.Finding]) -> None:
    needs_confirmation = all(f.level == checks.CONFIRM for f in findings)
    text = " ".join(f.message for f in findings)
    if needs_confirmation:
        raise BusinessError(
            f"Нужно подтверждение: {text} Чтобы всё равно сформировать документ, подтвердите (confirm).",
            code="confirmation_required", checks=[f.as_dict() for f in findings],
        )
    raise BusinessError(f"Документ не сформирован: {text}", code="document_checks_failed",
                        checks=[f.as_dict() for f in findings])


_COMPILED: dict[tuple[int, int], object] = {}


def compiled_template(version: DocumentTemplateVersion):
    """Compiled template per version row (versions never change, so the cache never goes stale)."""
    key = (version.pk, hash(version.body))
    template = _COMPILED.get(key)
    if template is None:
        template = rendering.compile_template(version.body)
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        _COMPILED[key] = template
    return template


@transaction.atomic
def document_generate(*, order, doc_type: str, actor: User | None = None, confirm: bool = False) -> Document:
    """Check, render the type's active template for the order, store the PDF under a random key: next
    version. Errors of the checks refuse; confirmations need confirm=True and are recorded."""
    from apps.finance.selectors import agency_requisites

    _check_type(doc_type)
    template_version = _active_version(doc_type)
    _lock_order(order.pk)  # versions of one order are numbered one at a time
    number_in_type = (
        Document.objects.filter(order_id=order.pk, type=doc_type).aggregate(last=Max("version"))["last"] or 0
    ) + 1
    fresh = _load_order_for_context(order.pk)
    if not any(service.status != "cancelled" for service in fresh.services.all()):
        raise BusinessError("В заказе нет услуг — документ формировать не из чего.", code="order_empty")
    requisites = agency_requisites()
    contract = latest_contract(order.pk) if doc_type != DocumentType.CONTRACT else None
    findings = checks.document_checks(fresh, doc_type, requisites=requisites, contract=contract)
    stopping = checks.blocking(findings, confirmed=confirm)
    if stopping:
        _refuse(stopping)
    confirmed = any(f.level == checks.CONFIRM for f in findings)
    number = f"{fresh.number}-{NUMBER_PREFIXES[doc_type]}{number_in_type}"
    pdf = _pdf_for(fresh, doc_type, template_version, number=number, requisites=requisites, contract=contract)
    key = store_pdf(pdf, doc_type)
    document = Document(
        type=doc_type, order_id=order.pk, version=number_in_type, number=number, file=key, size=len(pdf),
        template_version=template_version, status=DocumentStatus.DRAFT,
        generated_by=actor if getattr(actor, "pk", None) else None, generated_at=timezone.now(),
        checks=[f.as_dict() for f in findings], confirmed=confirmed,
    )
    document.full_clean(exclude=["file"])
    document.save()
    title = f"{DOCUMENT_EVENT_TITLES['generated'][doc_type]} № {number}"
    if confirmed:
        title += " (с подтверждением вопреки проверке)"
    _event(document, "document_generated", title, actor,
           checks=[{"code": f.code, "level": f.level, "message": f.message} for f in findings])
    logger.info("document generated", extra={"document_id": document.pk, "doc_type": doc_type, "size": len(pdf),
                                              "confirmed": confirmed})
    return document


def store_pdf(pdf: bytes, doc_type: str) -> str:
    """Upload under a fresh random key. On S3 one PutObject (the storage's save() goes through the
    multipart transfer manager and its thread pool: ~50 ms of CPU per small PDF for nothing)."""
    key = random_key("documents", f"{doc_type}.pdf")
    storage = default_storage
    if hasattr(storage, "put_bytes") and not getattr(storage, "location", ""):
        return storage.put_bytes(key, pdf)  # encrypted at rest like every stored file (issue 14)
    return storage.save(key, ContentFile(pdf))


def _event(document: Document, kind: str, title: str, actor, **data) -> None:
    from apps.orders.services import order_event_add

    order_event_add(
        order=document.order,
        kind=kind,
        title=title[:300],
        data={"document_id": document.pk, "type": document.type, "version": document.version, **data},
        actor=actor,
    )


_TRANSITIONS: dict[str, set[str]] = {
    DocumentStatus.SENT: {DocumentStatus.DRAFT},
    DocumentStatus.SIGNED: {DocumentStatus.DRAFT, DocumentStatus.SENT},
}


@transaction.atomic
def document_mark(*, document: Document, status: str, actor: User | None = None) -> Document:
    """draft → sent → signed (or draft → signed). The file itself is never touched."""
    document = Document.objects.select_for_update().select_related("order").get(pk=document.pk)
    if status not in _TRANSITIONS:
        raise BusinessError("Недопустимый статус.", code="invalid_status", fields={"status": ["sent или signed."]})
    if document.status not in _TRANSITIONS[status]:
        raise ConflictError(
            f"Документ уже в статусе «{document.get_status_display()}» — изменить его нельзя.",
            code="document_status_conflict",
        )
    now = timezone.now()
    document.status = status
    if status == DocumentStatus.SENT:
        document.sent_at = now
        update = ["status", "sent_at"]
        title = f"{DOCUMENT_EVENT_TITLES['sent'][document.type]} № {document.number}"
    else:
        document.signed_at = now
        update = ["status", "signed_at"]
        title = f"{DOCUMENT_EVENT_TITLES['signed'][document.type]} № {document.number}"
    document.save(update_fields=update)
    _event(document, f"document_{status}", title, actor)
    return document


def document_mark_sent(*, document: Document, actor: User | None = None) -> Document:
    return document_mark(document=document, status=DocumentStatus.SENT, actor=actor)


def document_mark_signed(*, document: Document, actor: User | None = None) -> Document:
    return document_mark(document=document, status=DocumentStatus.SIGNED, actor=actor)


# --- Template previews and diffs (issue 18 point 7) -------------------------------------------------

PREVIEW_PAGES = 2
PREVIEW_DPI = 60


def template_preview(*, doc_type: str, body: str, css: str = "", order=None, pages: int = PREVIEW_PAGES) -> list[bytes]:
    """PNG images of the first pages of a template's text rendered with the sample order, or with a
    real order (its data as a document would print it). The same sandbox and limits as generation."""
    from apps.finance.selectors import agency_requisites

    _check_type(doc_type)
    if order is None:
        context = sample_context(doc_type, services=6)
    else:
        fresh = _load_order_for_context(order.pk)
        context = build_context(fresh, doc_type, requisites=agency_requisites(), number=f"{fresh.number}-ПРОСМОТР",
                                basis=_basis(latest_contract(order.pk)),
                                valid_until=getattr(fresh, "offer_valid_until", None))
    try:
        pdf = rendering.render_pdf(body, css, context)
    except rendering.RenderError as error:
        raise _render_error(error) from None
    return pdf_to_png(pdf, pages=pages)


def pdf_to_png(pdf: bytes, *, pages: int = PREVIEW_PAGES, dpi: int = PREVIEW_DPI) -> list[bytes]:
    """The first pages of a PDF as PNG (poppler's pdftoppm, bounded in time)."""
    import shutil
    import subprocess
    import tempfile

    binary = shutil.which("pdftoppm")
    if binary is None:
        raise BusinessError("Предпросмотр недоступен: на сервере не установлен poppler-utils (pdftoppm).",
                            code="preview_unavailable")
    with tempfile.TemporaryDirectory(prefix="tpl-preview-") as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        try:
            subprocess.run(  # noqa: S603 (a fixed binary, our own file)
                [binary, "-png", "-r", str(dpi), "-f", "1", "-l", str(pages), str(source), str(Path(folder) / "p")],
                check=True, timeout=20, capture_output=True,
            )
        except (subprocess.SubprocessError, OSError):
            raise BusinessError("Не удалось построить предпросмотр страниц.", code="preview_failed") from None
        return [path.read_bytes() for path in sorted(Path(folder).glob("p-*.png"))]


def template_version_diff(version: DocumentTemplateVersion) -> dict:
    """Unified diff of a version's body and CSS against the previous version of its template."""
    import difflib

    previous = (
        DocumentTemplateVersion.objects.filter(template_id=version.template_id, version__lt=version.version)
        .order_by("-version").first()
    )
    if previous is None:
        return {"previous": None, "body": [], "css": []}

    def lines(old: str, new: str, name: str) -> list[str]:
        return list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"{name} v{previous.version}",
                                         f"{name} v{version.version}", n=2, lineterm=""))

    return {"previous": previous.version, "body": lines(previous.body, version.body, "HTML"),
            "css": lines(previous.css, version.css, "CSS")}
