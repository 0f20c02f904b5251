"""The tus 1.0 endpoint for resumable uploads (mounted at ``/api/v1/uploads/`` in config/urls.py)."""

from django.urls import URLPattern, URLResolver, path

from cms.views.uploads import UploadsView, UploadView, tus_endpoint

app_name = "uploads"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", tus_endpoint(UploadsView.as_view()), name="uploads"),
    path("<uuid:upload_id>", tus_endpoint(UploadView.as_view()), name="upload"),
]
