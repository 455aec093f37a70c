"""{% new_leads_badge %}: the header's notice of new leads for the logged-in manager (one bounded
query on every admin page; the «Сегодня» page lists them)."""

from django import template
from django.urls import reverse

from apps.leads.selectors import new_leads_for

register = template.Library()
BADGE_CAP = 99


@register.inclusion_tag("admin/leads/new_leads_badge.html", takes_context=True)
def new_leads_badge(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("leads.view_lead"):
        return {"count": 0}
    # Bounded like every count of the admin (no COUNT over the whole table): «99+» past the cap.
    found = len(new_leads_for(user).order_by().values_list("pk", flat=True)[:BADGE_CAP + 1])  # no sort: stops at 100
    count = f"{BADGE_CAP}+" if found > BADGE_CAP else found
    return {"count": count, "url": reverse("admin:leads_lead_changelist") + "?status__exact=new"}
