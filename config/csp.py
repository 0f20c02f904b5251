"""Content-Security-Policy per area: a strict one for the public site and the TV player,
a looser one for the Wagtail admin, whose pages rely on inline scripts."""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

ADMIN_PREFIXES = ("/admin/", "/django-admin/")


class PathAwareCSPMiddleware(CSPMiddleware):
    """Send ``CARILLON_ADMIN_CSP`` under the admin and ``CONTENT_SECURITY_POLICY`` elsewhere."""

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None and request.path.startswith(ADMIN_PREFIXES):
            parts.config = dict(settings.CARILLON_ADMIN_CSP["DIRECTIVES"])
        return parts
