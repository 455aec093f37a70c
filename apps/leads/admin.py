"""Leads in the admin: list with status/source filters, the client link, the conversation read-only.

Personal data is masked for staff without clients.view_personal_data. Edits and transitions go
through apps.leads.services, so the same rules hold as in the API.
"""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.accounts.selectors import managers
from apps.clients.pickers import ClientPickerAdminMixin
from apps.core.errors import BusinessError
from apps.core.masking import mask_email, mask_phone
from apps.core.middleware import russian_titles
from apps.core.paging import LargeTableAdminMixin
from apps.core.personal_data import PersonalDataForbidden, admin_forbidden_response
from apps.leads import selectors, services
from apps.leads.contacts import sender_contacts
from apps.leads.conversion import convert_lead
from apps.leads.models import OPEN_STATUSES, Lead, LeadAttachment, LeadMessage, LeadStatus, MessageDirection
from apps.leads.pagehooks import delivery_statuses, lead_page_context
from apps.leads.selectors import attachment_url

PERSONAL_DATA_PERMISSION = "clients.view_personal_data"
_current_request: ContextVar = ContextVar("lead_admin_request", default=None)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _unmasked_now() -> bool:
    request = _current_request.get()
    return request is not None and request.user.has_perm(PERSONAL_DATA_PERMISSION)


# What the customer wrote or sent (phones, passport scans, birth dates) is hidden, not masked, from
# staff without the personal-data right: a pattern-based mask misses numbers written in words.
HIDDEN = _("скрыто: нет права на персональные данные")


class LeadMessageInline(_ReadOnlyInline):
    model = LeadMessage
    fields = ("received_at", "channel", "direction", "shown_text", "delivery")
    readonly_fields = fields

    @admin.display(description=_("текст"))
    def shown_text(self, obj):
        return obj.text if _unmasked_now() else HIDDEN

    @admin.display(description=_("доставка"))
    def delivery(self, obj):
        """An outgoing message's delivery status (from the integrations, one query per page)."""
        if obj.direction != MessageDirection.OUTGOING:
            return ""
        request = _current_request.get()
        cache = getattr(request, "_lead_delivery", None) if request is not None else None
        if cache is None or cache[0] != obj.lead_id:
            cache = (obj.lead_id, delivery_statuses(obj.lead_id))
            if request is not None:
                request._lead_delivery = cache
        return cache[1].get(obj.external_id, "—")


class LeadAttachmentInline(_ReadOnlyInline):
    model = LeadAttachment
    fields = ("shown_name", "content_type", "size", "note", "download")
    readonly_fields = fields

    @admin.display(description=_("файл"))
    def shown_name(self, obj):
        return obj.name if _unmasked_now() else HIDDEN

    @admin.display(description=_("скачать"))
    def download(self, obj):
        if not obj.file or not _unmasked_now():
            return "—"
        return format_html('<a href="{}">{}</a>', attachment_url(obj), _("скачать"))


class LeadAddForm(forms.ModelForm):
    """A lead taken by phone: who called, how to reach them, what they want."""

    contact_name = forms.CharField(label=_("Имя звонившего"), max_length=200)
    contact_phone = forms.CharField(label=_("Телефон"), max_length=64, required=False)
    contact_email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    text = forms.CharField(label=_("Что хочет клиент"), widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                           required=False)

    class Meta:
        model = Lead
        fields = ["client", "operator"]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("contact_phone") or cleaned.get("contact_email") or cleaned.get("client")):
            raise ValidationError("Укажите телефон или e-mail звонившего, или выберите клиента.")
        try:  # the same normalisation the service applies: a phone it cannot read is a form error
            sender_contacts({"phone": cleaned.get("contact_phone") or "",
                             "email": cleaned.get("contact_email") or ""}, strict=True)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Причина отказа"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))


