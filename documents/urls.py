from django.urls import path

from documents import views

urlpatterns = [path("", views.documents_page, name="documents")]
