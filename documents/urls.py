from django.urls import path

from documents import views

urlpatterns = [
    path("", views.documents_page, name="documents"),
    path("<int:document_id>/", views.document_page, name="document"),
]
