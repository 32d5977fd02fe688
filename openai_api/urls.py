"""Under /v1/: the paths OpenAI's clients call. A trailing slash, or a doubled one from a
base URL that ends in `/` (`/v1//models`), finds them too."""

from django.urls import re_path

from openai_api import views

urlpatterns = [
    re_path(r"^(?:/*)chat/completions/?$", views.chat_completions, name="openai_chat_completions"),
    re_path(r"^(?:/*)models/?$", views.models, name="openai_models"),
    re_path(r"^(?:/*)models/(?P<model_id>.+?)/?$", views.model_detail, name="openai_model"),
    re_path(r"^(?P<path>.*)$", views.unknown),
]
