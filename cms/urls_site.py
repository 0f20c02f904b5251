"""URLs of the site (see config/urls.py for where they are mounted): the resident's profile and
what published videos and posts need besides their pages (those are Wagtail routable pages)."""

from django.urls import URLPattern, URLResolver, path

from cms.views import profile, site

urlpatterns: list[URLPattern | URLResolver] = [
    path("profil/", profile.profile, name="profile"),
    path("sous-titres/<str:public_key>.vtt", site.video_subtitles, name="video-subtitles"),
    path("images/publications/<str:public_key>/", site.post_image, name="post-image"),
]