@admin.register(Lead)
class LeadAdmin(ClientPickerAdminMixin, LargeTableAdminMixin, admin.ModelAdmin):
    # Seven short columns: fits a 1366 px screen without a horizontal scroll bar.
    list_display = ("number_display", "status", "source", "sender", "client_link", "operator", "last_message_display")
    list_display_links = ("number_display",)
    list_filter = ("status", "source", "created_at")
    list_select_related = ("client", "operator", "suggested_client")
    search_fields = ("number",)
    search_help_text = _("Номер заявки, телефон, e-mail, имя отправителя или слова из сообщений "
                         "(слово можно начать: «бенч», «турци»).")
    # No date_hierarchy: its DISTINCT over every matching lead's day grew with the table; the
    # «Дата создания» filter (today / 7 days / month / year) costs no query.
    ordering = ("-created_at",)
    inlines = [LeadMessageInline, LeadAttachmentInline]
    actions = ["take_leads", "convert_leads", "reject_leads", "link_suggested_clients", "merge_into_duplicates"]
    change_form_template = "admin/leads/lead/change_form.html"
    add_fieldsets = (
        (None, {"fields": ("contact_name", ("contact_phone", "contact_email"), "text", "client", "operator")}),
    )
    fields = (
        "number", "source", "status", "external_id",
        "sender", "shown_phone", "shown_email", "shown_telegram", "shown_whatsapp",
        "client", "suggested_client_link", "possible_duplicate_link", "operator", "order", "rejection_reason",
        "created_at", "last_message_at", "closed_at",
    )
    readonly_fields = (
        "number", "source", "status", "external_id",
        "sender", "shown_phone", "shown_email", "shown_telegram", "shown_whatsapp",
        "suggested_client_link", "possible_duplicate_link",
        "order", "rejection_reason", "created_at", "last_message_at", "closed_at",
    )
    autocomplete_fields = ("client",)  # the label tells namesakes apart (apps.clients.pickers)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "operator":  # the responsible person is a manager, never an accountant
            kwargs["queryset"] = managers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _unmasked(self, request) -> bool:
        return request.user.has_perm(PERSONAL_DATA_PERMISSION)

    # The admin instance is shared by all requests: the request rides in a context variable.
    # (rendered before the variable is reset: TemplateResponse renders lazily otherwise).
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _rendered_with(request, super().changeform_view, request, object_id, form_url, extra_context)

    def _shown(self, value: str, masker) -> str:
        request = _current_request.get()
        if request is not None and self._unmasked(request):
            return value or "—"
        return masker(value) or "—"

    @admin.display(description=_("номер"), ordering="number")
    def number_display(self, obj):
        return format_html('<span style="white-space:nowrap">{}</span>', obj.number)

    @admin.display(description=_("последнее сообщение"), ordering="last_message_at")
    def last_message_display(self, obj):
        moment = obj.last_message_at or obj.created_at
        return format_html('<span style="white-space:nowrap">{}</span>',
                           timezone.localtime(moment).strftime("%d.%m %H:%M"))

    @admin.display(description=_("отправитель"))
    def sender(self, obj):
        return obj.contact_name or "—"

    @admin.display(description=_("телефон"))
    def shown_phone(self, obj):
        return self._shown(obj.contact_phone, mask_phone)

    @admin.display(description=_("e-mail"))
    def shown_email(self, obj):
        return self._shown(obj.contact_email, mask_email)

    @admin.display(description=_("Telegram"))
    def shown_telegram(self, obj):
        return self._shown(obj.contact_telegram, lambda value: (value[:2] + "***") if value else "")

    @admin.display(description=_("WhatsApp"))
    def shown_whatsapp(self, obj):
        return self._shown(obj.contact_whatsapp, mask_phone)

    @admin.display(description=_("клиент"), ordering="client__last_name")
    def client_link(self, obj):
        if obj.client_id is None:
            return "—"
        try:
            url = reverse("admin:clients_client_change", args=[obj.client_id])
        except NoReverseMatch:  # the client admin is not registered
            return obj.client.full_name
        return format_html('<a href="{}">{}</a>', url, obj.client.full_name)

    @admin.display(description=_("возможно, это клиент"))
    def suggested_client_link(self, obj):
        if obj.suggested_client_id is None:
            return "—"
        return format_html(
            "{} {}<br><small>{}</small>",
            _admin_link("admin:clients_client_change", obj.suggested_client_id, obj.suggested_client.full_name),
            self._suggestion_button("admin:leads_lead_link_client", obj, _("Привязать этого клиента")),
            _("Телефон или e-mail указал сам отправитель (не подтверждены): проверьте, прежде чем привязать."),
        )

    def _suggestion_button(self, view_name: str, lead, label: str):
        """A submit button of the change form that posts to the suggestion's own URL (formaction):
        one click after a look, with the form's CSRF token, without a nested form. Only for open
        leads and for staff who may change them."""
        request = _current_request.get()
        if not lead.is_open or request is None or not self.has_change_permission(request, lead):
            return ""
        return format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate '
            'style="margin-left:8px;padding:4px 10px">{}</button>',
            reverse(view_name, args=[lead.pk]),
            label,
        )

    @admin.display(description=_("возможно, дубль заявки"))
    def possible_duplicate_link(self, obj):
        if obj.possible_duplicate_of_id is None:
            return "—"
        return format_html(
            "{} {}<br><small>{}</small>",
            _admin_link("admin:leads_lead_change", obj.possible_duplicate_of_id, obj.possible_duplicate_of.number),
            self._suggestion_button("admin:leads_lead_merge_into", obj,
                                    _("Объединить с %(number)s") % {"number": obj.possible_duplicate_of.number}),
            _("Открытая заявка с теми же контактами. Если это тот же человек, сообщения и файлы этой "
              "заявки перейдут туда, а эта будет закрыта."),
        )

    # --- adding a lead by hand (a phone call) -----------------------------------------------------

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = LeadAddForm
            kwargs["fields"] = ["client", "operator"]
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def get_changeform_initial_data(self, request):
        return {"operator": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        # The newest SEARCH_CAP matches only (a word that matches every lead must not count and sort
        # them all); more than that: a notice to narrow the search.
        cap = selectors.SEARCH_CAP
        ids, more = selectors.lead_search_newest(queryset, term, personal_data=self._unmasked(request), cap=cap)
        if more:
            self.message_user(request, _("Найдено больше %(cap)s заявок — показаны %(cap)s самых новых. "
                                         "Уточните поиск.") % {"cap": cap}, messages.INFO)
        return queryset.filter(pk__in=ids), False

    def changelist_view(self, request, extra_context=None):
        # A phone / e-mail search by a role without the personal-data right: 403 with the reason.
        try:
            return _rendered_with(request, super().changelist_view, request, extra_context)
        except PersonalDataForbidden as error:
            return admin_forbidden_response(request, self.admin_site, error, "Поиск недоступен")

    def save_model(self, request, obj, form, change):
        if not change:
            data = {key: form.cleaned_data.get(key) for key in
                    ("contact_name", "contact_phone", "contact_email", "text", "client", "operator")}
            created = services.lead_create_manual(data=data, actor=request.user)
            obj.pk, obj.number = created.pk, created.number
            obj._state.adding = False
            return
        data = {name: form.cleaned_data[name] for name in ("client", "operator") if name in form.changed_data}
        try:
            services.lead_update(lead=obj, data=data, actor=request.user)
        except (BusinessError, ValidationError) as error:
            self.message_user(request, _message(error), messages.ERROR)

    def delete_model(self, request, obj):
        services.lead_delete(lead=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for lead in queryset:
            services.lead_delete(lead=lead, actor=request.user)

    @admin.action(description=_("Взять в работу"), permissions=["change"])
    def take_leads(self, request, queryset):
        taken = 0
        for lead in queryset:
            try:
                services.lead_take(lead=lead, actor=request.user)
                taken += 1
            except BusinessError as error:
                self.message_user(request, f"{lead.number}: {error.detail}", messages.WARNING)
        if taken:
            self.message_user(request, _("Взято в работу: %(count)s") % {"count": taken}, messages.SUCCESS)


    @admin.action(description=_("Преобразовать в заказ"), permissions=["change"])
    def convert_leads(self, request, queryset):
        orders = []
        for lead in queryset.order_by("pk"):
            try:
                orders.append(convert_lead(lead=lead, actor=request.user))
            except (BusinessError, ValidationError) as error:
                self.message_user(request, f"{lead.number}: {_message(error)}", messages.WARNING)
        if len(orders) == 1:
            self.message_user(request, f"Создан заказ {orders[0].number}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[orders[0].pk]))
        if orders:
            numbers = ", ".join(order.number for order in orders)
            self.message_user(request, f"Создано заказов: {len(orders)} ({numbers}).", messages.SUCCESS)
        return None

    @admin.action(description=_("Отклонить (с причиной)…"), permissions=["change"])
    def reject_leads(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(reverse("admin:leads_lead_reject") + f"?ids={ids}")

    # --- the buttons on the lead's page ---------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/take/", wrap(self.take_view), name="leads_lead_take"),
            path("<int:pk>/convert/", wrap(self.convert_view), name="leads_lead_convert"),
            path("reject/", wrap(self.reject_view), name="leads_lead_reject"),
            path("<int:pk>/link-client/", wrap(self.link_client_view), name="leads_lead_link_client"),
            path("<int:pk>/merge-into/", wrap(self.merge_into_view), name="leads_lead_merge_into"),
            *super().get_urls(),
        ]

    def _lead_for_change(self, request, pk) -> Lead:
        lead = get_object_or_404(Lead, pk=pk)
        if not self.has_change_permission(request, lead):
            raise PermissionDenied
        return lead

    def _back(self, lead):
        return HttpResponseRedirect(reverse("admin:leads_lead_change", args=[lead.pk]))

    def take_view(self, request, pk):
        lead = self._lead_for_change(request, pk)
        if request.method == "POST":
            try:
                services.lead_take(lead=lead, actor=request.user)
                self.message_user(request, f"Заявка {lead.number} в работе.", messages.SUCCESS)
            except BusinessError as error:
                self.message_user(request, error.detail, messages.WARNING)
        return self._back(lead)

    def link_client_view(self, request, pk):
        """The button next to «возможно, это клиент» (POST only)."""
        lead = self._lead_for_change(request, pk)
        if request.method == "POST":
            try:
                lead = services.lead_link_client(lead=lead, actor=request.user)
                self.message_user(request, f"Клиент привязан к заявке {lead.number}.", messages.SUCCESS)
            except (BusinessError, ValidationError) as error:
                self.message_user(request, _message(error), messages.WARNING)
        return self._back(lead)

    def merge_into_view(self, request, pk):
        """The button next to «возможно, дубль заявки» (POST only): on success, off to the merged lead."""
        lead = self._lead_for_change(request, pk)
        if request.method != "POST":
            return self._back(lead)
        try:
            target = services.lead_merge_into(lead=lead, actor=request.user)
        except (BusinessError, ValidationError) as error:
            self.message_user(request, _message(error), messages.WARNING)
            return self._back(lead)
        self.message_user(request, f"Заявка {lead.number} объединена с {target.number}.", messages.SUCCESS)
        return self._back(target)

    def convert_view(self, request, pk):
        lead = self._lead_for_change(request, pk)
        if request.method != "POST":
            return self._back(lead)
        try:
            order = convert_lead(lead=lead, actor=request.user)
        except (BusinessError, ValidationError) as error:
            self.message_user(request, f"Не удалось преобразовать: {_message(error)}", messages.ERROR)
            return self._back(lead)
        self.message_user(request, f"Создан заказ {order.number} из заявки {lead.number}. Добавьте услуги.",
                          messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def reject_view(self, request):
        """Rejecting needs a reason: one small form for the page's button and the list action."""
        raw_ids = request.POST.get("ids") or request.GET.get("ids") or ""
        ids = [int(part) for part in raw_ids.split(",") if part.strip().isdigit()][:500]
        leads = [lead for lead in Lead.objects.filter(pk__in=ids).order_by("pk")
                 if self.has_change_permission(request, lead)]
        if not leads:
            self.message_user(request, "Не выбрано ни одной заявки.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:leads_lead_changelist"))
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            rejected = 0
            for lead in leads:
                try:
                    services.lead_reject(lead=lead, reason=form.cleaned_data["reason"], actor=request.user)
                    rejected += 1
                except BusinessError as error:
                    self.message_user(request, f"{lead.number}: {error.detail}", messages.WARNING)
            if rejected:
                self.message_user(request, f"Отклонено заявок: {rejected}.", messages.SUCCESS)
            if len(leads) == 1:
                return self._back(leads[0])
            return HttpResponseRedirect(reverse("admin:leads_lead_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Отклонить заявку" if len(leads) == 1 else f"Отклонить заявки ({len(leads)})",
            "opts": self.opts,
            "leads": leads,
            "ids": ",".join(str(lead.pk) for lead in leads),
            "form": form,
        }
        return TemplateResponse(request, "admin/leads/lead/reject.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["lead_actions"] = {
                "take": obj.status == LeadStatus.NEW,
                "convert": obj.status in OPEN_STATUSES,
                "reject": obj.status in OPEN_STATUSES,
                "order_url": reverse("admin:orders_order_change", args=[obj.order_id]) if obj.order_id else "",
            }
            context.update(lead_page_context(obj, request))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.action(description=_("Привязать предложенного клиента"), permissions=["change"])
    def link_suggested_clients(self, request, queryset):
        self._each(request, queryset, services.lead_link_client, _("Клиент привязан: %(count)s"))

    @admin.action(description=_("Объединить с возможным дублем"), permissions=["change"])
    def merge_into_duplicates(self, request, queryset):
        self._each(request, queryset, services.lead_merge_into, _("Объединено заявок: %(count)s"))

    def _each(self, request, queryset, service, done_message) -> None:
        done = 0
        for lead in queryset.order_by("pk"):
            try:
                service(lead=lead, actor=request.user)
                done += 1
            except (BusinessError, ValidationError) as error:
                self.message_user(request, f"{lead.number}: {_message(error)}", messages.WARNING)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)


def _admin_link(view_name: str, pk, label: str):
    try:
        return format_html('<a href="{}">{}</a>', reverse(view_name, args=[pk]), label)
    except NoReverseMatch:  # that admin is not registered
        return label


def _rendered_with(request, view, *args):
    token = _current_request.set(request)
    try:
        response = view(*args)
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            russian_titles(request, response)
            response.render()
        return response
    finally:
        _current_request.reset(token)


def _message(error) -> str:
    if isinstance(error, BusinessError):
        return error.detail
    return "; ".join(error.messages)
