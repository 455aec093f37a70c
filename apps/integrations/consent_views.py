"""The public consent page a messenger or e-mail sender opens from the first reply."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.integrations import consent
from apps.integrations.webform.views import _framed


@require_http_methods(["GET", "POST"])
def consent_confirm(request, token: str):
    lead = consent.lead_from_token(token)
    if lead is None:
        return render(request, "integrations/consent_confirm.html", {"invalid": True}, status=404)
    text = consent.current_consent_text()
    given = None
    if request.method == "POST":
        given = consent.consent_from_lead(
            lead=lead, channel=lead.source, ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    return _framed(render(request, "integrations/consent_confirm.html", {"text": text, "given": given}))
