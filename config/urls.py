"""Top-level URLs. Public pages are French at ``/`` and English under ``/en/``."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import urls_residents, urls_site
from config import health

# The residents' pages and the site's share the namespace "cms" (``cms:profile``,
# ``cms:submit-video``...), whichever module holds them.
cms_urls: list[URLPattern | URLResolver] = [*urls_residents.urlpatterns, *urls_site.urlpatterns]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v1/uploads/", include("cms.urls_uploads")),
    path("api/v1/feeds/", include("city_feeds.urls")),
    path("api/v1/", include("playlists.urls")),
    path("", include("broadcasting.urls")),
    path("", include("broadcasting.urls_tv")),
    # Editors sign in through the residents' login: one throttled login for everyone.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="admin-login",
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.PUBLIC_MEDIA_URL, document_root=settings.MEDIA_ROOT / "public")

urlpatterns += i18n_patterns(
    path("comptes/", include("allauth.urls")),
    path("", include((cms_urls, "cms"))),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
