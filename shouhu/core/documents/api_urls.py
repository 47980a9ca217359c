"""REST routes of documents and attachments, included at /api/v1/ (every view declares `shouhu_access`)."""

from django.urls import URLPattern, URLResolver, path

from shouhu.core.documents import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("documents/", api.DocumentListCreate.as_view(), name="api-documents"),
    path("documents/kinds/", api.DocumentKinds.as_view(), name="api-document-kinds"),
    path("documents/verify/<str:code>/", api.DocumentVerify.as_view(), name="api-document-verify"),
    path("documents/<uuid:pk>/", api.DocumentDetail.as_view(), name="api-document"),
    path("documents/<uuid:pk>/pdf/", api.DocumentPdf.as_view(), name="api-document-pdf"),
    path("attachments/", api.AttachmentListCreate.as_view(), name="api-attachments"),
    path("attachments/<uuid:pk>/", api.AttachmentDetail.as_view(), name="api-attachment"),
    path("attachments/<uuid:pk>/content/", api.AttachmentContent.as_view(), name="api-attachment-content"),
    path("attachments/<uuid:pk>/remove/", api.AttachmentRemove.as_view(), name="api-attachment-remove"),
]
