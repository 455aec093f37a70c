"""Render the active template of each type for a demo order into PDF files (a visual check).

    manage.py documents_preview --out var/documents-preview [--order ID] [--services 10]

Nothing is stored in S3 or in the database except the demo order itself (built once if --order is
not given). Convert to PNG with `pdftoppm -png -r 60 FILE.pdf PREFIX` and look at the pages.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from apps.documents.models import DocumentType


class Command(BaseCommand):
    help = "Сформировать PDF всех типов документов для демо-заказа (для визуальной проверки)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="var/documents-preview")
        parser.add_argument("--order", type=int)
        parser.add_argument("--services", type=int, default=10)

    def handle(self, *args, **options):
        from apps.documents import rendering
        from apps.documents.context import build_context
        from apps.documents.demo import DEMO_NOTE, build_demo_order, ensure_requisites
        from apps.documents.services import (
            _active_version,
            _basis,
            _load_order_for_context,
            compiled_template,
            latest_contract,
        )
        from apps.finance.selectors import agency_requisites
        from apps.orders.models import Order

        ensure_requisites()
        if options["order"]:
            order = Order.objects.get(pk=options["order"])
        else:
            order = (
                Order.objects.filter(notes=DEMO_NOTE).order_by("-id").first()
                or build_demo_order(services=options["services"], unique="77", confirm=True)
            )
        order = _load_order_for_context(order.pk)
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        for doc_type in DocumentType.values:
            version = _active_version(doc_type)
            context = build_context(order, doc_type, requisites=agency_requisites(), number=f"{order.number}-ПРОБА",
                                    basis=_basis(latest_contract(order.pk)),
                                    valid_until=getattr(order, "offer_valid_until", None))
            html = rendering.render_html(compiled_template(version), context)
            pdf = rendering.html_to_pdf(html, version.css)
            target = out / f"{doc_type}.pdf"
            target.write_bytes(pdf)
            self.stdout.write(f"{target} ({len(pdf)} байт)")
