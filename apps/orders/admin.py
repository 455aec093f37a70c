"""The operator's workplace: orders with their services inline, suppliers. Saves go through services.

Service inline: common fields plus the chosen type's details as real fields («Детали: Авиабилет»:
перевозчик, номер рейса, PNR …; static/orders/service_inline.js shows the chosen type's only),
validated by apps.orders.details as in the API. Times are entered and shown in the service's own
zones: departure and, for transport, arrival (a flight's from its airports' IATA codes). Before
anything is saved, the whole formset is checked by the same apps.orders.checks.evaluate the API
uses, so a conflicting service is refused with the same message.
"""

import dataclasses
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionMixin

from apps.accounts.selectors import managers
from apps.clients.models import Client
from apps.clients.pickers import ClientPickerAdminMixin, picker_queryset
from apps.core.errors import BusinessError
from apps.core.exports import ExcelExportAdminMixin
from apps.core.forms import FastFormRenderer, RuDecimalField
from apps.core.numbers import format_money
from apps.core.paging import LargeTableAdminMixin
from apps.orders import checks, sanity, services
from apps.orders.details import CHOICE_LABELS, SCHEMAS
from apps.orders.exports import OrderResource
from apps.orders.models import (
    SETTLED_STATUSES,
    TRANSPORT_TYPES,
    Order,
    OrderEvent,
    Service,
    ServiceType,
    Supplier,
    known_timezones,
    validate_timezone,
)
from apps.orders.zones import DATALIST_ID, airport_zone, parse_zone, zone_datalist, zone_label

COMMON_TIMEZONES = [
    "Europe/Moscow",
    "Europe/Kaliningrad",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Vladivostok",
    "Asia/Kamchatka",
    "Europe/Minsk",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Africa/Cairo",
    "Asia/Tbilisi",
    "Asia/Yerevan",
    "Asia/Baku",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Shanghai",
    "Asia/Makassar",
    "Indian/Maldives",
    "Asia/Colombo",
    "Asia/Kolkata",
    "Europe/Belgrade",
    "Asia/Nicosia",
    "Europe/Rome",
    "Europe/Paris",
    "Europe/London",
    "UTC",
]


def _client_admin_searchable() -> bool:
    model_admin = admin.site._registry.get(Client)
    return bool(model_admin and model_admin.search_fields)


