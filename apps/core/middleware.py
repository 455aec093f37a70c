"""Admin page titles in the right grammatical case («Изменить заявку», not «Изменить заявка»).

Django composes the titles from a model's verbose_name; this rewrites them (before the template is
rendered) from apps.core.wordforms for the add/change/view pages and the lists, for every app.
"""

from apps.core import wordforms


class AdminRussianTitlesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        return russian_titles(request, response)


def russian_titles(request, response):
    """Rewrite the admin titles of a not yet rendered TemplateResponse (an admin that renders its
    response itself, as the lead admin does, calls this first)."""
    context = getattr(response, "context_data", None)
    opts = context.get("opts") if isinstance(context, dict) else None
    if opts is None or not request.path.startswith("/admin/"):
        return response
    changelist = context.get("cl")
    if changelist is not None and context.get("title") == getattr(changelist, "title", None):
        title = wordforms.list_title(opts.verbose_name_plural)
        changelist.title = context["title"] = title
    elif "adminform" in context and "add" in context:
        if context["add"]:
            context["title"] = wordforms.add_title(opts.verbose_name)
        elif context.get("has_change_permission"):
            context["title"] = wordforms.change_title(opts.verbose_name)
        else:
            context["title"] = wordforms.view_title(opts.verbose_name)
    return response
