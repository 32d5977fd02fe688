from django.urls import path

from persona import views

urlpatterns = [
    path("avatar/<str:version>.png", views.avatar, name="persona-avatar"),
]