# --- Suppliers -------------------------------------------------------------------------------------


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "inn", "registry_number", "security_valid_until", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "inn", "registry_number")
    fieldsets = (
        (None, {"fields": ("name", "kind", "inn", "legal_name", "address", "contacts", "notes")}),
        (
            _("Туроператор: реестр и финансовое обеспечение (печатаются в договоре)"),
            {
                "fields": (
                    "registry_number",
                    ("security_kind", "security_amount"),
                    ("security_provider", "security_number"),
                    ("security_valid_from", "security_valid_until"),
                )
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data[key] for key in services.SUPPLIER_FIELDS if key in form.cleaned_data}
        if change:
            services.supplier_update(supplier=obj, data=data, actor=request.user)
        else:
            obj.pk = services.supplier_create(data=data, actor=request.user).pk
            obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.services.exists():
            return False
        return super().has_delete_permission(request, obj)


# --- Services inline -------------------------------------------------------------------------------


def detail_field_name(service_type: str, key: str) -> str:
    """The form field of one detail of one type: «flight__carrier», «hotel__meals»…"""
    return f"{service_type}__{key}"


def _detail_form_field(spec) -> forms.Field:
    if spec.choices:
        choices = [("", "—"), *((code, CHOICE_LABELS.get(code, code)) for code in spec.choices)]
        return forms.ChoiceField(label=spec.label, choices=choices, required=False)
    if spec.max_length > 200:
        widget = forms.Textarea(attrs={"rows": 2, "cols": 60})
        return forms.CharField(label=spec.label, max_length=spec.max_length, required=False, widget=widget)
    size = 12 if spec.max_length <= 20 else 30
    return forms.CharField(label=spec.label, max_length=spec.max_length, required=False,
                           widget=forms.TextInput(attrs={"size": size}))


def _details_fields() -> dict[str, forms.Field]:
    """Every type's details as real fields; «*» marks the ones the type requires (checked by
    apps.orders.details.clean_details, as in the API). The script shows the chosen type's only."""
    fields = {}
    for service_type, schema in SCHEMAS.items():
        for key, spec in schema.items():
            field = _detail_form_field(spec)
            if spec.required:
                field.label = f"{spec.label} *"
            fields[detail_field_name(service_type, key)] = field
    return fields


LOCAL_FORMAT = "%d.%m.%Y %H:%M"


def _local_datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[LOCAL_FORMAT, "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(format=LOCAL_FORMAT, attrs={"size": 16, "placeholder": "ДД.ММ.ГГГГ ЧЧ:ММ"}),
        help_text=_("Местное время места услуги."),
    )


class ZoneInput(forms.TextInput):
    """A zone box tied to the page's one list of every zone (apps.orders.zones.zone_datalist, written
    once by the order's change form): a stored zone is shown as the list names it, in Russian."""

    def __init__(self, attrs=None):
        super().__init__({"list": DATALIST_ID, "size": 44, "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if value and value in known_timezones():
            return zone_label(value)
        return super().format_value(value)


class ZoneField(forms.CharField):
    """A time zone as picked from the list, an IANA name or a Russian city name; empty: «Авто»."""

    widget = ZoneInput

    def to_python(self, value):
        text = super().to_python(value)
        zone = parse_zone(text, tuple(COMMON_TIMEZONES))
        if zone is None:
            raise ValidationError(
                _("Неизвестный часовой пояс «%(value)s»: выберите из списка или введите, например, Europe/Istanbul."),
                code="timezone", params={"value": text},
            )
        return zone

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or "")
        except ValidationError:
            return True


class KnownTravellersAutocomplete(admin_widgets.AutocompleteSelectMultiple):
    """The travellers picker of a saved service row: the chosen clients are the row's prefetched
    ones (picker_queryset: the label with birth year and masked phone) instead of one query per row."""

    known: dict | None = None

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if self.known is None or not selected <= self.known.keys():
            return super().optgroups(name, value, attr)
        label = self.choices.field.label_from_instance
        chosen = [client for key, client in self.known.items() if key in selected]
        return [(None, [self.create_option(name, client.pk, label(client), selected, index)
                        for index, client in enumerate(chosen)], 0)]


class _ServiceFormBase(forms.ModelForm):
    start_dt = _local_datetime_field(_("Начало"))
    end_dt = _local_datetime_field(_("Окончание"))
    timezone = ZoneField(label=_("Часовой пояс отправления / места"), required=False,
                         widget=ZoneInput({"placeholder": "Авто: по аэропорту отправления (IATA), иначе Москва"}))
    end_timezone = ZoneField(label=_("Часовой пояс прибытия"), required=False,
                             widget=ZoneInput({"placeholder": "Авто: по аэропорту прибытия, иначе как отправление"}))
    rate = RuDecimalField(
        label=_("Курс к валюте заказа"),
        max_digits=18,
        decimal_places=8,
        required=False,
        help_text=_("Пусто — курс ЦБ на дату услуги; для будущей даты — последний известный курс ЦБ "
                    "(ориентировочно, точный зафиксирует оплата)."),
    )
    cost_rate = RuDecimalField(
        label=_("Курс нетто к валюте заказа"),
        max_digits=18,
        decimal_places=8,
        required=False,
        help_text=_("Пусто — курс услуги (та же валюта) или курс из справочника."),
    )

    class Meta:
        model = Service
        fields = [
            "type",
            "status",
            "start_dt",
            "end_dt",
            "timezone",
            "end_timezone",
            "origin",
            "destination",
            "city",
            "address",
            "supplier",
            "travellers",
            "price",
            "currency",
            "rate",
            "commission",
            "commission_percent",
            "cost",
            "cost_currency",
            "cost_rate",
            "cost_due_date",
            "offer_option",
            "alternative_of",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Empty net cost: an agent sale, its currency is the service's (the services set it).
        self.fields["cost_currency"].required = False
        # Every IANA zone, named in Russian, from the page's one list; the agency's usual ones first.
        # Empty («Авто»): a flight's zones come from its airports' IATA codes (zones.airport_zone).
        # Details: the row's own type's fields only; the empty row (the template of «Добавить ещё»)
        # carries every type's, once per page (static/orders/service_inline.js copies a type's
        # fields from it when a saved row's type is changed).
        travellers = self.fields.get("travellers")
        picker = getattr(travellers.widget, "widget", None) if travellers is not None else None
        if isinstance(picker, KnownTravellersAutocomplete) and self.instance.pk:
            picker.known = {str(client.pk): client for client in self.instance.travellers.all()}  # prefetched
        row_type = self._row_type()
        if row_type is not None:
            for service_type, schema in SCHEMAS.items():
                if service_type != row_type:
                    for key in schema:
                        del self.fields[detail_field_name(service_type, key)]
        self.fields["timezone"].initial = self.instance.timezone if self.instance.pk else ""
        self.fields["end_timezone"].initial = self.instance.end_timezone if self.instance.pk else ""
        if self.instance.pk:
            zones_of = {"start_dt": self.instance.timezone, "end_dt": self.instance.arrival_timezone}
            for name, zone in zones_of.items():
                self.initial[name] = getattr(self.instance, name).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            for key, value in (self.instance.details or {}).items():
                self.initial[detail_field_name(self.instance.type, key)] = value
            if self.instance.rate_is_estimate:
                self.fields["rate"].help_text = format_html(
                    '<b style="color:#b26a00">{}</b>',
                    "Ориентировочный курс: последний известный курс ЦБ (услуга в будущем). "
                    "Точный курс зафиксирует оплата; можно ввести свой.",
                )

    def _row_type(self) -> str | None:
        """The type whose details this row shows; None for the empty row (every type's)."""
        if "__prefix__" in (self.prefix or ""):
            return None
        if self.is_bound:
            return self.data.get(self.add_prefix("type")) or ""
        if self.instance.pk:
            return self.instance.type
        return self.initial.get("type") or ""

    def clean_timezone(self):
        value = self.cleaned_data["timezone"]
        if value:
            validate_timezone(value)
        return value

    def clean_end_timezone(self):
        value = self.cleaned_data["end_timezone"]
        if value:
            validate_timezone(value)
        return value

    def clean(self):
        cleaned = super().clean()
        departure, arrival = self._zones(cleaned)
        cleaned["timezone"] = departure
        cleaned["end_timezone"] = arrival if cleaned.get("type") in TRANSPORT_TYPES else ""
        for name, zone in (("start_dt", departure), ("end_dt", arrival)):
            value = cleaned.get(name)
            if value is not None:  # entered in the place's zone, parsed by Django in Moscow time
                cleaned[name] = timezone.make_naive(value).replace(tzinfo=ZoneInfo(zone))
        return cleaned

    @staticmethod
    def _zones(cleaned) -> tuple[str, str]:
        """Departure and arrival zones: as chosen, else a flight's airports' (by IATA code), else
        Moscow for the departure and the departure's for the arrival."""
        flight = cleaned.get("type") == ServiceType.FLIGHT
        departure = cleaned.get("timezone") or (flight and airport_zone(cleaned.get("origin", ""))) or "Europe/Moscow"
        if cleaned.get("type") not in TRANSPORT_TYPES:
            return departure, departure
        arrival = cleaned.get("end_timezone") or (flight and airport_zone(cleaned.get("destination", ""))) or departure
        return departure, arrival

    def service_data(self) -> dict:
        data = {key: self.cleaned_data.get(key) for key in services.SERVICE_FIELDS if key in self.cleaned_data}
        service_type = self.cleaned_data.get("type")
        data["details"] = {
            key: value
            for key in SCHEMAS.get(service_type, {})
            if (value := (self.cleaned_data.get(detail_field_name(service_type, key)) or "").strip())
        }
        data["alternative_of"] = self.cleaned_data.get("alternative_of")
        return data


# The details fields are declared (the admin builds the inline's form from the fieldsets' names).
ServiceForm = type("ServiceForm", (_ServiceFormBase,), {"__module__": __name__, **_details_fields()})


FAST_RENDERER = FastFormRenderer()


class ServiceFormSet(forms.BaseInlineFormSet):
    """Validates every service through the services' rules, then the whole set through the checks."""

    def __init__(self, *args, order_form=None, **kwargs):
        self.order_form = order_form
        # ~200 fields per page: labels, inputs and options without the template engine, whatever
        # settings.FORM_RENDERER says (the rows and the empty row take the formset's renderer).
        self.renderer = FAST_RENDERER
        super().__init__(*args, **kwargs)

    def _order_facts(self):
        order_form = self.order_form
        cleaned = getattr(order_form, "cleaned_data", {}) if order_form is not None else {}
        currency = cleaned.get("currency") or self.instance.currency or "RUB"
        if "travellers" in cleaned:
            traveller_ids = {client.pk for client in cleaned["travellers"]}
        elif self.instance.pk:
            traveller_ids = set(self.instance.travellers.values_list("id", flat=True))
        else:
            traveller_ids = set()
        return currency, traveller_ids

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if self.instance.pk and self.instance.status in services.CLOSED_STATUSES and self._edits_services():
            label = self.instance.get_status_display()
            raise ValidationError(f"Заказ в статусе «{label}»: услуги менять нельзя.")
        currency, order_traveller_ids = self._order_facts()
        probe_order = Order(currency=currency)
        states = []
        for index, form in enumerate(self.forms):
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            probe = Service(pk=form.instance.pk, rate=form.instance.rate or 1, cost_rate=form.instance.cost_rate or 1)
            try:
                services._apply_service_data(probe, probe_order, form.service_data())
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    if field.startswith("details."):  # «details.flight_number» -> «flight__flight_number»
                        field = detail_field_name(form.cleaned_data.get("type"), field.split(".", 1)[1])
                    form.add_error(field if field in form.fields else None, messages_)
                continue
            except BusinessError as error:
                form.add_error(None, error.detail)
                continue
            form.probe = probe
            traveller_ids = {c.pk for c in form.cleaned_data.get("travellers") or []} or order_traveller_ids
            state = checks.ServiceState.from_service(probe, traveller_ids)
            states.append(dataclasses.replace(state, id=probe.pk or -1 - index))
        if any(self.errors):
            return
        self._confirm_plausibility(currency)
        order_state = checks.OrderState(traveller_ids=frozenset(order_traveller_ids))
        result = checks.evaluate(order_state, states)
        for issue in result.errors:
            for service_id in issue.service_ids:
                form = self._form_for(service_id)
                if form is not None:
                    form.add_error(None, issue.message)
        if result.errors:
            raise ValidationError(result.errors[0].message)

    def _plausibility_warnings(self, currency: str) -> list[str]:
        """A rate far from the bank's rate of the day, a total that jumps tenfold: likely typos."""
        found, new_total = [], Decimal(0)
        today = timezone.localdate()
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            probe = getattr(form, "probe", None)  # set by clean() for new and changed rows
            service = probe or form.instance
            if service.pk is None and probe is None:
                continue  # an untouched extra row
            if service.status != "cancelled":
                new_total += service.price_in_order_currency or 0
            rate_edited = probe is not None and ({"rate", "currency"} & set(form.changed_data) or not form.instance.pk)
            warning = rate_edited and sanity.rate_warning(
                currency_from=service.currency, currency_to=currency, rate=service.rate, on_date=today
            )
            if warning:
                found.append(warning)
        jump = sanity.total_jump_warning(
            old_total=self.instance.total_amount if self.instance.pk else Decimal(0),
            new_total=new_total,
            currency=currency,
        )
        return [*found, jump] if jump else found

    def _confirm_plausibility(self, currency: str) -> None:
        warnings = self._plausibility_warnings(currency)
        confirmed = bool(getattr(self.order_form, "cleaned_data", {}).get("confirm_warnings"))
        if warnings and not confirmed:
            ask = "Проверьте цифры. Если всё верно, отметьте «Подтверждаю» в блоке «Заказ» и сохраните ещё раз."
            raise ValidationError(
                [*warnings, ask],
                code="confirm_needed",
            )

    def _edits_services(self) -> bool:
        return any(
            (self.can_delete and self._should_delete_form(form)) or form.has_changed() for form in self.forms
        )

    def _form_for(self, service_id):
        for index, form in enumerate(self.forms):
            if (form.instance.pk or -1 - index) == service_id:
                return form
        return None


class ServiceAdminFormSet(helpers.InlineAdminFormSet):
    """The services inline as the admin renders it, each row with the fieldsets of the fields its
    form has: a saved row shows its own type's details only (not five types' ~20 fields, which made
    the order page's rendering grow by ~45 widgets per service)."""

    def __iter__(self):
        for admin_form in super().__iter__():
            present = admin_form.form.fields
            admin_form.fieldsets = [
                fieldset for fieldset in self.fieldsets
                if all(name in present for name in flatten_fieldsets([fieldset]))
            ]
            yield admin_form


class ServiceInline(ClientPickerAdminMixin, admin.StackedInline):
    model = Service
    template = "admin/orders/order/services_stacked.html"  # the fieldsets written in Python (same HTML)
    form = ServiceForm
    formset = ServiceFormSet
    extra = 0
    show_change_link = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("type", "status", "supplier"),
                    ("start_dt", "timezone"),
                    ("end_dt", "end_timezone"),
                    ("origin", "destination", "city", "address"),
                    "travellers",
                    ("price", "currency", "rate"),
                    ("commission", "commission_percent"),
                    ("cost", "cost_currency", "cost_rate", "cost_due_date"),
                    ("offer_option", "alternative_of"),
                )
            },
        ),
        *(
            (
                _("Детали: %(type)s") % {"type": label},
                {
                    "fields": (tuple(detail_field_name(service_type, key) for key in SCHEMAS[service_type]),),
                    "classes": ("service-details", f"service-details-{service_type}"),
                },
            )
            for service_type, label in ServiceType.choices
        ),
    )

    # An alternative names another service of this order by id (a select would list every service).
    raw_id_fields = ("alternative_of",)

    class Media:
        js = ("orders/service_inline.js",)

    def get_autocomplete_fields(self, request):
        return ("travellers", "supplier") if _client_admin_searchable() else ("supplier",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        picker = getattr(formfield.widget, "widget", formfield.widget) if formfield is not None else None
        if db_field.name == "travellers" and type(picker) is admin_widgets.AutocompleteSelectMultiple:
            picker.__class__ = KnownTravellersAutocomplete
        return formfield

    def get_queryset(self, request):
        travellers = Prefetch("travellers", queryset=picker_queryset())  # the pickers' labels, one query
        return super().get_queryset(request).select_related("supplier").prefetch_related(travellers)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind_display", "title", "actor")
    readonly_fields = fields
    ordering = ("-occurred_at",)
    verbose_name_plural = _("хронология заказа")
    classes = ("collapse",)

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("вид"))
    def kind_display(self, obj):
        return obj.kind_label


