"""Admin of documents: template versions (upload = new version, activate = rollback), documents
(generate for an order, download, mark sent/signed). Every write goes through services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from apps.core.errors import BusinessError
from apps.core.files import presigned_download_url
from apps.core.heavy import ServerBusy, heavy_slot, mark_busy
from apps.core.paging import LargeTableAdminMixin
from apps.core.personal_data import PersonalDataForbidden, admin_forbidden_response
from apps.documents import services
from apps.documents.api.views import download_ttl
from apps.documents.models import Document, DocumentTemplate, DocumentTemplateVersion, DocumentType
from apps.documents.selectors import documents_visible_to, download_name, require_download_right

# --- Templates --------------------------------------------------------------------------------------


class VersionInline(admin.TabularInline):
    model = DocumentTemplateVersion
    fields = ["version_link", "is_active", "comment", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="версия")
    def version_link(self, version):
        url = reverse("admin:documents_documenttemplateversion_change", args=[version.pk])
        return format_html('<a href="{}">версия {}</a>', url, version.version)


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    list_display = ["type", "name", "active_version", "created_at"]
    readonly_fields = ["type", "created_at", "upload_link"]
    fields = ["type", "name", "created_at", "upload_link"]
    inlines = [VersionInline]

    def has_add_permission(self, request):
        return False  # a template appears with its first uploaded version

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="активная версия")
    def active_version(self, template):
        active = [v.version for v in template.versions.all() if v.is_active]
        return active[0] if active else "—"

    @admin.display(description="новая версия")
    def upload_link(self, template):
        url = reverse("admin:documents_documenttemplateversion_add") + f"?type={template.type}"
        return format_html('<a class="button" href="{}">Загрузить новую версию</a>', url)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")


class TemplateVersionUploadForm(forms.ModelForm):
    type = forms.ChoiceField(label="Тип документа", choices=DocumentType.choices)
    name = forms.CharField(label="Название шаблона", max_length=200, required=False,
                           help_text="Если пусто — прежнее название (или название по умолчанию).")
    activate = forms.BooleanField(
        label="Сделать активной", required=False, initial=True,
        help_text="Снимите отметку, чтобы сначала посмотреть предпросмотр (кнопка «Предпросмотр») и "
                  "активировать версию позже действием в списке версий.",
    )
    preview_order = forms.IntegerField(
        label="Заказ для предпросмотра (ID)", required=False, min_value=1,
        help_text="Кроме образца, показать первые страницы с данными этого заказа.",
    )

    class Meta:
        model = DocumentTemplateVersion
        fields = ["body", "css", "comment"]
        widgets = {"body": forms.Textarea(attrs={"rows": 30, "cols": 120, "style": "font-family: monospace"}),
                   "css": forms.Textarea(attrs={"rows": 12, "cols": 120, "style": "font-family: monospace"})}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            services.template_check(doc_type=data["type"], body=data.get("body", ""), css=data.get("css", ""))
        except BusinessError as error:
            self.add_error("body", error.detail)
        return data


@admin.register(DocumentTemplateVersion)
class DocumentTemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "version", "is_active", "comment", "uploaded_by", "uploaded_at"]
    list_filter = ["template__type", "is_active"]
    list_select_related = ["template", "uploaded_by"]
    readonly_fields = ["template", "version", "is_active", "comment", "uploaded_by", "uploaded_at", "tools",
                       "diff_display", "body", "css"]
    actions = ["activate_version"]
    change_form_template = "admin/documents/documenttemplateversion/change_form.html"

    def get_urls(self):
        own = [path("preview/", self.admin_site.admin_view(self.preview_view),
                    name="documents_documenttemplateversion_preview")]
        return own + super().get_urls()

    @admin.display(description="действия")
    def tools(self, version):
        preview = reverse("admin:documents_documenttemplateversion_preview") + f"?version={version.pk}"
        new = (reverse("admin:documents_documenttemplateversion_add")
               + f"?type={version.template.type}&from={version.pk}")
        return format_html('<a class="button" href="{}" target="_blank">Предпросмотр (PNG первых страниц)</a> '
                           '<a class="button" href="{}">Новая версия на основе этой</a>', preview, new)

    @admin.display(description="изменения относительно предыдущей версии")
    def diff_display(self, version):
        diff = services.template_version_diff(version)
        if diff["previous"] is None:
            return "Это первая версия шаблона."
        return render_to_string("admin/documents/documenttemplateversion/diff.html", diff)

    def preview_view(self, request):
        """PNG of the first pages: the sample order and, if given, a real one. POST: a text not saved yet
        (the upload form's «Предпросмотр»); GET ?version=: a stored version. Nothing is written."""
        if not request.user.has_perm("documents.add_documenttemplateversion"):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        version = None
        if source.get("version", "").isdigit():
            version = get_object_or_404(DocumentTemplateVersion.objects.select_related("template"),
                                        pk=int(source["version"]))
            doc_type, body, css = version.template.type, version.body, version.css
        else:
            doc_type, body, css = source.get("type", ""), source.get("body", ""), source.get("css", "")
        order_id = source.get("preview_order") or source.get("order") or ""
        previews, errors = [], []
        if doc_type not in DocumentType.values or not body.strip():
            errors.append("Укажите тип документа и текст шаблона.")
        else:
            previews.append(self._preview_block(doc_type, body, css, None, errors))
            if str(order_id).isdigit():
                previews.append(self._preview_block(doc_type, body, css, int(order_id), errors, user=request.user))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "version": version,
                   "title": "Предпросмотр шаблона", "previews": [p for p in previews if p], "errors": errors,
                   "order_id": order_id}
        return TemplateResponse(request, "admin/documents/documenttemplateversion/preview.html", context)

    @staticmethod
    def _preview_block(doc_type, body, css, order_id, errors, user=None) -> dict | None:
        import base64

        from apps.orders.models import Order

        order = None
        if order_id is not None:
            if not user.has_perm("clients.view_personal_data"):
                errors.append("Предпросмотр с реальным заказом показывает персональные данные — нужно право на них.")
                return None
            order = Order.objects.filter(pk=order_id).first()
            if order is None:
                errors.append(f"Заказ {order_id} не найден.")
                return None
        try:
            pages = services.template_preview(doc_type=doc_type, body=body, css=css, order=order)
        except BusinessError as error:
            errors.append(error.detail)
            return None
        title = f"Заказ {order.number}" if order else "Образец (вымышленный заказ)"
        return {"title": title, "pages": [base64.b64encode(page).decode() for page in pages]}

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TemplateVersionUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["type", "name", "body", "css", "comment", "activate", "preview_order"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_changeform_initial_data(self, request):
        """A new version starts from the active one (or from the version named by ?from=)."""
        initial = super().get_changeform_initial_data(request)
        doc_type = request.GET.get("type")
        if doc_type in DocumentType.values:
            initial["type"] = doc_type
            versions = DocumentTemplateVersion.objects.filter(template__type=doc_type)
            start = None
            if str(request.GET.get("from", "")).isdigit():
                start = versions.filter(pk=int(request.GET["from"])).first()
            start = start or versions.filter(is_active=True).first()
            if start is not None:
                initial.update({"body": start.body, "css": start.css,
                                "comment": f"На основе версии {start.version}: "})
        return initial

    def has_delete_permission(self, request, obj=None):
        return False  # documents point at the version they were made from

    def save_model(self, request, obj, form, change):
        if change:
            return  # versions are never edited
        data = form.cleaned_data
        version = services.template_upload(
            doc_type=data["type"], body=data["body"], css=data.get("css", ""), name=data.get("name", ""),
            comment=data.get("comment", ""), activate=data.get("activate", False), actor=request.user, check=False,
        )
        obj.pk = version.pk
        obj.template = version.template
        obj.version = version.version

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description="Сделать выбранную версию активной", permissions=["change"])
    def activate_version(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Выберите ровно одну версию.", messages.ERROR)
            return
        version = services.template_version_activate(version=queryset.get(), actor=request.user)
        self.message_user(request, f"Активна {version}.", messages.SUCCESS)


# --- Documents --------------------------------------------------------------------------------------


class GenerateForm(forms.Form):
    """Several documents of one order at once. The order comes from its page (hidden); opened from the
    documents list, the manager types the order's number, never an internal id."""

    order = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = forms.CharField(label="Номер заказа", required=False, max_length=20,
                             widget=forms.TextInput(attrs={"placeholder": "2026-000123", "size": 14}))
    type = forms.MultipleChoiceField(label="Документы", choices=DocumentType.choices,
                                     widget=forms.CheckboxSelectMultiple)
    confirm = forms.BooleanField(
        label="Подтверждаю", required=False,
        help_text="Сформировать, несмотря на замечания «Нужно подтверждение» (подтверждение записывается в "
                  "документ и в историю заказа).",
    )

    def clean(self):
        from apps.orders.models import Order

        cleaned = super().clean()
        order = None
        if cleaned.get("order"):
            order = Order.objects.filter(pk=cleaned["order"]).first()
        elif cleaned.get("number"):
            number = cleaned["number"].replace(" ", "")
            year, _, serial = number.partition("-")
            if year.isdigit() and serial.isdigit():
                number = f"{year}-{int(serial):06d}"
            order = Order.objects.filter(number=number).first()
        if order is None:
            self.add_error("number", "Заказ не найден: укажите номер заказа, например 2026-000123.")
        cleaned["order_obj"] = order
        return cleaned


@admin.register(Document)
class DocumentAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ["number", "type", "order_link", "version", "status", "generated_at", "generated_by", "download"]
    list_filter = ["type", "status"]
    search_fields = ["number", "order__number"]
    list_select_related = ["order", "generated_by"]
    readonly_fields = ["type", "order", "version", "number", "file", "size", "template_version", "status",
                       "generated_by", "generated_at", "sent_at", "signed_at", "download"]
    fields = readonly_fields
    actions = ["mark_sent", "mark_signed"]
    change_list_template = "admin/documents/document/change_list.html"

    def has_add_permission(self, request):
        return False  # generated through «Сформировать документ»

    def has_delete_permission(self, request, obj=None):
        return False  # every version and its file is kept

    def get_queryset(self, request):
        return documents_visible_to(request.user).select_related("order", "generated_by")

    def get_urls(self):
        own = [
            path("generate/", self.admin_site.admin_view(self.generate_view), name="documents_document_generate"),
            path("<int:pk>/download/", self.admin_site.admin_view(self.download_view),
                 name="documents_document_download"),
        ]
        return own + super().get_urls()

    @admin.display(description="заказ")
    def order_link(self, document):
        return format_html(
            '{} (<a href="{}?order={}">ещё документ</a>)',
            document.order.number, reverse("admin:documents_document_generate"), document.order_id,
        )

    @admin.display(description="файл")
    def download(self, document):
        if not document.pk:
            return "—"
        return format_html('<a href="{}">скачать PDF</a>', reverse("admin:documents_document_download",
                                                                     args=[document.pk]))

    def download_view(self, request, pk):
        if not request.user.has_perm("documents.view_document"):
            raise PermissionDenied
        document = get_object_or_404(documents_visible_to(request.user), pk=pk)
        try:
            require_download_right(request.user, document)
        except PersonalDataForbidden as error:
            return admin_forbidden_response(request, self.admin_site, error, "Скачивание недоступно")
        url = presigned_download_url(document.file.name, filename=download_name(document),
                                     content_type="application/pdf", expire=download_ttl())
        return HttpResponseRedirect(url)

    def generate_view(self, request):
        """Opened from the order's page: tick the documents (offer, contract, invoice, act), see the
        checks of each, make them all at once and come back to the order."""
        if not request.user.has_perm("documents.add_document"):
            raise PermissionDenied
        from apps.orders.models import Order

        requested = request.GET.getlist("type") or ["invoice"]
        order = None
        if str(request.GET.get("order", "")).isdigit():
            order = Order.objects.filter(pk=int(request.GET["order"])).first()
        form = GenerateForm(request.POST or None, initial={"order": order.pk if order else None, "type": requested})
        doc_types = [t for t in requested if t in DocumentType.values]
        if request.method == "POST":
            if form.is_valid():
                order, doc_types = form.cleaned_data["order_obj"], form.cleaned_data["type"]
                if "check_only" not in request.POST and self._generate_all(request, form, order, doc_types):
                    return redirect(reverse("admin:orders_order_change", args=[order.pk]))
            else:
                order = form.cleaned_data.get("order_obj") if hasattr(form, "cleaned_data") else None
        if order is not None:
            form.fields["number"].widget = forms.HiddenInput()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Сформировать документы по заказу {order.number}" if order else "Сформировать документы",
            "form": form,
            "order": order,
            "opts": self.model._meta,
            "blocks": [self._checks_context(order, doc_type) for doc_type in doc_types] if order else [],
            "consent_url": self._consent_url(order),
        }
        response = TemplateResponse(request, "admin/documents/document/generate.html", context)
        return mark_busy(response) if getattr(form, "server_busy", False) else response

    def _generate_all(self, request, form, order, doc_types) -> bool:
        """Every ticked document in the order of the list; the ones refused are named on the form."""
        failed = False
        for doc_type in [t for t in DocumentType.values if t in doc_types]:
            try:
                with heavy_slot():  # as in the API: a PDF may not hold every web worker
                    document = services.document_generate(order=order, doc_type=doc_type, actor=request.user,
                                                          confirm=form.cleaned_data["confirm"])
            except ServerBusy as error:  # answered 503 with Retry-After (generate_view)
                form.add_error(None, f"{DocumentType(doc_type).label}: {error.detail}")
                form.server_busy = True
                failed = True
            except BusinessError as error:
                form.add_error(None, f"{DocumentType(doc_type).label}: {error.detail}")
                failed = True
            else:
                self._message_generated(request, document)
        return not failed

    @staticmethod
    def _consent_url(order) -> str:
        """The client's consent to personal data processing: a form to print and sign (apps.audit)."""
        if order is None:
            return ""
        try:
            return reverse("admin:clients_consent_pdf", args=[order.client_id])
        except NoReverseMatch:
            return ""

    @staticmethod
    def _checks_context(order, doc_type) -> dict:
        """The findings shown above the form (issue 18 point 6), each with a link to fix it."""
        if order is None or doc_type not in DocumentType.values:
            return {"checks": None}
        try:
            findings = services.generation_checks(order=order, doc_type=doc_type)
        except BusinessError as error:  # e.g. the agency requisites are not filled in at all
            return {"checks": [{"code": error.code, "level": "error", "message": error.detail,
                                "fix_url": reverse("admin:finance_agencyrequisites_changelist"),
                                "fix_label": "Заполнить реквизиты"}], "checks_for": str(order)}
        return {"checks": [f.as_dict() for f in findings],
                "checks_for": f"{DocumentType(doc_type).label}, заказ {order.number}"}

    def _message_generated(self, request, document) -> None:
        self.message_user(request, f"Сформирован документ «{document.get_type_display()}» {document.number}.",
                          messages.SUCCESS)
        for finding in document.checks:
            if finding["level"] != "error":
                self.message_user(request, finding["message"], messages.WARNING)

    def _mark(self, request, queryset, status: str):
        done = 0
        for document in queryset:
            try:
                services.document_mark(document=document, status=status, actor=request.user)
                done += 1
            except BusinessError as error:
                self.message_user(request, f"{document}: {error.detail}", messages.WARNING)
        if done:
            self.message_user(request, f"Обновлено документов: {done}.", messages.SUCCESS)

    @admin.action(description="Отметить как отправленные", permissions=["change"])
    def mark_sent(self, request, queryset):
        self._mark(request, queryset, "sent")

    @admin.action(description="Отметить как подписанные", permissions=["change"])
    def mark_signed(self, request, queryset):
        self._mark(request, queryset, "signed")
