"""Pages of documents and attachments, included in the "web" namespace (every view @scoped or @public)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.core.documents import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("verify/", views.verify_page, name="document_verify"),
    path("verify/<str:code>/", views.verify_page, name="document_verify_code"),
    path("documents/<str:kind>/<str:owner_id>/generate/", views.document_generate, name="document_generate"),
    path("documents/<uuid:pk>/", views.document_download, name="document_download"),
    path(
        "attachments/<str:owner_type>/<str:owner_id>/upload/",
        views.attachment_upload,
        name="attachment_upload",
    ),
    path("attachments/<uuid:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<uuid:pk>/remove/", views.attachment_remove, name="attachment_remove"),
]
