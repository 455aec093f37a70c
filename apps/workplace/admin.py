"""Reminders in the admin, the «Сегодня» home page and the search box's results page."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.accounts.selectors import managers
from apps.clients.models import Client
from apps.clients.pickers import ClientPickerAdminMixin
from apps.clients.selectors import client_labels
from apps.core.errors import BusinessError
from apps.workplace import selectors, services
from apps.workplace.models import Reminder


class DoneFilter(admin.SimpleListFilter):
    title = _("состояние")
    parameter_name = "done"

    def lookups(self, request, model_admin):
        return [("open", _("Открытые")), ("done", _("Выполненные"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


class ReminderForm(forms.ModelForm):
    class Meta:
        model = Reminder
        fields = ["text", "due_at", "owner", "lead", "client", "order"]
        widgets = {"text": forms.TextInput(attrs={"size": 80})}


@admin.register(Reminder)
class ReminderAdmin(ClientPickerAdminMixin, admin.ModelAdmin):
    form = ReminderForm
    list_display = ("text", "due_display", "target", "owner", "done_at")
    list_filter = (DoneFilter, "due_at")
    list_select_related = ("owner", "lead", "client", "order")
    search_fields = ("text",)
    raw_id_fields = ("lead", "client", "order")
    actions = ["close_reminders"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or request.user.role == "supervisor":
            return queryset
        return queryset.filter(owner=request.user)

    def get_changeform_initial_data(self, request):
        initial = {"owner": request.user.pk, "due_at": timezone.localtime().replace(hour=10, minute=0, second=0)}
        initial["due_at"] += timezone.timedelta(days=1)
        return {**initial, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = managers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        close = path("<int:pk>/close/", self.admin_site.admin_view(self.close_view), name="workplace_reminder_close")
        return [close, *super().get_urls()]

    @admin.display(description=_("когда"), ordering="due_at")
    def due_display(self, obj):
        text = timezone.localtime(obj.due_at).strftime("%d.%m.%Y %H:%M")
        if obj.done_at is None and obj.due_at < timezone.now():
            return format_html('<b style="color:#ba2121">{}</b>', text)
        return text

    @admin.display(description=_("к чему"))
    def target(self, obj):
        label, url = selectors._reminder_target(obj)
        return format_html('<a href="{}">{}</a>', url, label) if url else "—"

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data.get(key) for key in services.REMINDER_FIELDS if key in form.cleaned_data}
        if change:
            services.reminder_update(reminder=obj, data=data, actor=request.user)
        else:
            obj.pk = services.reminder_create(data=data, actor=request.user).pk

    @admin.action(description=_("Отметить выполненными"), permissions=["change"])
    def close_reminders(self, request, queryset):
        closed = 0
        for reminder in queryset.filter(done_at__isnull=True):
            services.reminder_close(reminder=reminder, actor=request.user)
            closed += 1
        self.message_user(request, f"Закрыто напоминаний: {closed}.", messages.SUCCESS)

    def close_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:index"))
        reminder = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, reminder):
            raise PermissionDenied
        try:
            services.reminder_close(reminder=reminder, actor=request.user)
            self.message_user(request, f"Выполнено: «{reminder.text}».", messages.SUCCESS)
        except BusinessError as error:
            self.message_user(request, error.detail, messages.WARNING)
        return HttpResponseRedirect(request.POST.get("next") or reverse("admin:index"))


def today_view(request):
    """«Сегодня»: the home page of the admin, by role (the app list stays in the side column)."""
    context = {
        **admin.site.each_context(request),
        "title": "Сегодня",
        "sections": selectors.today_sections(request.user),
        "app_list": admin.site.get_app_list(request),
        "today": timezone.localdate(),
    }
    return TemplateResponse(request, "workplace/today.html", context)


def search_view(request):
    term = request.GET.get("q", "").strip()
    result = selectors.search(term, request.user)
    rows = result.all_rows
    if len(rows) == 1:
        return HttpResponseRedirect(rows[0].url)
    context = {
        **admin.site.each_context(request),
        "title": f"Поиск: {term}" if term else "Поиск",
        "term": term,
        "result": result,
        "found": bool(rows),
    }
    return TemplateResponse(request, "workplace/search.html", context)


def lead_reply_view(request, pk):
    """POST from the reply box on the lead's page: enqueue the reply, back to the lead."""
    from apps.leads.models import Lead
    from apps.workplace import replies

    lead = get_object_or_404(Lead, pk=pk)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:leads_lead_change", args=[pk]))
    if not request.user.has_perm("leads.change_lead"):
        raise PermissionDenied
    try:
        if request.POST.get("resend"):
            replies.reply_resend(lead=lead, message_id=int(request.POST["resend"]) if
                                 request.POST["resend"].isdigit() else 0, actor=request.user)
            messages.success(request, "Сообщение снова поставлено в очередь на отправку.")
        else:
            replies.lead_reply(lead=lead, text=request.POST.get("text", ""),
                               token=request.POST.get("token") or replies.new_reply_token(), actor=request.user,
                               files=request.FILES.getlist("files"), document_ids=request.POST.getlist("documents"))
            messages.success(request, "Ответ поставлен в очередь на отправку; статус — в блоке «Ответ клиенту».")
    except BusinessError as error:
        messages.error(request, error.detail)
    return HttpResponseRedirect(reverse("admin:leads_lead_change", args=[pk]) + "#reply")


def lead_page_reply_context(lead, request) -> dict:
    """The reply box of the lead's page: the channel's problem (if any), a one-time token, the
    outgoing messages with their delivery status."""
    from apps.workplace import replies

    if request is None or not request.user.has_perm("leads.change_lead"):
        return {}
    return {
        "reply": {
            "url": reverse("workplace-lead-reply", args=[lead.pk]),
            "problem": replies.reply_channel_problem(lead),
            "token": replies.new_reply_token(),
            "channel": lead.get_source_display(),
            "outbound": replies.lead_outbound(lead),
            "documents": replies.reply_documents(lead, request.user),
            "max_files": replies.MAX_FILES,
        }
    }


class ClientAwareAutocompleteView(AutocompleteJsonView):
    """The admin's autocomplete (every client picker): namesakes told apart by birth year and masked
    phone («Иванов Иван, 1985 г. р., +7 *** ***-45-67»); one extra query per page for the phones."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        objects = list(context["object_list"])
        self.labels = client_labels(objects) if objects and isinstance(objects[0], Client) else {}
        return context

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if obj.pk in getattr(self, "labels", {}):
            result["text"] = self.labels[obj.pk]
        return result


def autocomplete_view(request):
    return ClientAwareAutocompleteView.as_view(admin_site=admin.site)(request)
