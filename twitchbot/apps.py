from django.apps import AppConfig


class TwitchBotConfig(AppConfig):
    name = "twitchbot"
    verbose_name = "Twitch bot"
