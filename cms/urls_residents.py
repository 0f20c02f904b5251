"""The residents' pages (mounted under the language prefixes, see config/urls.py): submitting a
video and its file, a post, and "My submissions"."""

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from cms.views import residents

app_name = "cms"

urlpatterns: list[URLPattern | URLResolver] = [
    path("soumettre/", residents.submit_video, name="submit-video"),
    path("soumettre/<int:pk>/fichier/", residents.submit_upload, name="submit-upload"),
    path("soumettre/article/", residents.submit_post, name="submit-post"),
    path("charte/", residents.charter, name="charter"),
    path("mes-contributions/", residents.my_submissions, name="my-submissions"),
    path("mes-contributions/video/<int:pk>/", residents.my_video, name="my-video"),
    path(
        "mes-contributions/video/<int:pk>/nouveau-fichier/",
        residents.my_video_new_file,
        name="my-video-new-file",
    ),
    path(
        "mes-contributions/video/<int:pk>/etat.json",
        residents.my_video_progress,
        name="my-video-progress",
    ),
    path("mes-contributions/article/<int:pk>/", residents.my_post, name="my-post"),
    path(
        "mes-contributions/article/<int:pk>/image.jpg",
        residents.my_post_image,
        name="my-post-image",
    ),
    # The address the design documents, in English.
    path("submit/", RedirectView.as_view(pattern_name="cms:submit-video"), name="submit"),
]
