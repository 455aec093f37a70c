"""JSON input is held to its documented types (travelcrm.api.StrictCharField / StrictBooleanField):
a number is not text, "0" / 1 is not a boolean. Form and multipart bodies and query strings carry
only text, so there DRF's reading of "true" / "on" / "1" still applies."""

import pytest
from django.http import QueryDict
from rest_framework import serializers

from apps.clients.api.serializers import ClientSerializer
from apps.documents.api.serializers import TemplateUploadSerializer
from apps.integrations.api.serializers import IntegrationSerializer
from apps.leads.api.serializers import LeadRejectSerializer
from travelcrm.api import BaseModelSerializer, StrictBooleanField, StrictCharField


class _Input(serializers.Serializer):
    text = StrictCharField(required=False)
    flag = StrictBooleanField(required=False)


@pytest.mark.parametrize("value", [5, 1.5, True, ["a"], {"a": 1}])
def test_json_text_field_refuses_a_non_string(value):
    serializer = _Input(data={"text": value})
    assert not serializer.is_valid()
    assert serializer.errors["text"] == ["Ожидается строка."]


@pytest.mark.parametrize("value", ["0", "1", 0, 1, "true", "yes", None])
def test_json_boolean_field_takes_only_true_or_false(value):
    serializer = _Input(data={"flag": value})
    assert not serializer.is_valid()
    assert serializer.errors["flag"]


@pytest.mark.parametrize("value", [True, False])
def test_json_boolean_field_takes_a_boolean(value):
    serializer = _Input(data={"flag": value, "text": "Иванов"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"flag": value, "text": "Иванов"}


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("on", True), ("1", True), ("false", False), ("0", False)]
)
def test_form_and_query_string_booleans_still_parse(raw, expected):
    serializer = _Input(data=QueryDict(f"flag={raw}&text=5"))
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"flag": expected, "text": "5"}


def test_model_serializers_map_model_text_and_booleans_to_the_strict_fields():
    from apps.documents.models import DocumentTemplateVersion

    class _Version(BaseModelSerializer):
        class Meta:
            model = DocumentTemplateVersion
            fields = ["comment", "is_active"]

    fields = _Version().fields
    assert type(fields["comment"]) is StrictCharField
    assert type(fields["is_active"]) is StrictBooleanField


@pytest.mark.django_db
def test_the_fields_schemathesis_found_are_strict():
    """clients `notes`, a lead's rejection `reason`, a template upload's `activate`."""
    client = ClientSerializer(data={"notes": 5}, partial=True)
    assert not client.is_valid() and client.errors["notes"] == ["Ожидается строка."]
    reject = LeadRejectSerializer(data={"reason": 5})
    assert not reject.is_valid() and reject.errors["reason"] == ["Ожидается строка."]
    upload = TemplateUploadSerializer(data={"activate": "0"})
    assert not upload.is_valid() and upload.errors["activate"]


def test_integration_smtp_from_is_plain_text_in_the_schema():
    """Empty until set ("" — the SMTP user sends), like a lead's contact_email: no `format: email`."""
    field = IntegrationSerializer().fields["smtp_from"]
    assert type(field) is StrictCharField and field.read_only
