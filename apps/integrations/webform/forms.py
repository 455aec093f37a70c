"""The public lead form (Russian): one validation for the HTML page and the JSON endpoint."""

import phonenumbers
from django import forms
from django.utils import timezone

MAX_WISHES = 5000


class LeadForm(forms.Form):
    name = forms.CharField(label="Как к вам обращаться", max_length=200)
    phone = forms.CharField(label="Телефон", max_length=32, required=False)
    email = forms.EmailField(label="Электронная почта", max_length=254, required=False)
    wishes = forms.CharField(
        label="Пожелания к поездке", max_length=MAX_WISHES, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    date_from = forms.DateField(
        label="Дата начала поездки", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="Дата окончания поездки", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    consent = forms.BooleanField(
        label="Я согласен(на) на обработку персональных данных",
        error_messages={"required": "Без согласия на обработку персональных данных мы не можем принять заявку."},
    )
    # Honeypot: hidden from people by CSS; bots fill every field.
    website = forms.CharField(label="Сайт", required=False, max_length=200)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Укажите имя.")
        return name

    def clean_consent(self):
        # A yes is the checkbox's own value ("on") or JSON true, never "no", "0" or "off"
        # (which a plain BooleanField would read as True).
        raw = self.data.get("consent")
        if raw is not True and raw != "on":
            raise forms.ValidationError(self.fields["consent"].error_messages["required"])
        return True

    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        try:
            number = phonenumbers.parse(raw, "RU")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError("Укажите телефон в формате +7 999 123-45-67.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean(self):
        data = super().clean()
        if (
            not data.get("phone")
            and not data.get("email")
            and not self.has_error("phone")
            and not self.has_error("email")
        ):
            self.add_error("phone", "Укажите телефон или электронную почту, чтобы мы могли связаться с вами.")
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_from < timezone.localdate():
            self.add_error("date_from", "Дата начала поездки уже прошла.")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", "Дата окончания раньше даты начала.")
        return data

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def payload(self, *, ip: str | None, user_agent: str = "") -> dict:
        data = self.cleaned_data
        return {
            "form": {
                "name": data["name"],
                "phone": data.get("phone", ""),
                "email": (data.get("email") or "").lower(),
                "wishes": data.get("wishes", ""),
                "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
                "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
            },
            "consent": consent_evidence(ip=ip, user_agent=user_agent),
        }


def consent_evidence(*, ip: str | None, user_agent: str = "") -> dict:
    """What the submission proves about the consent: the exact text shown (the current consent text,
    named by version and SHA-256), when, from which address and browser. Stored in the inbox item's
    (encrypted) payload; the handler writes it to the consent registry with the lead."""
    from apps.documents.consent import current_consent_text

    text = current_consent_text()
    return {"text_version": text.version, "text_sha256": text.sha256, "given_at": timezone.now().isoformat(),
            "ip": ip, "user_agent": (user_agent or "")[:500]}