# --- Orders ----------------------------------------------------------------------------------------


class PaidOverrideForm(forms.Form):
    reason = forms.CharField(label=_("Причина"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                             help_text=_("Например: «оплата наличными в офисе, квитанция у бухгалтера»."))


class OrderForm(forms.ModelForm):
    default_renderer = FAST_RENDERER
    confirm_warnings = forms.BooleanField(
        label=_("Подтверждаю"),
        required=False,
        help_text=_("Отметьте, если система предупредила о необычном курсе или сумме, а всё верно."),
    )

    class Meta:
        model = Order
        fields = ["client", "travellers", "currency", "deadline", "offer_valid_until", "operator", "notes"]

    def clean_currency(self):
        currency = self.cleaned_data["currency"]
        order = self.instance
        if order.pk and currency != order.currency and order.services.exists():
            raise ValidationError("Валюту заказа нельзя менять, когда в нём есть услуги.")
        return currency


def _money_display(name: str):
    """A read-only «1 234,56 ₽» display of an order's money field, labelled as the field is."""

    def display(modeladmin, obj):
        return format_money(getattr(obj, name), obj.currency)

    return admin.display(description=Order._meta.get_field(name).verbose_name)(display)


def _transition_admin_action(name: str, label: str):
    def run(modeladmin, request, queryset):
        done = 0
        for order in queryset:
            try:
                services.order_transition(order=order, action=name, actor=request.user)
                done += 1
            except BusinessError as error:
                modeladmin.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"Готово: {done}.", messages.SUCCESS)

    run.__name__ = f"action_{name}"
    run.short_description = label
    run.allowed_permissions = ("change",)
    return run


