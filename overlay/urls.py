from django.urls import path

from overlay import views

urlpatterns = [path("", views.overlay_page, name="overlay")]