@admin.register(Order)
class OrderAdmin(
    ClientPickerAdminMixin, LargeTableAdminMixin, ExcelExportAdminMixin, ExportActionMixin, admin.ModelAdmin
):
    # Export of the selected orders as CSV for Russian Excel (client PD masked without the right).
    resource_classes = [OrderResource]
    change_form_template = "admin/orders/order/change_form.html"  # + the zone boxes' one list
    form = OrderForm
    inlines = [ServiceInline, OrderEventInline]
    list_display = (
        "number_display",
        "status",
        "client",
        "deadline_display",
        "total_display",
        "balance_due_display",
        "warnings_count",
    )
    list_display_links = ("number_display",)
    list_filter = ("status", "operator", "deadline", "trip_start")
    list_select_related = ("client", "operator")
    search_fields = ("number", "client__search_name")
    date_hierarchy = "created_at"
    list_per_page = 50
    readonly_fields = (
        "warnings_display",
        "documents_display",
        "number",
        "status",
        "total_display",
        "commission_display",
        "paid_display",
        "refunded_display",
        "balance_due_display",
        "cost_display",
        "margin_display",
        "supplier_paid_display",
        "supplier_balance_due_display",
        "trip_start",
        "trip_end",
        "created_at",
        "updated_at",
    )
    actions = [
        _transition_admin_action("confirm", "Подтвердить"),
        _transition_admin_action("mark_paid", "Отметить оплаченными"),
        _transition_admin_action("complete", "Завершить"),
        _transition_admin_action("cancel", "Отменить"),
        _transition_admin_action("reopen", "Вернуть в черновик"),
        "mark_paid_with_debt",
    ]

    @admin.action(description=_("Отметить оплаченным при долге (руководитель, с причиной)…"),
                  permissions=["mark_paid_with_debt"])
    def mark_paid_with_debt(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True)[:200])
        return HttpResponseRedirect(reverse("admin:orders_order_paid_override") + f"?ids={ids}")

    def has_mark_paid_with_debt_permission(self, request):
        return request.user.has_perm("orders.mark_paid_with_debt")

    def get_urls(self):
        view = self.admin_site.admin_view(self.paid_override_view)
        add_view = self.admin_site.admin_view(self.travellers_to_services_view)
        return [
            path("paid-override/", view, name="orders_order_paid_override"),
            path("<int:pk>/travellers-to-services/", add_view, name="orders_order_travellers_to_services"),
            *super().get_urls(),
        ]

    def _offer_new_travellers(self, request, order, added) -> None:
        """A traveller added to the order is not yet in the services that list their travellers
        (a service with no list covers everyone): offer to add them with one click."""
        if not added:
            return
        listed = [s for s in order.services.prefetch_related("travellers") if list(s.travellers.all())]
        if not listed:
            return
        names = ", ".join(client.full_name for client in added)
        ids = ",".join(str(client.pk) for client in added)
        url = reverse("admin:orders_order_travellers_to_services", args=[order.pk])
        self.message_user(request, format_html(
            'Добавлены туристы: {}. В услугах заказа ({}) их нет. <form method="post" action="{}" '
            'style="display:inline"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="clients" value="{}"><button type="submit">Добавить их во все услуги'
            "</button></form>",
            names, len(listed), url, get_token(request), ids), messages.WARNING)

    def travellers_to_services_view(self, request, pk):
        order = Order.objects.filter(pk=pk).first()
        if order is None or not self.has_change_permission(request, order):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        wanted = {int(x) for x in (request.POST.get("clients") or "").split(",") if x.isdigit()}
        clients = [c for c in order.travellers.all() if c.pk in wanted]
        done = 0
        try:
            for service in order.services.prefetch_related("travellers").exclude(status="cancelled"):
                current = list(service.travellers.all())
                missing = [c for c in clients if c not in current]
                if current and missing:
                    services.service_update(service=service, data={}, actor=request.user,
                                            travellers=current + missing)
                    done += 1
        except (BusinessError, ValidationError) as error:
            detail = getattr(error, "detail", None) or "; ".join(getattr(error, "messages", [str(error)]))
            self.message_user(request, f"Не добавлено: {detail}", messages.ERROR)
        else:
            self.message_user(request, f"Туристы добавлены в услуги: {done}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def paid_override_view(self, request):
        """A supervisor marks orders paid although money is still owed; the reason goes to the timeline."""
        if not self.has_mark_paid_with_debt_permission(request):
            raise PermissionDenied
        raw = request.POST.get("ids") or request.GET.get("ids") or ""
        orders = list(Order.objects.filter(pk__in=[int(x) for x in raw.split(",") if x.isdigit()][:200]))
        form = PaidOverrideForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            done = 0
            for order in orders:
                try:
                    services.order_transition(order=order, action="mark_paid", actor=request.user,
                                              override_reason=form.cleaned_data["reason"])
                    done += 1
                except BusinessError as error:
                    self.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)
            if done:
                self.message_user(request, f"Отмечено оплаченными: {done}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Отметить оплаченным при долге",
            "opts": self.opts,
            "orders": orders,
            "ids": ",".join(str(order.pk) for order in orders),
            "form": form,
        }
        return TemplateResponse(request, "admin/orders/order/paid_override.html", context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "operator":  # the responsible person is a manager, never an accountant
            kwargs["queryset"] = managers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        main = (
            _("Заказ"),
            {"fields": (("client", "operator"), "travellers", ("currency", "deadline", "offer_valid_until"), "notes",
                        "confirm_warnings")},
        )
        if obj is None:
            return (main,)
        head = (None, {"fields": ("warnings_display", ("number", "status"), "documents_display")})
        money = (
            _("Суммы (считаются автоматически)"),
            {
                "fields": (
                    ("total_display", "commission_display"),
                    ("paid_display", "refunded_display", "balance_due_display"),
                    ("cost_display", "margin_display"),
                    ("supplier_paid_display", "supplier_balance_due_display"),
                    ("trip_start", "trip_end"),
                    ("created_at", "updated_at"),
                )
            },
        )
        return (head, main, money)

    def get_inlines(self, request, obj):
        return [ServiceInline] if obj is None else [ServiceInline, OrderEventInline]

    def get_changeform_initial_data(self, request):
        return {"operator": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_autocomplete_fields(self, request):
        return ("client", "travellers") if _client_admin_searchable() else ()

    def get_raw_id_fields(self, request):
        return () if _client_admin_searchable() else ("client",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)

        class RememberedForm(base):  # the services formset validates against this form's travellers
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                request._order_admin_form = self

        return RememberedForm

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ServiceInline):
            kwargs["order_form"] = getattr(request, "_order_admin_form", None)
        return kwargs

    @admin.display(description=_("номер"), ordering="number")
    def number_display(self, obj):
        return format_html('<span style="white-space:nowrap">{}</span>', obj.number)

    @admin.display(description=_("срок"), ordering="deadline")
    def deadline_display(self, obj):
        if not obj.deadline:
            return "—"
        text = timezone.localtime(obj.deadline).strftime("%d.%m.%Y %H:%M")
        if obj.deadline < timezone.now() and obj.status in ("draft", "confirmed"):
            return format_html('<b style="color:#ba2121;white-space:nowrap">{}</b>', text)
        return format_html('<span style="white-space:nowrap">{}</span>', text)

    @admin.display(description=_("поездка"), ordering="trip_start")
    def trip_display(self, obj):
        if not obj.trip_start:
            return "—"
        start = timezone.localtime(obj.trip_start).strftime("%d.%m.%Y")
        end = timezone.localtime(obj.trip_end).strftime("%d.%m.%Y")
        return format_html('<span style="white-space:nowrap">{} – {}</span>', start, end)

    @admin.display(description=_("сумма"), ordering="total_amount")
    def total_display(self, obj):
        return format_html('<span style="white-space:nowrap">{}</span>', format_money(obj.total_amount, obj.currency))

    @admin.display(description=_("долг"), ordering="balance_due")
    def balance_due_display(self, obj):
        text = format_money(obj.balance_due, obj.currency)
        if obj.status not in SETTLED_STATUSES and obj.balance_due > 0:
            # The one rule of docs/user/accountant.md: a draft owes nothing yet (it is in no debt report).
            return format_html('<span style="white-space:nowrap;color:#666" title="{}">{} (не в долгах)</span>',
                               "Черновик и отменённый заказ в долги не входят", text)
        if obj.balance_due > 0:
            return format_html('<b style="color:#ba2121;white-space:nowrap">{}</b>', text)
        return format_html('<span style="white-space:nowrap">{}</span>', text)

    commission_display = _money_display("commission")
    paid_display = _money_display("paid_amount")
    refunded_display = _money_display("refunded_amount")
    cost_display = _money_display("cost_amount")
    margin_display = _money_display("margin")
    supplier_paid_display = _money_display("supplier_paid_amount")
    supplier_balance_due_display = _money_display("supplier_balance_due")

    @admin.display(description="⚠")
    def warnings_count(self, obj):
        return len(obj.warnings) or ""

    @admin.display(description=_("предупреждения"))
    def warnings_display(self, obj):
        if not obj or not obj.warnings:
            return format_html('<span style="color:#2e7d32">{}</span>', "Замечаний нет.")
        items = format_html_join("", "<li>{}</li>", ((w["message"],) for w in obj.warnings))
        return format_html(
            '<ul style="margin:0;padding:8px 8px 8px 24px;background:#fff4e5;border-left:4px solid #ff9800">{}</ul>',
            items,
        )

    @admin.display(description=_("документы"))
    def documents_display(self, obj):
        if not obj or not obj.pk:
            return ""
        generate = reverse("admin:documents_document_generate")
        listing = reverse("admin:documents_document_changelist")
        return format_html(
            '<a class="button" href="{}?order={}">Сформировать документы</a>&nbsp;'
            '<a href="{}?order={}">Документы заказа</a>',
            generate, obj.pk, listing, obj.pk,
        )

    # --- saving through the services ---

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_formsets = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for inline_formset in inline_formsets:
            if isinstance(inline_formset.opts, ServiceInline):
                inline_formset.__class__ = ServiceAdminFormSet
        return inline_formsets

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The services have the last word: a rule they refuse after the form validated (another
        user changed the order in between) rolls the whole save back — Django's changeform_view
        runs in one transaction — and comes back to the page as a Russian message, not a 500."""
        # The zone boxes' one list of every zone (admin/orders/order/change_form.html writes it).
        extra_context = {**(extra_context or {}), "service_zone_datalist": zone_datalist(tuple(COMMON_TIMEZONES))}
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (BusinessError, ValidationError) as error:
            detail = getattr(error, "detail", None) or "; ".join(getattr(error, "messages", [str(error)]))
            self.message_user(request, f"Не сохранено: {detail} Проверьте заказ и повторите.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data[key] for key in services.ORDER_FIELDS if key in form.cleaned_data}
        travellers = form.cleaned_data.get("travellers", [])
        if change:
            before = set(obj.travellers.values_list("id", flat=True))
            services.order_update(order=obj, data=data, actor=request.user, travellers=travellers)
            self._offer_new_travellers(request, obj, [c for c in travellers if c.pk not in before])
        else:
            created = services.order_create(data=data, actor=request.user, travellers=travellers)
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The order's travellers were saved by save_model; only the inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        # The admin's change message reads these lists; formset.save() is never called.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not isinstance(formset, ServiceFormSet):
            return
        order = form.instance
        for service_form in formset.deleted_forms:
            if service_form.instance.pk:
                services.service_delete(service=service_form.instance, actor=request.user)
                formset.deleted_objects.append(service_form.instance)
        for service_form in formset.forms:
            if service_form in formset.deleted_forms or not service_form.has_changed():
                continue
            data = service_form.service_data()
            travellers = list(service_form.cleaned_data.get("travellers") or [])
            if service_form.instance.pk:
                service = services.service_update(
                    service=service_form.instance, data=data, actor=request.user, travellers=travellers
                )
                formset.changed_objects.append((service, service_form.changed_data))
            else:
                service = services.service_create(
                    order=order, data=data, actor=request.user, travellers=travellers or None
                )
                formset.new_objects.append(service)

    def delete_model(self, request, obj):
        services.order_delete(order=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != "draft":
            return False
        return super().has_delete_permission(request, obj)
